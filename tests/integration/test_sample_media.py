"""Tests for tests.helpers.media: every generator is read back with real PyAV."""

from __future__ import annotations

import dataclasses
import os
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers import media as sm

pytestmark = pytest.mark.integration


# --------------------------------------------------------------------------------------------
# Read-back helpers
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Probe:
    """What PyAV reads back from a file."""

    format_name: str
    container_duration_s: float | None
    width: int
    height: int
    codec: str
    pix_fmt: str | None
    average_rate: Fraction | None
    stream_sar: Fraction | None
    codec_sar: Fraction | None
    pts_s: list[Fraction]
    keyframes: list[int]
    rotation: int
    audio_codec: str | None = None
    audio_rate: int | None = None
    audio_channels: int | None = None
    audio_duration_s: float | None = None

    @property
    def frame_count(self) -> int:
        return len(self.pts_s)

    @property
    def duration_s(self) -> float:
        """Last timestamp plus the mean gap."""
        if len(self.pts_s) < 2:
            return float(self.container_duration_s or 0.0)
        gap = (self.pts_s[-1] - self.pts_s[0]) / (len(self.pts_s) - 1)
        return float(self.pts_s[-1] + gap)


def probe(path: Path) -> Probe:
    """Demux (not decode) the video packets, decode one frame for rotation, decode the audio."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        packets = sorted((p for p in container.demux(video) if p.size), key=lambda p: p.pts)
        tb = video.time_base
        assert tb is not None
        info = {
            "format_name": container.format.name,
            "container_duration_s": container.duration / 1e6 if container.duration else None,
            "width": video.width,
            "height": video.height,
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "average_rate": video.average_rate,
            "stream_sar": video.sample_aspect_ratio,
            "codec_sar": video.codec_context.sample_aspect_ratio,
            "pts_s": [p.pts * tb for p in packets],
            "keyframes": [i for i, p in enumerate(packets) if p.is_keyframe],
        }
    with av.open(str(path)) as container:
        info["rotation"] = next(container.decode(video=0)).rotation
        if container.streams.audio:
            audio = container.streams.audio[0]
            if audio.duration is not None and audio.time_base is not None:
                seconds = float(audio.duration * audio.time_base)
            else:  # Matroska has no per-stream duration: count the decoded samples
                seconds = sum(frame.samples for frame in container.decode(audio)) / audio.rate
            info.update(
                audio_codec=audio.codec_context.name,
                audio_rate=audio.rate,
                audio_channels=audio.channels,
                audio_duration_s=seconds,
            )
    return Probe(**info)


def gray_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray").astype(np.int16) for f in container.decode(video=0)]


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two pictures."""
    return float(np.abs(a - b).mean())


def assert_matches_truth(p: Probe, truth: sm.ClipTruth) -> None:
    frame = 1 / float(truth.fps)
    assert (p.width, p.height) == (truth.width, truth.height)
    assert p.pix_fmt == truth.pix_fmt
    assert p.frame_count == truth.frame_count
    assert abs(p.duration_s - truth.duration_s) <= frame
    assert p.rotation == truth.frame_rotation
    assert sm.clockwise_rotation(p.rotation) == truth.rotation_deg
    assert (p.audio_codec is not None) == truth.has_audio
    if truth.has_audio:
        assert p.audio_rate == truth.audio_rate
        assert p.audio_channels == truth.audio_channels
        assert truth.audio_duration_s is not None and p.audio_duration_s is not None
        assert abs(p.audio_duration_s - truth.audio_duration_s) <= frame
        assert abs(p.audio_duration_s - truth.duration_s) <= frame
    if not truth.is_vfr:
        assert p.average_rate == truth.fps
        # Frame i at i / fps exactly (Matroska stores milliseconds).
        expected = [i / truth.fps for i in range(truth.frame_count)]
        assert all(abs(t - e) <= Fraction(1, 1000) for t, e in zip(p.pts_s, expected, strict=True))


@pytest.fixture(scope="module")
def media_dir() -> Path:
    return sm.shared_media_dir()


# --------------------------------------------------------------------------------------------
# The real clips made from the pinned footage
# --------------------------------------------------------------------------------------------


def test_real_clips_truth(media_dir: Path) -> None:
    dance = probe(media_dir / sm.POSE_DANCE)
    assert (dance.width, dance.height, dance.frame_count, dance.average_rate) == (600, 338, 42, 10)
    assert (dance.codec, dance.audio_codec, dance.rotation) == ("h264", None, 0)
    assert dance.container_duration_s == pytest.approx(4.2)
    small = probe(media_dir / sm.POSE_DANCE_SMALL)
    assert (small.width, small.height, small.frame_count, small.average_rate) == (320, 180, 21, 5)
    assert small.container_duration_s == pytest.approx(4.2)


def test_shared_media_dir_from_an_override_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, media_dir: Path
) -> None:
    """With REELBEAM_SHARED_MEDIA, the clips are made from that folder's footage, no fetch."""
    local = tmp_path / "footage"
    local.mkdir()
    for name in sm.load_sources():
        (local / name).write_bytes(sm.footage_path(name).read_bytes())
    monkeypatch.setenv(sm.ENV_SHARED_MEDIA, str(local))
    monkeypatch.setenv(sm.ENV_CACHE, str(tmp_path / "cache"))
    folder = sm.shared_media_dir()
    assert folder.is_relative_to(tmp_path / "cache")
    made, cached = probe(folder / sm.POSE_DANCE), probe(media_dir / sm.POSE_DANCE)
    assert (made.width, made.height, made.frame_count) == (cached.width, cached.height, 42)
    assert not (tmp_path / "cache" / "footage").exists()  # nothing fetched or copied


def test_shared_media_dir_override_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sm.ENV_SHARED_MEDIA, str(tmp_path / "nowhere"))
    monkeypatch.setenv(sm.ENV_CACHE, str(tmp_path / "cache"))
    with pytest.raises(sm.FootageError, match=sm.ENV_SHARED_MEDIA):
        sm.shared_media_dir()


def test_shared_media_unknown_name(media_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no real clip"):
        sm.shared_media("pose_1.mp4")


# --------------------------------------------------------------------------------------------
# Synthetic clips
# --------------------------------------------------------------------------------------------


def test_synthetic_defaults(tmp_path: Path) -> None:
    truth = sm.write_synthetic_clip(tmp_path / "clip.mp4", duration_s=2.0)
    assert truth == sm.ClipTruth(
        width=320,
        height=240,
        fps=Fraction(25),
        frame_count=50,
        duration_s=2.0,
        rotation_deg=0,
        sar=(1, 1),
        has_audio=False,
        audio_rate=None,
        audio_channels=None,
        codec="libx264",
        pix_fmt="yuv420p",
        is_vfr=False,
    )
    p = probe(tmp_path / "clip.mp4")
    assert_matches_truth(p, truth)
    assert p.codec == "h264"
    assert p.container_duration_s == pytest.approx(2.0)
    assert p.stream_sar in (None, 1)
    assert not list(tmp_path.glob(".*")), "temporary files left behind"


@pytest.mark.parametrize(("rotation", "ext"), [(90, ".mp4"), (180, ".mov"), (270, ".mkv")])
def test_synthetic_rotation(tmp_path: Path, rotation: int, ext: str) -> None:
    path = tmp_path / f"rot{rotation}{ext}"
    truth = sm.write_synthetic_clip(
        path, duration_s=0.4, width=96, height=64, rotation_deg=rotation
    )
    p = probe(path)
    assert_matches_truth(p, truth)
    assert p.rotation == {90: -90, 180: -180, 270: 90}[rotation]
    # Rotating the stored frame clockwise by rotation_deg shows the picture upright, with the
    # red marker in its top-left corner.
    with av.open(str(path)) as container:
        stored = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    upright = np.rot90(stored, k=-rotation // 90)
    assert upright.shape[:2] == (truth.display_height, truth.display_width)
    red, green, blue = upright[2, 2]
    assert red > 150 and green < 100 and blue < 100
    assert upright[-3, -3, 1] > 100  # the opposite corner is not red


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_synthetic_sar(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"anamorphic{ext}"
    truth = sm.write_synthetic_clip(path, duration_s=0.4, width=144, height=108, sar=(4, 3))
    assert truth.sar == (4, 3)
    p = probe(path)
    assert_matches_truth(p, truth)
    assert p.stream_sar == Fraction(4, 3)
    assert p.codec_sar == Fraction(4, 3)
    with av.open(str(path)) as container:
        assert container.streams.video[0].display_aspect_ratio == Fraction(16, 9)


def test_synthetic_sar_unsupported(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="non-square"):
        sm.write_synthetic_clip(tmp_path / "a.webm", duration_s=0.2, sar=(4, 3))


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_synthetic_vfr(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"vfr{ext}"
    truth = sm.write_synthetic_clip(path, duration_s=2.0, fps=20, vfr=True)
    assert truth.is_vfr and truth.frame_count == 40 and truth.duration_s == 2.0
    p = probe(path)
    assert_matches_truth(p, truth)
    gaps = [b - a for a, b in pairwise(p.pts_s)]
    # Gaps alternate 1/30 s and 1/15 s (Matroska rounds them to milliseconds).
    assert all(abs(g - Fraction(1, 30)) < 0.001 for g in gaps[0::2])
    assert all(abs(g - Fraction(1, 15)) < 0.001 for g in gaps[1::2])
    assert p.average_rate is not None and abs(p.average_rate - 20) < 0.01


@pytest.mark.parametrize(("rate", "channels"), [(48000, 2), (44100, 1)])
def test_synthetic_audio(tmp_path: Path, rate: int, channels: int) -> None:
    path = tmp_path / "audio.mp4"
    truth = sm.write_synthetic_clip(
        path, duration_s=1.6, audio=True, audio_rate=rate, audio_channels=channels
    )
    assert truth.audio_codec == "aac" and truth.audio_duration_s == 1.6
    p = probe(path)
    assert_matches_truth(p, truth)
    assert p.audio_codec == "aac"
    assert p.audio_duration_s == pytest.approx(1.6, abs=1e-6)  # the MP4 edit list is exact
    assert p.container_duration_s == pytest.approx(1.6, abs=1e-6)


@pytest.mark.parametrize(
    ("pix_fmt", "width", "height"),
    [("yuv420p10le", 160, 120), ("yuv422p", 160, 120), ("yuv444p", 321, 241)],
)
def test_synthetic_pix_fmts(tmp_path: Path, pix_fmt: str, width: int, height: int) -> None:
    path = tmp_path / f"{pix_fmt}.mp4"
    truth = sm.write_synthetic_clip(
        path, duration_s=0.4, width=width, height=height, pix_fmt=pix_fmt
    )
    assert_matches_truth(probe(path), truth)


def test_synthetic_odd_size_needs_444(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="yuv444p"):
        sm.write_synthetic_clip(tmp_path / "odd.mp4", duration_s=0.2, width=321, height=241)
    assert not list(tmp_path.iterdir())


def test_synthetic_webm_and_mov(tmp_path: Path) -> None:
    webm = sm.write_synthetic_clip(
        tmp_path / "c.webm", duration_s=0.6, width=65, height=49, audio=True
    )
    assert (webm.codec, webm.audio_codec) == ("libvpx-vp9", "libopus")
    p = probe(tmp_path / "c.webm")
    assert_matches_truth(p, webm)
    assert (p.format_name, p.codec, p.audio_codec) == ("matroska,webm", "vp9", "opus")

    mov = sm.write_synthetic_clip(tmp_path / "c.mov", duration_s=0.6, audio=True)
    p = probe(tmp_path / "c.mov")
    assert_matches_truth(p, mov)
    with av.open(str(tmp_path / "c.mov")) as container:
        assert container.streams.video[0].codec_context.codec_tag == "avc1"
        assert container.format.name.startswith("mov")


def test_synthetic_gop_size(tmp_path: Path) -> None:
    truth = sm.write_synthetic_clip(tmp_path / "gop.mp4", duration_s=2.0, gop_size=10)
    p = probe(tmp_path / "gop.mp4")
    assert_matches_truth(p, truth)
    assert p.keyframes == [0, 10, 20, 30, 40]


def test_synthetic_patterns(tmp_path: Path) -> None:
    for pattern in ("static", "moving_box", "noise"):
        sm.write_synthetic_clip(tmp_path / f"{pattern}.mp4", duration_s=0.4, pattern=pattern)
    static = gray_frames(tmp_path / "static.mp4")
    assert max(mad(static[0], f) for f in static) < 1.0
    moving = gray_frames(tmp_path / "moving_box.mp4")
    assert all(mad(a, b) > 0.5 for a, b in pairwise(moving))
    noise = gray_frames(tmp_path / "noise.mp4")
    assert all(mad(a, b) > 20 for a, b in pairwise(noise))


def test_synthetic_deterministic(tmp_path: Path) -> None:
    kwargs = {"duration_s": 0.5, "audio": True, "rotation_deg": 90, "pattern": "noise"}
    sm.write_synthetic_clip(tmp_path / "a.mp4", **kwargs)  # type: ignore[arg-type]
    sm.write_synthetic_clip(tmp_path / "b.mp4", **kwargs)  # type: ignore[arg-type]
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


# --------------------------------------------------------------------------------------------
# Audio only and garbage
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".m4a", ".mp4"])
def test_audio_only(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"tone{ext}"
    truth = sm.write_audio_only(path, 1.3, rate=44100, channels=1)
    assert truth == sm.AudioTruth(1.3, 44100, 1, "aac", 57330)
    with av.open(str(path)) as container:
        assert not container.streams.video
        audio = container.streams.audio[0]
        assert (audio.codec_context.name, audio.rate, audio.channels) == ("aac", 44100, 1)
        assert audio.duration is not None and audio.time_base is not None
        assert audio.duration * audio.time_base == Fraction(57330, 44100)
        samples = sum(frame.samples for frame in container.decode(audio))
    # The decoder drops the encoder's priming but pads the end to a whole AAC frame.
    assert 0 <= samples - truth.sample_count < 1024


@pytest.mark.parametrize("kind", ["zero", "text", "truncated"])
def test_garbage_does_not_open(tmp_path: Path, kind: str) -> None:
    path = sm.write_garbage(tmp_path / f"{kind}.mp4", kind)  # type: ignore[arg-type]
    assert path.is_file() and path.stat().st_size < 100_000
    assert (path.stat().st_size == 0) == (kind == "zero")
    with pytest.raises(av.error.InvalidDataError):
        av.open(str(path)).close()


def test_garbage_truncated_source(tmp_path: Path) -> None:
    sm.write_synthetic_clip(tmp_path / "ok.mp4", duration_s=0.4)
    size = (tmp_path / "ok.mp4").stat().st_size
    path = sm.write_garbage(
        tmp_path / "cut.mp4", "truncated", source=tmp_path / "ok.mp4", keep_fraction=0.3
    )
    assert path.stat().st_size == int(size * 0.3)
    assert path.read_bytes() == (tmp_path / "ok.mp4").read_bytes()[: int(size * 0.3)]


def test_garbage_png(tmp_path: Path) -> None:
    path = sm.write_garbage(tmp_path / "picture.mp4", "png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # FFmpeg sniffs the content: a single PNG image, not an MP4.
    with av.open(str(path)) as container:
        assert container.format.name == "png_pipe"
        assert len(list(container.decode(video=0))) == 1


def test_garbage_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown"):
        sm.write_garbage(tmp_path / "x.mp4", "bogus")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Freeze / motion clips from real footage
# --------------------------------------------------------------------------------------------


def test_freeze_play_freeze_dance(tmp_path: Path, media_dir: Path) -> None:
    path = tmp_path / "dance.mp4"
    plan: list[sm.PlanStep] = [("freeze", 3.0), ("play", None), ("freeze", 3.0)]
    truth = sm.write_freeze_motion_clip(path, media_dir / sm.POSE_DANCE, plan, size=160)
    assert truth == [(3.0, 7.2)]

    p = probe(path)
    assert (p.width, p.height, p.pix_fmt, p.codec) == (160, 90, "yuv420p", "h264")
    assert p.average_rate == 10
    assert p.pts_s == [Fraction(i, 10) for i in range(102)]
    assert p.container_duration_s == pytest.approx(10.2)

    frames = gray_frames(path)
    first = frames[0]
    # The leading freeze holds the source's first frame; both freezes are still.
    with av.open(str(media_dir / sm.POSE_DANCE)) as container:
        source_first = next(container.decode(video=0))
        source_first = source_first.reformat(160, 90, "gray").to_ndarray().astype(np.int16)
    assert mad(first, source_first) < 3.0
    assert max(mad(first, f) for f in frames[:30]) < 1.0
    assert max(mad(frames[72], f) for f in frames[72:]) < 1.0
    # Motion plays in between: frames change, and the clip ends far from where it began.
    play_diffs = [mad(a, b) for a, b in pairwise(frames[30:72])]
    assert all(np.any(a != b) for a, b in pairwise(frames[30:72]))
    assert np.mean(play_diffs) > 10 * max(mad(a, b) for a, b in pairwise(frames[:30]))
    assert mad(frames[30], frames[50]) > 1.0


def test_freeze_motion_steps(tmp_path: Path, media_dir: Path) -> None:
    path = tmp_path / "steps.mov"
    plan: list[sm.PlanStep] = [
        ("black", 1.0),
        ("freeze", 0.5),
        ("noise", 1.0),
        ("freeze", 1.0),
        ("play", (1.0, 2.5)),
        ("play", (3.0, 3.5)),
        ("freeze", 1.0),
        ("play", None),
    ]
    truth = sm.write_freeze_motion_clip(
        path, media_dir / sm.POSE_DANCE_SMALL, plan, fps=10, size=(120, 120), audio=True
    )
    assert truth == [(3.5, 5.5), (6.5, 10.7)]

    p = probe(path)
    assert (p.width, p.height) == (120, 68)  # 320x180 fit in 120x120, even sizes
    assert p.frame_count == 107 and p.average_rate == 10
    assert p.pts_s == [Fraction(i, 10) for i in range(107)]
    assert (p.audio_codec, p.audio_rate, p.audio_channels) == ("aac", 48000, 2)
    assert p.audio_duration_s == pytest.approx(10.7, abs=0.1)

    f = gray_frames(path)
    assert max(float(x.mean()) for x in f[:15]) < 20  # black, then a freeze of black
    assert all(mad(a, b) > 20 for a, b in pairwise(f[15:25]))  # moving noise
    assert max(mad(f[24], x) for x in f[25:35]) < 1.0  # freeze holds the last noise frame
    assert mad(f[34], f[35]) > 20  # cut from noise to the footage
    # Source 5 fps played at 10 fps: each source frame shows twice, and they change pairwise.
    assert all(mad(f[i], f[i + 1]) < 1.0 for i in range(35, 49, 2))
    assert all(mad(f[i], f[i + 2]) > 0.3 for i in range(35, 47, 2))
    assert max(mad(f[55], x) for x in f[55:65]) < 1.0  # second freeze


@pytest.mark.parametrize(
    ("plan", "match"),
    [
        ([("play", (0.0, 99.0))], "outside"),
        ([("freeze", 0.0)], "positive"),
        ([("spin", 1.0)], "unknown"),
        ([], "no frames"),
    ],
)
def test_freeze_motion_bad_plan(
    tmp_path: Path, media_dir: Path, plan: list[sm.PlanStep], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        sm.write_freeze_motion_clip(tmp_path / "x.mp4", media_dir / sm.POSE_DANCE, plan, size=64)
    assert not (tmp_path / "x.mp4").exists()


# --------------------------------------------------------------------------------------------
# The sample archive
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, media_dir: Path) -> list[Path]:
    return sm.build_sample(tmp_path_factory.mktemp("sample"))


def test_build_sample_layout(sample: list[Path], media_dir: Path) -> None:
    root = sample[0].parents[2]
    assert [p.relative_to(root).as_posix() for p in sample] == [
        "dance/day1/cam1.mp4",
        "dance/day1/cam2.mp4",
        "dance/day2/cam1.mov",
        "synthetic/day1/rotated_phone.mp4",
    ]
    copy = (media_dir / sm.POSE_DANCE_SMALL).read_bytes()
    assert (root / "dance/day1/cam2.mp4").read_bytes() == copy
    probes = [probe(p) for p in sample]
    total = sum(p.duration_s for p in probes)
    assert 25 < total < 35

    dance, small, cam2, phone = probes
    assert (dance.width, dance.height, dance.frame_count, dance.audio_codec) == (
        600,
        338,
        82,
        None,
    )
    assert (small.width, small.height, small.frame_count) == (320, 180, 21)
    assert (cam2.width, cam2.height, cam2.frame_count, cam2.average_rate) == (320, 180, 124, 10)
    assert cam2.format_name.startswith("mov") and cam2.audio_codec == "aac"
    assert cam2.audio_duration_s == pytest.approx(12.4, abs=0.1)
    assert (phone.width, phone.height, phone.rotation, phone.audio_codec) == (320, 180, -90, "aac")
    assert sm.clockwise_rotation(phone.rotation) == 90


def test_build_sample_is_idempotent(sample: list[Path], capsys: pytest.CaptureFixture) -> None:
    root = sample[0].parents[2]
    before = {p: p.stat().st_mtime_ns for p in sample}
    assert sm.main([str(root)]) == 0
    assert capsys.readouterr().out.split() == [str(p) for p in sample]
    assert {p: p.stat().st_mtime_ns for p in sample} == before
    # A file that changed is rebuilt.
    sample[0].write_bytes(b"damaged")
    assert sm.build_sample(root) == sample
    assert sample[0].stat().st_size > 1000
    assert [p.name for p in root.rglob("*") if p.is_file() and p.name.startswith(".")] == [
        ".reelbeam-sample.json"
    ]


def test_main_without_footage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv(sm.ENV_SHARED_MEDIA, os.fspath(tmp_path / "missing"))
    monkeypatch.setenv(sm.ENV_CACHE, os.fspath(tmp_path / "cache"))
    assert sm.main([str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert sm.ENV_SHARED_MEDIA in err and len(err.strip().splitlines()) == 1
