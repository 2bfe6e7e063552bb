"""Probing: what a video file is, read from its header and index (PyAV), never decoded whole.

``probe_container``/``probe_video`` are the functions; ``transforms.probe_videos``
runs them in an isolated process behind a Beam composite.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Callable
from fractions import Fraction

import av

from transforms.errors import (
    CorruptMediaError,
    DecodeTimeoutError,
    EmptyFileError,
    MediaError,
    NoVideoStreamError,
    SourceVanishedError,
    UnsupportedMediaError,
)
from transforms.media.damage import DecodeErrors, decode_packet, demux_packets
from transforms.media.geometry import display_size, frame_rotation_deg, stream_sar
from transforms.media.open import open_input
from transforms.media.streams import pick_audio_stream, pick_video_stream
from transforms.media.timebase import average_rate
from transforms.records import FoundFile, VideoProbe

# Sanity limits on header values: beyond them a header is lying (or the file is hostile),
# and believing it would plan millions of chunks or allocate absurd frames.
MIN_FPS, MAX_FPS = 0.1, 1000.0
MAX_SIDE = 16384
MAX_DURATION_S = 7 * 24 * 3600.0
_VFR_SAMPLE = 600  # index entries (or packets) looked at to tell constant from variable rate
_VFR_TOLERANCE = 0.02  # relative spread of frame intervals still counted as constant
_FIRST_FRAME_PACKETS = 250  # damaged packets skipped looking for a first frame, at most


def _fraction(value) -> Fraction | None:
    if value is None:
        return None
    try:
        frac = Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return frac if frac > 0 else None


def _intervals_vary(timestamps: list[int]) -> bool:
    """True when consecutive distinct timestamps are not evenly spaced."""
    ts = sorted(set(timestamps))
    if len(ts) < 4:
        return False
    deltas = [b - a for a, b in zip(ts, ts[1:], strict=False)]
    lo, hi = min(deltas), max(deltas)
    return lo <= 0 or (hi - lo) / lo > _VFR_TOLERANCE


def _video_timestamps(container, stream) -> list[int]:
    """Presentation timestamps of the first frames, from the index or by demuxing packets."""
    entries = stream.index_entries
    if entries is not None and len(entries) >= 4:
        return [entries[i].timestamp for i in range(min(len(entries), _VFR_SAMPLE))]
    timestamps: list[int] = []
    for packet in container.demux(stream):
        if packet.pts is not None:
            timestamps.append(packet.pts)
        if len(timestamps) >= _VFR_SAMPLE:
            break
    container.seek(0)
    return timestamps


def _demuxed_length(container, stream) -> tuple[int, float]:
    """``(frames, duration_s)`` counted by demuxing every packet (no decoding).

    For streams whose header states neither (raw elementary streams such as ``.m2v``):
    reading packets parses the file once, far cheaper than decoding it.
    """
    time_base = Fraction(stream.time_base or Fraction(1, 90000))
    count, first, end = 0, None, None
    for packet in container.demux(stream):
        if not packet.size:
            continue
        count += 1
        if packet.pts is not None:
            first = packet.pts if first is None else min(first, packet.pts)
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
    container.seek(0)
    if first is None or end is None or end <= first:
        return count, 0.0
    return count, float((end - first) * time_base)


def _rotation_of(container, stream) -> int:
    """Clockwise display rotation in {0, 90, 180, 270}, from the first decoded frame.

    PyAV exposes the display matrix on frames, not streams; decoding one frame also
    proves the stream decodes at all. Damaged packets before it are skipped, as every
    decode loop skips them (``transforms.media.damage``), up to a limit.
    """
    errors = DecodeErrors(max_errors=_FIRST_FRAME_PACKETS, source=container.name)
    try:
        for packet in demux_packets(container, [stream], errors):
            frames = decode_packet(packet, errors)
            if frames:
                return frame_rotation_deg(frames[0])
    except (av.error.FFmpegError, CorruptMediaError) as exc:
        raise CorruptMediaError(f"the first video frame does not decode: {exc}") from exc
    raise CorruptMediaError("the video stream has no decodable frame")


def is_not_video(exc: BaseException) -> bool:
    """Whether a probe failure says the file is no video at all (rather than a broken one).

    FFmpeg finding no container it knows (text, XML sidecars), no video stream (audio,
    still images), or nothing to decode; not a timeout, a crash or a vanished file.
    """
    if isinstance(exc, (DecodeTimeoutError, SourceVanishedError)):
        return False
    if isinstance(exc, (NoVideoStreamError, EmptyFileError, UnsupportedMediaError)):
        return True
    if isinstance(exc, CorruptMediaError):
        return True
    if isinstance(exc, MediaError):
        return False  # e.g. the decoder process crashed: worth a failure row
    return isinstance(exc, av.error.InvalidDataError)


def probe_container(container, found: FoundFile, scanned_at: dt.datetime) -> VideoProbe:
    """Read a ``VideoProbe`` from an open PyAV container.

    Raises:
        NoVideoStreamError: no video stream (audio only, images, data).
        UnsupportedMediaError: no decoder for the video codec in this build.
        CorruptMediaError: no size, no duration, or the first frame does not decode.
    """
    stream = pick_video_stream(container)
    if container.format.name.endswith("_pipe") or container.format.name == "image2":
        raise NoVideoStreamError(f"a still image ({container.format.name}), not a video")
    ctx = stream.codec_context
    if ctx is None or not ctx.name:
        raise UnsupportedMediaError(f"no decoder for codec id {stream.codec_context}")
    width, height = ctx.width, ctx.height
    if width <= 0 or height <= 0:
        raise CorruptMediaError("the video stream has no frame size")
    if max(width, height) > MAX_SIDE:
        raise UnsupportedMediaError(f"frame size {width}x{height} is beyond {MAX_SIDE} pixels")

    time_base = stream.time_base or Fraction(1, 1)
    if stream.duration:
        duration_s = float(stream.duration * time_base)
    elif container.duration:
        duration_s = container.duration / av.time_base
    else:
        duration_s = 0.0
    start_time_s = float(stream.start_time * time_base) if stream.start_time else 0.0

    fps_frac = _fraction(average_rate(stream)) or _fraction(stream.guessed_rate)
    if fps_frac is None:
        raise CorruptMediaError("the video stream has no frame rate")
    fps = float(fps_frac)
    if not MIN_FPS <= fps <= MAX_FPS:
        raise CorruptMediaError(f"absurd frame rate {fps:.6g} fps in the header")
    if stream.frames and stream.frames > 0:
        frame_count, exact = int(stream.frames), True
    else:
        frame_count, exact = int(round(duration_s * fps)), False
    if duration_s <= 0 and not exact:
        frame_count, duration_s = _demuxed_length(container, stream)
        exact = frame_count > 0
        if duration_s <= 0 and exact:
            duration_s = frame_count / fps
        if duration_s <= 0:
            raise CorruptMediaError("the video stream has no duration")
    elif duration_s <= 0:
        duration_s = frame_count / fps
    if duration_s > MAX_DURATION_S:
        raise CorruptMediaError(f"absurd duration {duration_s:.0f} s in the header")

    timestamps = _video_timestamps(container, stream)
    guessed = _fraction(stream.guessed_rate)
    rate_mismatch = guessed is not None and abs(float(guessed) - fps) / fps > _VFR_TOLERANCE
    is_vfr = _intervals_vary(timestamps) or (rate_mismatch and frame_count > 1)
    rotation_deg = _rotation_of(container, stream)

    sar = stream_sar(stream)
    exact_w, exact_h = display_size(width, height, sar, rotation_deg)
    shown_w, shown_h = int(round(exact_w)), int(round(exact_h))

    bit_rate = stream.bit_rate or container.bit_rate
    audio = pick_audio_stream(container)
    actx = audio.codec_context if audio is not None else None
    return VideoProbe(
        uri=found.uri,
        video_id=found.video_id,
        path_fields=dict(found.path_fields),
        file_name=posixpath.basename(found.uri.rstrip("/")),
        file_size_bytes=found.size_bytes,
        source_mtime=found.mtime,
        container=container.format.name,
        duration_s=round(duration_s, 6),
        width=width,
        height=height,
        display_width=shown_w,
        display_height=shown_h,
        rotation_deg=rotation_deg,
        sample_aspect_ratio=f"{sar.numerator}:{sar.denominator}",
        codec=ctx.name,
        pix_fmt=ctx.pix_fmt,
        bitrate_kbps=round(bit_rate / 1000.0, 3) if bit_rate else None,
        fps=round(fps, 6),
        is_vfr=is_vfr,
        frame_count=frame_count,
        frame_count_exact=exact,
        has_audio=audio is not None,
        audio_codec=actx.name if actx is not None else None,
        audio_channels=(actx.layout.nb_channels if actx is not None and actx.layout else None),
        audio_sample_rate=(actx.sample_rate or None) if actx is not None else None,
        start_time_s=start_time_s,
        scanned_at=scanned_at.isoformat(),
    )


def probe_video(found: FoundFile, clock: Callable[[], dt.datetime] | None = None) -> VideoProbe:
    """Probe one file (local or ``gs://``) into a ``VideoProbe``.

    Reads the container header and index and decodes one frame: well under a
    second even for a 10-hour file.

    Raises:
        MediaError subclasses for permanent problems, OSError for IO.
    """
    scanned_at = clock() if clock is not None else dt.datetime.now(dt.UTC)
    with open_input(found.uri) as container:
        return probe_container(container, found, scanned_at)


def probe_in_child(state: dict, found: FoundFile, scanned_at: dt.datetime) -> VideoProbe:
    """``probe_video`` as an isolated child calls it (``IsolatedWorker`` passes its state)."""
    return probe_video(found, lambda: scanned_at)


PROBE_BASE_TIMEOUT_S = 60.0
"""Time for a header, an index and one frame; a 10-hour MP4's index parses in < 1 s."""
_PROBE_S_PER_GIB = 10.0  # a bigger file has a bigger index to fetch (over gs://, in ranges)


def probe_timeout_s(found: FoundFile, configured_s: float) -> float:
    """How long probing ``found`` may take: ``--decode_timeout_s`` when set (> 0).

    Otherwise sized to the input, as every decoding stage is: the probe's media time is
    not known before it runs, so its default grows with the file instead, 60 s plus
    10 s per GiB (the index to read grows with the file).
    """
    if configured_s > 0:
        return configured_s
    return PROBE_BASE_TIMEOUT_S + _PROBE_S_PER_GIB * max(0, found.size_bytes or 0) / 2**30
