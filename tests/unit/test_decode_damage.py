"""Pure pieces of damage concealment and ``--extensions '*'``: counting, limits, what is video."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import av
import pytest

from transforms.errors import (
    CorruptMediaError,
    DecodeTimeoutError,
    EmptyFileError,
    NoVideoStreamError,
    SourceVanishedError,
)
from transforms.media.damage import NO_LIMIT, DecodeErrors, decode_packet, demux_packets
from transforms.media.probe import is_not_video
from transforms.media.timebase import average_rate, frame_rate
from transforms.paths import ANY_EXTENSION, has_video_extension, is_wanted, parse_extensions


def _invalid() -> av.error.InvalidDataError:
    return av.error.InvalidDataError(1094995529, "Invalid data found when processing input")


def test_damage_is_counted_per_stream_kind_without_limit():
    errors = DecodeErrors(NO_LIMIT, source="x.avi")
    for _ in range(5):
        errors.add("audio", _invalid(), 1.0)
    errors.add("video", _invalid())
    assert errors.as_dict() == {"video": 1, "audio": 5}
    assert errors.total == 6
    errors.merge({"video": 2})
    assert errors.as_dict() == {"video": 3, "audio": 5}


def test_past_the_limit_the_pass_fails():
    errors = DecodeErrors(max_errors=2, source="x.mkv")
    errors.add("video", _invalid())
    errors.add("audio", _invalid())
    with pytest.raises(CorruptMediaError, match="more than 2 damaged packets"):
        errors.add("audio", _invalid())
    with pytest.raises(CorruptMediaError):
        DecodeErrors(max_errors=0).add("video", _invalid())


class _Packet:
    def __init__(self, outcome, kind="audio"):
        self._outcome = outcome
        self.stream = SimpleNamespace(type=kind)
        self.pts, self.dts, self.time_base = 48000, None, Fraction(1, 48000)

    def decode(self):
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome


def test_a_rejected_packet_gives_no_frames_and_is_counted():
    errors = DecodeErrors()
    assert decode_packet(_Packet(["f1", "f2"]), errors) == ["f1", "f2"]
    assert decode_packet(_Packet(_invalid()), errors) == []
    assert decode_packet(_Packet(av.error.UndefinedError(-84085770, "ac3")), errors) == []
    assert errors.as_dict() == {"video": 0, "audio": 2}
    with pytest.raises(av.error.InvalidDataError):  # without a count: raised as it is
        decode_packet(_Packet(_invalid()), None)
    with pytest.raises(MemoryError):  # not damage: never concealed
        decode_packet(_Packet(av.error.MemoryError(12, "oom")), errors)


def test_a_demuxer_that_cannot_read_on_ends_the_input_there():
    def packets():
        yield _Packet([])
        raise _invalid()

    container = SimpleNamespace(demux=lambda *streams: packets())
    stream = SimpleNamespace(type="video")
    errors = DecodeErrors()
    assert len(list(demux_packets(container, [stream], errors))) == 1
    assert errors.as_dict()["video"] == 1
    with pytest.raises(av.error.InvalidDataError):
        list(demux_packets(container, [stream], None))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (NoVideoStreamError("audio only"), True),
        (EmptyFileError("0 bytes"), True),
        (CorruptMediaError("no frame size"), True),
        (_invalid(), True),
        (DecodeTimeoutError("slow"), False),
        (SourceVanishedError("gone"), False),
        (OSError("disk"), False),
    ],
)
def test_what_counts_as_not_video(exc, expected):
    assert is_not_video(exc) is expected


def test_any_extension_takes_every_visible_finished_file():
    exts = parse_extensions(" * ")
    assert exts == (ANY_EXTENSION,)
    assert is_wanted("/nas/day1/IMG_0001.JPG", exts)
    assert is_wanted("/nas/day1/README", exts)
    assert not is_wanted("/nas/day1/.DS_Store", exts)
    assert not is_wanted("/nas/day1/upload.mp4.part", exts)
    assert not is_wanted("/nas/day1/IMG_0001.JPG", parse_extensions("mp4,mov"))
    assert has_video_extension("gs://b/day1/A001.M2TS") and not has_video_extension("/a/b.xmp")


def test_a_tick_rate_stated_as_average_is_no_frame_rate():
    dv = SimpleNamespace(
        average_rate=Fraction(60000),
        guessed_rate=Fraction(25),
        base_rate=Fraction(25),
        time_base=Fraction(1, 60000),
    )
    assert average_rate(dv) is None and frame_rate(dv) == 25
    mp4 = SimpleNamespace(
        average_rate=Fraction(30000, 1001),
        guessed_rate=Fraction(30000, 1001),
        base_rate=Fraction(30000, 1001),
        time_base=Fraction(1, 30000),
    )
    assert average_rate(mp4) == Fraction(30000, 1001) == frame_rate(mp4)
