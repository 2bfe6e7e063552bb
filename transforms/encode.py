"""Encoding proxies, ladder renditions and chunk-parallel encodes with PyAV (pure functions).

Every output is an MP4 (``movflags=+faststart``) with H.264 High profile video in ``yuv420p``
and, when the source has audio, AAC audio. Pictures come out upright (a phone's display
rotation is applied to the pixels and no display matrix is written), with square pixels
(anamorphic sources are scaled to their display aspect), deinterlaced when the source is
interlaced, and tagged with the source's YUV matrix (or the one players assume for its size).
Frame timestamps are carried over from the source in its own time base, so variable-frame-rate
video keeps its timing, and audio samples are placed by their timestamps, so audio stays in
sync, also across cuts.

Times are seconds from the start of the source's video stream (``stream.start_time``), the
same origin that ``probe`` and the motion segments use. Ranges are half-open: a frame belongs
to ``[start_s, end_s)`` when its timestamp does. Each output file is written to
``dst + ".part"`` and renamed into place, so a failure never leaves a partial file at ``dst``.

The Beam render stage calls:

* :func:`render_ladder` for a proxy and its ladder rungs from one decode of the source;
* :func:`plan_render_chunks` (with :func:`keyframe_times`), :func:`encode_video_range`,
  :func:`encode_audio` and :func:`join_chunks` to encode a long source in parallel chunks and
  join them by stream copy.

``transforms.stills`` and ``transforms.highlights`` build on :class:`VideoReader` and
:class:`FramePipe`.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import functools
import heapq
import math
import os
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any, Protocol

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame

from transforms.errors import CorruptMediaError, NoVideoStreamError
from transforms.media import open_input

__all__ = [
    "ENCODERS",
    "EncodeSettings",
    "FramePipe",
    "RenditionInfo",
    "VideoReader",
    "encode_audio",
    "encode_video_range",
    "even_round",
    "join_chunks",
    "X264_PRESETS",
    "keyframe_times",
    "mp4_top_level_atoms",
    "nvenc_available",
    "plan_render_chunks",
    "probe_output",
    "render_ladder",
    "target_size",
    "video_encoder_options",
]

ENCODERS = ("libx264", "h264_nvenc")
"""Video encoders an :class:`EncodeSettings` may name."""

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
# x264 preset -> NVENC preset (p1 fastest .. p7 best), at about the same speed/quality rank.
_NVENC_PRESETS = {
    "ultrafast": "p1",
    "superfast": "p1",
    "veryfast": "p2",
    "faster": "p3",
    "fast": "p4",
    "medium": "p5",
    "slow": "p6",
    "slower": "p7",
    "veryslow": "p7",
    "placebo": "p7",
}
_AAC_RATES = frozenset(
    {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
)
_AUDIO_SEEK_MARGIN_S = Fraction(1)  # audio decoded before a cut, then trimmed (AAC warm-up)
_AUDIO_LAG_S = Fraction(1, 2)  # in cuts, audio is placed this far behind the video
_SAMPLE_JITTER = 2  # timestamp rounding (samples) still treated as contiguous audio
_FORWARD_S = 2.0  # decode forward instead of seeking when the next cut starts this close
_ATTACHED_PIC = 0x400  # AV_DISPOSITION_ATTACHED_PIC: cover art, not video


@dataclasses.dataclass(frozen=True)
class EncodeSettings:
    """How to encode video and audio.

    Attributes:
        crf: Constant rate factor, 0 (lossless) to 51 (worst); 23 is x264's default. With
            NVENC it becomes the constant-quality target ``-cq``.
        preset: x264 speed preset (``ultrafast`` ... ``placebo``); mapped to NVENC's
            ``p1`` ... ``p7``. NVENC presets (``p1`` ... ``p7``) are accepted as they are.
        encoder: ``libx264`` (CPU) or ``h264_nvenc`` (NVIDIA GPU).
        audio_bitrate: AAC bitrate in bit/s for the whole stream (all channels).
        threads: Encoder threads; 0 lets the encoder choose (about 1.5 per core for x264).
    """

    crf: int = 23
    preset: str = "fast"
    encoder: str = "libx264"
    audio_bitrate: int = 128000
    threads: int = 0

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {self.encoder!r}")
        if not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {self.crf}")
        nvenc_names = set(_NVENC_PRESETS.values())
        if self.preset not in X264_PRESETS and not (
            self.encoder == "h264_nvenc" and self.preset in nvenc_names
        ):
            raise ValueError(
                f"unknown preset {self.preset!r}; use one of {', '.join(X264_PRESETS)}"
            )
        if self.audio_bitrate <= 0:
            raise ValueError(f"audio_bitrate must be positive, got {self.audio_bitrate}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0, got {self.threads}")


@dataclasses.dataclass(frozen=True)
class RenditionInfo:
    """What was written: the facts an ``assets`` row needs (besides URI and MD5).

    Attributes:
        width: Video width in pixels (square pixels, upright).
        height: Video height in pixels.
        duration_s: Video duration in seconds: the last frame's end minus the first's start.
        frame_count: Video frames written.
        bitrate_kbps: Overall bitrate (video and audio) in kbit/s: file size over duration.
        size_bytes: File size in bytes.
        codec: Video codec name (``h264``).
    """

    width: int
    height: int
    duration_s: float
    frame_count: int
    bitrate_kbps: float
    size_bytes: int
    codec: str


class SourceGeometry(Protocol):
    """What :func:`target_size` reads; ``records.VideoProbe`` has it.

    Attributes:
        width: Coded width in pixels.
        height: Coded height in pixels.
        sample_aspect_ratio: Pixel aspect ratio as ``"num:den"`` (or a number).
        rotation_deg: Clockwise rotation a player applies (0, 90, 180, 270).
    """

    width: int
    height: int
    sample_aspect_ratio: Any
    rotation_deg: int


@dataclasses.dataclass(frozen=True)
class _Geometry:
    width: int
    height: int
    sample_aspect_ratio: Fraction
    rotation_deg: int


# --------------------------------------------------------------------------------------------
# Encoders and sizes
# --------------------------------------------------------------------------------------------


def video_encoder_options(settings: EncodeSettings) -> tuple[str, dict[str, str]]:
    """The encoder name and its options for ``settings``: one interface, two implementations.

    libx264 gets ``crf``/``preset`` as they are, High profile (``8x8dct``, so even
    ``ultrafast`` is High) and ``stitchable=1`` (headers do not depend on the content, so
    separately encoded chunks share one SPS/PPS and can be joined). h264_nvenc gets the equivalent constant-quality VBR: ``rc=vbr``, ``cq=<crf>``,
    ``b=0`` (no bitrate cap) and a ``p1``..``p7`` preset ranked like the x264 one.

    Args:
        settings: Encoding settings.

    Returns:
        ``(codec_name, options)`` for ``OutputContainer.add_stream``.
    """
    if settings.encoder == "h264_nvenc":
        preset = _NVENC_PRESETS.get(settings.preset, settings.preset)
        return "h264_nvenc", {
            "preset": preset,
            "tune": "hq",
            "rc": "vbr",
            "cq": str(settings.crf),
            "b": "0",
            "profile": "high",
            "forced-idr": "1",
        }
    return "libx264", {
        "crf": str(settings.crf),
        "preset": settings.preset,
        "profile": "high",
        # 8x8dct keeps the High profile with ``ultrafast`` (which turns it off and would
        # give Constrained Baseline); the other presets have it on anyway.
        "x264-params": "stitchable=1:8x8dct=1",
    }


@functools.lru_cache(maxsize=1)
def nvenc_available() -> bool:
    """Whether an NVIDIA H.264 encoder works here: encodes one tiny frame with h264_nvenc.

    Returns:
        True when the encoder opened and produced a packet; False where the FFmpeg build
        lacks it or there is no NVIDIA GPU with encoders (no driver, H100/A100, CPU-only).
    """
    if "h264_nvenc" not in av.codecs_available:
        return False
    try:
        ctx = av.CodecContext.create("h264_nvenc", "w")
        ctx.width, ctx.height = 256, 256
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = Fraction(1, 25)
        ctx.framerate = Fraction(25)
        frame = VideoFrame.from_ndarray(np.full((384, 256), 128, dtype=np.uint8), "yuv420p")
        frame.pts = 0
        packets = list(ctx.encode(frame)) + list(ctx.encode(None))
        return bool(packets)
    except Exception:  # any failure to open or encode means "not available"
        return False


def _sar(value: Any) -> Fraction:
    """Parse a sample aspect ratio (``"4:3"``, ``Fraction``, number); bad or empty -> 1."""
    if value is None:
        return Fraction(1)
    try:
        if isinstance(value, str):
            num, _, den = value.partition(":")
            sar = Fraction(int(num), int(den or 1))
        else:
            sar = Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return Fraction(1)
    return sar if sar > 0 else Fraction(1)


def _even_floor(value: int) -> int:
    return max(2, value - value % 2)


def even_round(value: Fraction | float) -> int:
    """Nearest even integer, halves rounded up (as FFmpeg's ``scale=-2``), at least 2."""
    return max(2, math.floor(Fraction(value) / 2 + Fraction(1, 2)) * 2)


def target_size(probe_like: SourceGeometry, height: int) -> tuple[int, int]:
    """Output size of a ladder rung: display aspect kept, square pixels, never upscaled.

    The display size is the coded size with the sample aspect ratio applied to the width and
    then the rotation (90/270 swap the sides). The rung is the output height: a source whose
    display height is below it keeps its own height (rounded down to even). The width follows
    the display aspect, rounded to the nearest even number (halves up).

    Args:
        probe_like: Source geometry, e.g. a ``VideoProbe``.
        height: Rung height in pixels (e.g. 720).

    Returns:
        ``(width, height)`` in pixels, both even and at least 2.

    Raises:
        ValueError: A non-positive rung or source size.
    """
    if height <= 0 or probe_like.width <= 0 or probe_like.height <= 0:
        raise ValueError(
            f"sizes must be positive: rung {height}, source {probe_like.width}x{probe_like.height}"
        )
    shown_w = Fraction(probe_like.width) * _sar(probe_like.sample_aspect_ratio)
    shown_h = Fraction(probe_like.height)
    if int(probe_like.rotation_deg) % 180 == 90:
        shown_w, shown_h = shown_h, shown_w
    out_h = _even_floor(min(int(height), math.floor(shown_h)))
    out_w = even_round(shown_w * out_h / shown_h)
    return out_w, out_h


_TIME_TOLERANCE_S = Fraction(1, 10**7)  # float seconds this close to a tick are on it


def _ticks(seconds: float | Fraction, time_base: Fraction) -> int:
    """Nearest tick of ``time_base`` (for seek targets)."""
    return round(Fraction(seconds) / time_base)


def _tick_ceil(seconds: float | Fraction, time_base: Fraction) -> int:
    """First tick at or after ``seconds``: frames at ``rel >= it`` start at or after the time.

    A float a hair off a tick (0.30000000000000004 s) counts as on it, so range boundaries
    given in seconds select the frames one expects.
    """
    exact = Fraction(seconds) / time_base
    near = round(exact)
    return near if abs(near - exact) * time_base <= _TIME_TOLERANCE_S else math.ceil(exact)


def _tick_floor(seconds: float | Fraction, time_base: Fraction) -> int:
    """Last tick at or before ``seconds`` (same tolerance as :func:`_tick_ceil`)."""
    exact = Fraction(seconds) / time_base
    near = round(exact)
    return near if abs(near - exact) * time_base <= _TIME_TOLERANCE_S else math.floor(exact)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _partial_file(dst: str) -> Iterator[str]:
    """Yield ``dst + ".part"``; rename it to ``dst`` on success, delete it on failure."""
    parent = os.path.dirname(os.path.abspath(dst))
    os.makedirs(parent, exist_ok=True)
    part = dst + ".part"
    try:
        yield part
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(part)
        raise
    os.replace(part, dst)


def mp4_top_level_atoms(path: str | os.PathLike[str]) -> list[str]:
    """Types of the top-level boxes of an MP4/MOV file, in file order (e.g. ftyp, moov, mdat).

    Args:
        path: Local file.

    Returns:
        Box types as 4-character strings; parsing stops at a malformed box header.
    """
    atoms: list[str] = []
    with open(path, "rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        pos = 0
        while pos + 8 <= total:
            handle.seek(pos)
            size, kind = struct.unpack(">I4s", handle.read(8))
            if size == 1:
                (size,) = struct.unpack(">Q", handle.read(8))
            elif size == 0:
                size = total - pos
            if size < 8:
                break
            atoms.append(kind.decode("latin-1"))
            pos += size
    return atoms


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def _video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    videos = [s for s in container.streams.video if not s.disposition & _ATTACHED_PIC]
    if not videos:
        raise NoVideoStreamError("no video stream")
    return videos[0]


def _audio_stream(container: av.container.InputContainer) -> av.audio.stream.AudioStream | None:
    for stream in container.streams.audio:
        ctx = stream.codec_context
        if ctx is not None and ctx.name and ctx.sample_rate and ctx.channels:
            return stream
    return None


def _rotation_deg(frame: VideoFrame) -> int:
    """Clockwise rotation a player applies (the ``probe`` convention) from the display matrix."""
    return int(round(-frame.rotation / 90.0)) % 4 * 90


def _frame_rate(stream: av.video.stream.VideoStream) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            frac = Fraction(rate).limit_denominator(1001)
            if frac > 0:
                return frac
    return Fraction(25)


class VideoReader:
    """Decoded video frames of one stream, with frame-exact ranges and forward-or-seek logic.

    Frame times are ``rel`` ticks: ``pts - stream.start_time`` in the stream's time base.
    When ``on_audio`` is given, the audio stream's frames decoded along the way (same demux
    pass, file order) are handed to it; that mode never seeks.
    """

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.video.stream.VideoStream,
        audio: av.audio.stream.AudioStream | None = None,
        on_audio: Callable[[AudioFrame], None] | None = None,
    ) -> None:
        self._container = container
        self._stream = stream
        self._audio = audio if on_audio is not None else None
        self._on_audio = on_audio
        self.time_base = Fraction(stream.time_base or Fraction(1, 90000))
        self.origin = int(stream.start_time or 0)
        self.rate = _frame_rate(stream)
        self._default_dur = max(1, round(1 / (self.rate * self.time_base)))
        self._gen: Iterator[VideoFrame] | None = None
        self._pending: tuple[int, VideoFrame] | None = None
        self._last_rel: int | None = None
        self._last_gap: int | None = None
        self._keys: list[int] | None = None
        self._shown: tuple[int, VideoFrame] | None = None  # what frame_at returned last
        self._exhausted = False
        self.frames_decoded = 0
        self.seeks = 0

    def _frames(self) -> Iterator[VideoFrame]:
        streams = [self._stream] + ([self._audio] if self._audio is not None else [])
        for packet in self._container.demux(*streams):
            if self._audio is not None and packet.stream is self._audio:
                assert self._on_audio is not None
                for aframe in packet.decode():
                    self._on_audio(aframe)
                continue
            for frame in packet.decode():
                self.frames_decoded += 1
                yield frame

    def _next(self) -> tuple[int, VideoFrame] | None:
        if self._pending is not None:
            item, self._pending = self._pending, None
            return item
        if self._gen is None:
            self._gen = self._frames()
        frame = next(self._gen, None)
        if frame is None:
            return None
        last = self._last_rel
        if frame.pts is None:
            rel = (last + (self._last_gap or self._default_dur)) if last is not None else 0
        else:
            rel = int(frame.pts) - self.origin
        if last is not None and rel <= last:  # broken timestamps: keep them strictly increasing
            rel = last + 1
        if last is not None:
            self._last_gap = rel - last
        self._last_rel = rel
        return rel, frame

    def _seek(self, rel: int) -> None:
        """Seek to the keyframe at or before ``rel``; ``rel <= 0`` rewinds to the file start."""
        self.seeks += 1
        if rel > 0:
            self._container.seek(
                self.origin + rel, stream=self._stream, backward=True, any_frame=False
            )
        else:
            # A timestamp seek to the very start fails in some demuxers (MPEG-TS without
            # keyframe index); the container-level rewind, or byte 0, does not.
            try:
                self._container.seek(0)
            except av.error.FFmpegError:
                self._container.seek(0, unsupported_byte_offset=True)
        self._gen = None
        self._pending = None
        self._last_rel = None
        self._last_gap = None
        self._shown = None
        self._exhausted = False

    def _keyframes(self) -> list[int]:
        """Keyframe timestamps from the container's index (empty when it has none)."""
        if self._keys is None:
            try:
                entries = self._stream.index_entries
                self._keys = [e.timestamp for e in entries if e.is_keyframe] if entries else []
            except Exception:  # an index PyAV cannot read: fall back to the distance rule
                self._keys = []
        return self._keys

    def _forward_is_cheaper(self, current: int | None, start: int) -> bool:
        """Whether decoding on from ``current`` reaches ``start`` at no more cost than a seek."""
        if self._gen is None or current is None or current > start:
            return False
        keys = self._keyframes()
        if keys:
            # A seek lands on the last keyframe at or before the target; if we are already
            # past it, going on decodes fewer frames than seeking back to it.
            index = bisect.bisect_right(keys, self.origin + start) - 1
            return keys[max(0, index)] - self.origin <= current
        return (start - current) * self.time_base <= _FORWARD_S

    def _position_at(self, start: int) -> None:
        """Make the next frame one at or before ``start`` (the keyframe before, at worst)."""
        if self._gen is None and self._pending is None and start <= 0:
            return  # fresh reader: decode from the beginning
        current = self._pending[0] if self._pending is not None else self._last_rel
        if self._forward_is_cheaper(current, start):
            return
        if self._on_audio is not None:
            raise RuntimeError("a reader that also decodes audio cannot seek")
        step = 1
        target = start
        while True:
            self._seek(target)
            item = self._next()
            if (item is not None and item[0] <= start) or target <= 0:
                self._pending = item
                return
            # The demuxer landed after the wanted frame (sparse or imprecise index) or found
            # no keyframe at all (e.g. MPEG-TS whose only keyframe is the first): back off.
            target = max(0, start - _ticks(step, self.time_base))
            step *= 2

    def frame_at(self, time: int) -> tuple[int, VideoFrame] | None:
        """The frame on screen at ``time`` ticks: the last one with ``rel <= time``.

        Times before the first frame give the first frame; after the last, the last. Calls
        with increasing times decode forward when that is cheaper than seeking.
        """
        shown = self._shown
        if (
            shown is not None
            and shown[0] <= time
            and (
                (self._pending is not None and time < self._pending[0])
                or (self._pending is None and self._gen is not None and self._exhausted)
            )
        ):
            return shown
        self._position_at(time)
        prev: tuple[int, VideoFrame] | None = None
        while True:
            item = self._next()
            if item is None:
                self._exhausted = True
                self._shown = prev
                return prev
            if item[0] > time:
                self._pending = item
                self._last_rel = item[0]
                self._shown = prev or item
                return self._shown
            prev = item

    def _eof_duration(self, rel: int, frame: VideoFrame) -> int:
        """How long the stream's last frame lasts: to the container's stream end if known."""
        typical = self._last_gap or self._default_dur
        if self._stream.duration:
            start = self._stream.start_time if self._stream.start_time is not None else 0
            to_end = int(start) + int(self._stream.duration) - self.origin - rel
            if 0 < to_end <= 4 * typical:  # a broken or estimated duration is not trusted
                return to_end
        if frame.duration and frame.duration > 0:
            return int(frame.duration)
        return typical

    def window(self, start: int, end: int | None) -> Iterator[tuple[int, int, VideoFrame]]:
        """Frames with ``start <= rel < end`` as ``(rel, duration, frame)``, in ticks.

        A frame's duration runs to the next frame's timestamp (also past ``end``); the last
        frame of the stream lasts until the stream's end as the container states it.
        """
        self._position_at(start)
        prev: tuple[int, VideoFrame] | None = None
        while True:
            item = self._next()
            if item is None:
                if prev is not None:
                    yield prev[0], self._eof_duration(prev[0], prev[1]), prev[1]
                return
            rel = item[0]
            if rel < start:
                continue
            if prev is not None:
                yield prev[0], rel - prev[0], prev[1]
                prev = None
            if end is not None and rel >= end:
                self._pending = item
                self._last_rel = rel
                return
            prev = item


# --------------------------------------------------------------------------------------------
# Pictures: rotate upright, scale to square pixels, convert to yuv420p
# --------------------------------------------------------------------------------------------


def _rotation_filters(rotation_deg: int) -> list[tuple[str, str | None]]:
    return {
        0: [],
        90: [("transpose", "clock")],
        180: [("hflip", None), ("vflip", None)],
        270: [("transpose", "cclock")],
    }[rotation_deg % 360]


_RANGES = {1: "tv", 2: "pc"}  # AVCOL_RANGE_MPEG, AVCOL_RANGE_JPEG
_MATRICES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020"}


def _scale_colour_args(frame: VideoFrame, pix_fmt: str) -> str:
    """libswscale range/matrix options: YUV output keeps the source's; RGB converts from it."""
    args = ""
    value_range = _RANGES.get(int(frame.color_range or 0))
    if value_range:
        args += f":in_range={value_range}"
        if pix_fmt.startswith("yuv"):
            args += f":out_range={value_range}"
    if not pix_fmt.startswith("yuv"):
        matrix = _MATRICES.get(_color_tags(frame)["colorspace"])
        if matrix:
            args += f":in_color_matrix={matrix}"
    return args


class FramePipe:
    """Rotate decoded frames upright and scale them to one or more sizes in one filter graph.

    ``buffer -> [bwdif] -> [transpose|hflip,vflip] -> split -> scale,format,setsar=1 ->
    buffersink`` per output, all in libavfilter/libswscale (no numpy). The graph is rebuilt if
    the decoded frame size or pixel format changes mid-stream. Output frames keep the pts of
    the frame they come from; with ``deinterlace`` they come one frame late (bwdif looks
    ahead), and :meth:`flush` returns the last.

    Args:
        rotation_deg: Clockwise rotation to apply (0, 90, 180, 270).
        sizes: Output ``(width, height)`` per output, in pixels.
        pix_fmt: Output pixel format (``yuv420p`` for H.264, ``rgb24`` for images).
        time_base: Time base of the frames' ``pts``.
        deinterlace: Deinterlace frames flagged interlaced (bwdif, one frame per frame).
    """

    def __init__(
        self,
        rotation_deg: int,
        sizes: Sequence[tuple[int, int]],
        pix_fmt: str,
        time_base: Fraction,
        deinterlace: bool = False,
    ) -> None:
        self._deinterlace = deinterlace
        self._rotation = rotation_deg % 360
        self._sizes = list(sizes)
        self._pix_fmt = pix_fmt
        self._time_base = time_base
        self._key: tuple[int, int, str] | None = None
        self._graph: av.filter.Graph | None = None  # the contexts need it alive
        self._source: Any = None
        self._sinks: list[Any] = []

    def _build(self, frame: VideoFrame) -> None:
        graph = av.filter.Graph()
        source = graph.add_buffer(
            width=frame.width,
            height=frame.height,
            format=frame.format.name,
            time_base=self._time_base,
        )
        last = source
        steps = _rotation_filters(self._rotation)
        if self._deinterlace:
            steps = [("bwdif", "mode=send_frame:parity=auto:deint=interlaced"), *steps]
        for name, args in steps:
            node = graph.add(name, args)
            last.link_to(node)
            last = node
        if len(self._sizes) > 1:
            split = graph.add("split", str(len(self._sizes)))
            last.link_to(split)
        sinks = []
        scale_args = _scale_colour_args(frame, self._pix_fmt)
        for index, (width, height) in enumerate(self._sizes):
            scale = graph.add("scale", f"{width}:{height}:flags=bicubic{scale_args}")
            if len(self._sizes) > 1:
                split.link_to(scale, output_idx=index)
            else:
                last.link_to(scale)
            fmt = graph.add("format", self._pix_fmt)
            scale.link_to(fmt)
            setsar = graph.add("setsar", "1")
            fmt.link_to(setsar)
            sink = graph.add("buffersink")
            setsar.link_to(sink)
            sinks.append(sink)
        graph.configure()
        self._graph, self._source, self._sinks = graph, source, sinks
        self._key = (frame.width, frame.height, frame.format.name)

    def _drain(self) -> list[list[VideoFrame]]:
        out: list[list[VideoFrame]] = []
        for sink in self._sinks:
            frames: list[VideoFrame] = []
            while True:
                try:
                    frame = sink.pull()
                except (BlockingIOError, EOFError):
                    break
                out_tb = Fraction(frame.time_base) if frame.time_base else self._time_base
                if out_tb != self._time_base and frame.pts is not None:
                    # bwdif halves the time base; give the frame back its input timestamp.
                    frame.pts = round(frame.pts * out_tb / self._time_base)
                    frame.time_base = self._time_base
                frames.append(frame)
            out.append(frames)
        return out

    def process(self, frame: VideoFrame) -> list[list[VideoFrame]]:
        """Push one frame; returns, per output, the frames ready (one each, in practice)."""
        key = (frame.width, frame.height, frame.format.name)
        pending: list[list[VideoFrame]] | None = None
        if self._key != key:
            if self._source is not None:
                pending = self.flush()
            self._build(frame)
        self._source.push(frame)
        ready = self._drain()
        if pending:
            ready = [a + b for a, b in zip(pending, ready, strict=True)]
        return ready

    def flush(self) -> list[list[VideoFrame]]:
        """Signal the end of input and return what is left, per output."""
        if self._source is None:
            return [[] for _ in self._sizes]
        self._source.push(None)
        out = self._drain()
        self._graph, self._source, self._sinks, self._key = None, None, [], None
        return out


# --------------------------------------------------------------------------------------------
# Audio: resample and place samples by timestamp
# --------------------------------------------------------------------------------------------


def _audio_target(stream: av.audio.stream.AudioStream) -> tuple[int, str]:
    """AAC output rate and layout: the source's rate if AAC has it, mono stays mono, else stereo."""
    ctx = stream.codec_context
    rate = ctx.sample_rate if ctx.sample_rate in _AAC_RATES else 48000
    channels = ctx.channels or 2
    return rate, "mono" if channels == 1 else "stereo"


class _AudioPlacer:
    """Cut audio to source-time windows and lay it out, sample-exact, on the output timeline.

    Decoded frames are resampled to float planar at the output rate and layout. Each sample
    goes to ``out_start + (source time - window start)``; a gap in the source becomes silence
    and an overlap is dropped, so audio stays in sync with the video whatever its timestamps.
    """

    def __init__(
        self,
        stream: av.audio.stream.AudioStream,
        origin_s: Fraction,
        sinks: Sequence[Callable[[AudioFrame | None], None]],
    ) -> None:
        self.rate, self.layout = _audio_target(stream)
        self.channels = 1 if self.layout == "mono" else 2
        self.origin_s = origin_s
        # Where the source's audio ends by its container (edit list), so the encoder padding
        # of its last frame, which decoders do not trim, is not carried over as silence.
        self.source_end_s: Fraction | None = None
        if stream.duration and stream.time_base:
            start = Fraction(stream.start_time or 0)
            self.source_end_s = (start + stream.duration) * Fraction(stream.time_base) - origin_s
        self._sinks = list(sinks)
        self._resampler: av.AudioResampler | None = None
        self._window: tuple[int, int | None, int] | None = None  # src start, src end, out start
        self._early: list[AudioFrame] = []
        self._next_src: int | None = None
        self.cursor = 0  # samples written

    def begin(
        self, src_start_s: Fraction, out_start_s: Fraction, src_end_s: Fraction | None = None
    ) -> None:
        """Start a window whose source time ``src_start_s`` lands at ``out_start_s``.

        Samples at or after ``src_end_s`` (when given) are dropped.
        """
        end = None if src_end_s is None else round(src_end_s * self.rate)
        self._window = (round(src_start_s * self.rate), end, round(out_start_s * self.rate))
        self._resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
        self._next_src = None
        early, self._early = self._early, []
        for frame in early:
            self.feed(frame)

    def feed(self, frame: AudioFrame) -> None:
        """Place one decoded frame (held back until a window begins)."""
        if self._window is None or self._resampler is None:
            self._early.append(frame)
            return
        for out in self._resampler.resample(frame):
            self._place(out)

    def limit(self, src_end_s: Fraction) -> None:
        """From now on, drop samples of this window at or after ``src_end_s``."""
        if self._window is None:
            return
        start, end, out_start = self._window
        new_end = round(src_end_s * self.rate)
        self._window = (start, new_end if end is None else min(end, new_end), out_start)

    def end(self, src_end_s: Fraction | None) -> None:
        """Finish the window: drop samples at or after ``src_end_s`` (None: keep all)."""
        if self._window is None or self._resampler is None:
            return
        if src_end_s is not None:
            self.limit(src_end_s)
        for out in self._resampler.resample(None):
            self._place(out)
        self._window = None
        self._resampler = None

    def src_time_s(self) -> Fraction | None:
        """Source time (s) just after the last sample seen, None before any."""
        return None if self._next_src is None else Fraction(self._next_src, self.rate)

    def _place(self, frame: AudioFrame) -> None:
        assert self._window is not None
        start, end, out_start = self._window
        data = frame.to_ndarray()
        count = data.shape[1]
        if count == 0:
            return
        if frame.pts is not None and frame.time_base is not None:
            first = round((frame.pts * Fraction(frame.time_base) - self.origin_s) * self.rate)
            if self._next_src is not None and abs(first - self._next_src) <= _SAMPLE_JITTER:
                first = self._next_src
        else:
            first = self._next_src if self._next_src is not None else start
        self._next_src = first + count
        lo = max(first, start)
        hi = first + count if end is None else min(first + count, end)
        if hi <= lo:
            return
        data = data[:, lo - first : hi - first]
        position = out_start + (lo - start)
        if position < self.cursor:
            data = data[:, self.cursor - position :]
            position = self.cursor
        if data.shape[1] == 0:
            return
        if position > self.cursor:
            self._emit(np.zeros((self.channels, position - self.cursor), dtype=np.float32))
        self._emit(data)

    def _emit(self, data: np.ndarray) -> None:
        frame = AudioFrame.from_ndarray(
            np.ascontiguousarray(data, dtype=np.float32), format="fltp", layout=self.layout
        )
        frame.sample_rate = self.rate
        frame.pts = self.cursor
        frame.time_base = Fraction(1, self.rate)
        self.cursor += data.shape[1]
        for sink in self._sinks:
            sink(frame)


def _audio_frames_from(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    src_start_s: Fraction,
    origin_s: Fraction,
) -> Iterator[AudioFrame]:
    """Decoded audio frames from a little before ``src_start_s`` (seconds from the origin)."""
    target_s = origin_s + src_start_s - _AUDIO_SEEK_MARGIN_S
    time_base = Fraction(stream.time_base or Fraction(1, stream.codec_context.sample_rate))
    container.seek(max(0, _ticks(target_s, time_base)), stream=stream, backward=True)
    yield from container.decode(stream)


class _PulledAudio:
    """Audio for one cut, read from its own container and kept just behind the video."""

    def __init__(self, placer: _AudioPlacer, frames: Iterator[AudioFrame]) -> None:
        self._placer = placer
        self._frames = frames
        self._done = False

    def advance(self, src_s: Fraction) -> None:
        """Place the source's audio up to about ``src_s`` seconds."""
        while not self._done:
            seen = self._placer.src_time_s()
            if seen is not None and seen >= src_s:
                return
            frame = next(self._frames, None)
            if frame is None:
                self._done = True
                return
            self._placer.feed(frame)


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------


_UNSPECIFIED = 2  # AVCOL_SPC/PRI/TRC_UNSPECIFIED
_BT709 = 1
_SMPTE170M = 6  # BT.601 525-line (also the usual tag for 625-line SD)


def _color_tags(frame: VideoFrame) -> dict[str, int]:
    """Colour tags for the output: the source's, or the usual ones for its size when untagged.

    Scaling keeps the YUV matrix, so the output must say which one the source used; an
    untagged output would be read as BT.601 when small and BT.709 when HD, shifting colours
    whenever a rung crosses that line. Untagged sources are taken as BT.709 from 720 lines
    up and BT.601 below, as players do.
    """
    default = _BT709 if min(frame.width, frame.height) >= 720 or frame.width >= 1280 else _SMPTE170M
    tags = {}
    for name in ("colorspace", "color_primaries", "color_trc"):
        value = int(getattr(frame, name) or _UNSPECIFIED)
        tags[name] = default if value in (0, _UNSPECIFIED) else value
    if frame.color_range:
        tags["color_range"] = int(frame.color_range)
    return tags


class _VideoPacketWriter:
    """Mux video packets into an MP4 so that the track ends exactly where its last frame ends.

    Each packet gets its frame's presentation duration. FFmpeg's MP4 muxer makes a track last
    from the first sample's dts to the last sample's dts plus its duration; with B-frames the
    last sample in decode order is not the last one shown, so the latest packet is held back
    and, at the end, given the duration that makes the track end at the last frame's end
    (exact for variable frame rates too).
    """

    def __init__(self, container: av.container.OutputContainer) -> None:
        self._container = container
        self._held: av.Packet | None = None
        self._first: tuple[int, int] | None = None  # (pts, dts) of the first packet
        self.end = 0  # latest frame end (pts + duration), stream ticks
        self.count = 0

    def write(self, packet: av.Packet, duration: int) -> None:
        packet.duration = duration
        if packet.pts is not None:
            self.end = max(self.end, int(packet.pts) + duration)
            if self._first is None and packet.dts is not None:
                self._first = (int(packet.pts), int(packet.dts))
        if self._held is not None:
            self._container.mux(self._held)
        self._held = packet
        self.count += 1

    def finish(self) -> None:
        last, self._held = self._held, None
        if last is None:
            return
        if last.dts is not None and self._first is not None:
            first_pts, first_dts = self._first
            wanted = self.end - first_pts - (int(last.dts) - first_dts)
            if wanted > 0:
                last.duration = wanted
        self._container.mux(last)


class _Output:
    """One MP4 being written: a video encoder and, optionally, an AAC encoder."""

    def __init__(
        self,
        path: str,
        size: tuple[int, int],
        settings: EncodeSettings,
        time_base: Fraction,
        rate: Fraction,
        audio: tuple[int, str] | None,
        faststart: bool,
        colors: Mapping[str, int] | None = None,
    ) -> None:
        options = {"movflags": "+faststart"} if faststart else {}
        self.container = av.open(path, mode="w", format="mp4", options=options)
        self.size = size
        self.time_base = time_base
        codec, codec_options = video_encoder_options(settings)
        stream = self.container.add_stream(codec, rate=rate, options=codec_options)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        ctx = stream.codec_context
        ctx.time_base = time_base
        ctx.thread_count = settings.threads
        # PyAV defaults encoders to slice threads; x264 compresses better and runs faster
        # with frame threads, as the ffmpeg CLI uses them.
        ctx.thread_type = "AUTO"
        for name, value in (colors or {}).items():
            setattr(ctx, name, value)
        self.video = stream
        self.audio = None
        if audio is not None:
            arate, layout = audio
            astream = self.container.add_stream("aac", rate=arate)
            astream.layout = layout
            astream.time_base = Fraction(1, arate)
            astream.codec_context.bit_rate = settings.audio_bitrate
            self.audio = astream
        self._durations: dict[int, int] = {}
        self._writer = _VideoPacketWriter(self.container)

    @property
    def frames(self) -> int:
        return self._writer.count

    def encode_video(self, frame: VideoFrame | None, duration: int = 0) -> None:
        if frame is not None:
            frame.time_base = self.time_base
            self._durations[int(frame.pts)] = duration
            frame.pict_type = av.video.frame.PictureType.NONE  # let the encoder pick types
        for packet in self.video.encode(frame):
            # Encoders leave packet.duration at 0; MP4 needs it for the last frame's length.
            pts = int(packet.pts) if packet.pts is not None else None
            self._writer.write(packet, self._durations.pop(pts, 0) if pts is not None else 0)
        if frame is None:
            self._writer.finish()

    def encode_audio(self, frame: AudioFrame | None) -> None:
        if self.audio is None:
            return
        for packet in self.audio.encode(frame):
            self.container.mux(packet)

    def finish(self) -> None:
        self.encode_video(None)
        self.encode_audio(None)
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()


def _info(path: str, size: tuple[int, int], frames: int, duration_s: float) -> RenditionInfo:
    size_bytes = os.path.getsize(path)
    bitrate = size_bytes * 8 / duration_s / 1000 if duration_s > 0 else 0.0
    return RenditionInfo(
        width=size[0],
        height=size[1],
        duration_s=round(duration_s, 6),
        frame_count=frames,
        bitrate_kbps=round(bitrate, 3),
        size_bytes=size_bytes,
        codec="h264",
    )


Window = tuple[float, float | None]


def _encode_ready(
    ready: Sequence[list[VideoFrame]],
    heights: Sequence[int],
    encs: Mapping[int, _Output],
    durations: dict[int, int],
) -> None:
    """Encode the frames the filter graph let out, each with its source frame's duration."""
    done: list[int] = []
    for height, frames in zip(heights, ready, strict=True):
        for frame in frames:
            pts = int(frame.pts)
            encs[height].encode_video(frame, durations[pts])
            done.append(pts)
    for pts in set(done):
        del durations[pts]


def _render(
    src: str,
    outputs: Mapping[int, str],
    settings: EncodeSettings,
    windows: Sequence[Window] | None,
    *,
    with_audio: bool,
    faststart: bool,
) -> dict[int, RenditionInfo]:
    """Decode ``src`` once and encode every output (rung height -> local path) from it.

    ``windows`` None means the whole file, with audio demuxed in the same pass. Otherwise the
    windows' frames are laid end to end on the output timeline (frame-exact cuts), and each
    window's audio is read through a second handle on the source, just behind the video.
    """
    if not outputs:
        raise ValueError("no outputs to render")
    heights = list(outputs)
    with open_input(src) as container:
        vstream = _video_stream(container)
        vstream.thread_type = "AUTO"
        astream = _audio_stream(container) if with_audio else None
        sar = _sar(vstream.sample_aspect_ratio or vstream.codec_context.sample_aspect_ratio)
        spans: list[Window] = [(0.0, None)] if windows is None else list(windows)

        with contextlib.ExitStack() as stack:
            parts = {h: stack.enter_context(_partial_file(outputs[h])) for h in heights}
            encs: dict[int, _Output] = {}
            try:
                placer: _AudioPlacer | None = None
                audio_source = None  # (container, stream) read separately for cuts
                if astream is not None:
                    origin_s = Fraction(vstream.start_time or 0) * Fraction(vstream.time_base)
                    sinks = [lambda f, h=h: encs[h].encode_audio(f) for h in heights]
                    placer = _AudioPlacer(astream, origin_s, sinks)
                    if windows is not None:
                        other = stack.enter_context(open_input(src))
                        audio_source = (other, _audio_stream(other))
                in_pass = placer is not None and windows is None
                reader = VideoReader(
                    container,
                    vstream,
                    audio=astream if in_pass else None,
                    on_audio=placer.feed if in_pass and placer is not None else None,
                )
                tb = reader.time_base
                pipe: FramePipe | None = None
                out_tick = 0  # where the current window starts on the output timeline
                durations: dict[int, int] = {}  # output pts -> duration, until encoded
                for start_s, end_s in spans:
                    start = _tick_ceil(start_s, tb)
                    end = None if end_s is None else _tick_ceil(end_s, tb)
                    first: int | None = None
                    last_end = 0
                    pulled: _PulledAudio | None = None
                    for rel, duration, frame in reader.window(start, end):
                        if pipe is None:
                            rotation = _rotation_deg(frame)
                            geometry = _Geometry(frame.width, frame.height, sar, rotation)
                            sizes = [target_size(geometry, h) for h in heights]
                            interlaced = bool(frame.interlaced_frame)
                            pipe = FramePipe(rotation, sizes, "yuv420p", tb, interlaced)
                            audio_spec = (placer.rate, placer.layout) if placer else None
                            colors = _color_tags(frame)
                            for h, size in zip(heights, sizes, strict=True):
                                encs[h] = _Output(
                                    parts[h],
                                    size,
                                    settings,
                                    tb,
                                    reader.rate,
                                    audio_spec,
                                    faststart,
                                    colors,
                                )
                        if first is None:
                            first = rel
                            if placer is not None:
                                audio_end = placer.source_end_s if windows is None else None
                                placer.begin(rel * tb, out_tick * tb, audio_end)
                            if placer is not None and audio_source is not None:
                                other, other_stream = audio_source
                                assert other_stream is not None
                                frames = _audio_frames_from(
                                    other, other_stream, rel * tb, placer.origin_s
                                )
                                pulled = _PulledAudio(placer, frames)
                        frame.pts = out_tick + rel - first
                        durations[frame.pts] = duration
                        _encode_ready(pipe.process(frame), heights, encs, durations)
                        last_end = rel + duration
                        if pulled is not None:
                            pulled.advance(rel * tb - _AUDIO_LAG_S)
                    if first is None:
                        continue  # nothing of the source in this window
                    if pulled is not None and placer is not None:
                        placer.limit(last_end * tb)
                        pulled.advance(last_end * tb)
                    if placer is not None:
                        # A cut's audio ends with its video; the whole file keeps all audio.
                        placer.end(last_end * tb if windows is not None else None)
                    out_tick += last_end - first
                if pipe is None:
                    raise CorruptMediaError(f"no video frames to encode in {src} {spans}")
                _encode_ready(pipe.flush(), heights, encs, durations)
                for enc in encs.values():
                    enc.finish()
            except BaseException:
                for enc in encs.values():
                    enc.abort()
                raise
        duration_s = float(out_tick * tb)
        return {h: _info(outputs[h], encs[h].size, encs[h].frames, duration_s) for h in heights}


def render_ladder(
    src: str,
    outputs: Mapping[int, str],
    settings: EncodeSettings | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
) -> dict[int, RenditionInfo]:
    """Encode a proxy and ladder renditions from ONE decode of the source.

    Every rung (height -> local MP4 path) is fed from the same decoded frames: upright, square
    pixels, ``yuv420p``, H.264 High, the source's frame timestamps (VFR kept), AAC audio
    (source channels for mono/stereo, else stereo; ``settings.audio_bitrate``) placed by its
    timestamps, ``movflags=+faststart``.

    Args:
        src: Source video, local path or ``gs://`` URI.
        outputs: Rung height in pixels -> local output path, e.g.
            ``{720: ".../proxy_720p.mp4", 480: ".../rendition_480p.mp4"}``.
        settings: Encoding settings (defaults: CRF 23, preset fast, libx264).
        start_s: Encode only frames at or after this time (seconds from the source's start).
        end_s: Encode only frames before this time; None: to the end.

    Returns:
        Rung height -> what was written.

    Raises:
        NoVideoStreamError, CorruptMediaError: the source has no (decodable) video in range.
        av.error.FFmpegError: decoding or encoding failed.
    """
    settings = settings or EncodeSettings()
    whole = start_s is None and end_s is None
    windows = None if whole else [(float(start_s or 0.0), end_s)]
    return _render(src, outputs, settings, windows, with_audio=True, faststart=True)


# --------------------------------------------------------------------------------------------
# Chunk-parallel encoding
# --------------------------------------------------------------------------------------------


def plan_render_chunks(
    duration_s: float,
    render_chunk_s: float,
    keyframe_times: Sequence[float] | None = None,
) -> list[tuple[float, float]]:
    """Split a source into chunks of about ``render_chunk_s`` for parallel encoding.

    Chunks are frame-exact half-open ranges that tile ``[0, duration_s)``; the end of one is
    the start of the next (the same float), so every frame falls in exactly one chunk. With
    ``keyframe_times`` each inner boundary moves to the nearest source keyframe within a
    quarter chunk, so a chunk's seek lands on its first frame and nothing is decoded twice.

    Args:
        duration_s: Source video duration in seconds (``VideoProbe.duration_s``).
        render_chunk_s: Wanted chunk length in seconds (``--render_chunk_s``).
        keyframe_times: Optional keyframe times of the source (seconds from its start).

    Returns:
        ``[(start_s, end_s), ...]``; a single ``(0, duration_s)`` for a short source. The last
        end is ``duration_s``: pass ``end_s=None`` to :func:`encode_video_range` for the last
        chunk if the duration may be short of the last frame.

    Raises:
        ValueError: Non-positive duration or chunk length.
    """
    if duration_s <= 0 or render_chunk_s <= 0:
        raise ValueError(
            f"duration_s and render_chunk_s must be positive ({duration_s}, {render_chunk_s})"
        )
    count = max(1, math.ceil(duration_s / render_chunk_s - 1e-9))
    step = duration_s / count
    bounds = [round(i * step, 6) for i in range(1, count)]
    keys = sorted(float(t) for t in keyframe_times or () if 0 < t < duration_s)
    if keys:
        snapped = []
        for bound in bounds:
            nearest = min(keys, key=lambda t, b=bound: abs(t - b))
            snapped.append(nearest if abs(nearest - bound) <= step / 4 else bound)
        bounds = snapped
    edges = [0.0] + sorted(set(b for b in bounds if 0 < b < duration_s)) + [float(duration_s)]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def keyframe_times(src: str) -> list[float]:
    """Keyframe times of the source's video (seconds from its start), from the container index.

    Reads only the index (no decoding), so it is cheap on ``gs://`` too. Index timestamps are
    decode times; they are shifted so the first keyframe is at 0, which is exact for streams
    whose keyframes all have the same reorder delay (closed GOPs, e.g. camera and x264 H.264).

    Args:
        src: Source video, local path or ``gs://`` URI.

    Returns:
        Increasing times in seconds; empty when the container has no index (e.g. MPEG-TS).
    """
    with open_input(src) as container:
        stream = _video_stream(container)
        time_base = Fraction(stream.time_base or 1)
        try:
            entries = stream.index_entries
            stamps = [e.timestamp for e in entries if e.is_keyframe] if entries else []
            first = entries[0].timestamp if entries else 0
        except Exception:  # no readable index
            return []
    return sorted({round(float((t - first) * time_base), 6) for t in stamps if t >= first})


def encode_video_range(
    src: str,
    dst: str,
    height: int,
    settings: EncodeSettings | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> RenditionInfo:
    """Encode the video frames in ``[start_s, end_s)`` to a video-only MP4 chunk.

    Seeks to the keyframe before ``start_s``, decodes forward and drops earlier frames. The
    chunk starts with an IDR frame (closed GOP), its first frame has timestamp 0 and its last
    frame lasts until the next source frame, so :func:`join_chunks` can lay chunks end to end.

    Args:
        src: Source video, local path or ``gs://`` URI.
        dst: Local output path.
        height: Rung height in pixels (see :func:`target_size`).
        settings: Encoding settings; must be the same for every chunk of a join.
        start_s: First frame time to include (seconds).
        end_s: Frames at or after this time are excluded; None: to the end.

    Returns:
        What was written.
    """
    settings = settings or EncodeSettings()
    windows = [(float(start_s), None if end_s is None else float(end_s))]
    return _render(src, {height: dst}, settings, windows, with_audio=False, faststart=False)[height]


def encode_audio(src: str, dst: str, settings: EncodeSettings | None = None) -> float | None:
    """Encode the whole source's audio once, to an AAC ``.m4a``, for :func:`join_chunks`.

    Samples are placed by timestamp relative to the video stream's start, exactly as
    :func:`render_ladder` places them.

    Args:
        src: Source video, local path or ``gs://`` URI.
        dst: Local output path (MP4/M4A).
        settings: Only ``audio_bitrate`` is used.

    Returns:
        Audio duration in seconds, or None (nothing written) when the source has no audio.
    """
    settings = settings or EncodeSettings()
    with open_input(src) as container:
        vstream = _video_stream(container)
        astream = _audio_stream(container)
        if astream is None:
            return None
        origin_s = Fraction(vstream.start_time or 0) * Fraction(vstream.time_base)
        with _partial_file(dst) as part:
            out = av.open(part, mode="w", format="mp4")
            try:
                rate, layout = _audio_target(astream)
                ostream = out.add_stream("aac", rate=rate)
                ostream.layout = layout
                ostream.time_base = Fraction(1, rate)
                ostream.codec_context.bit_rate = settings.audio_bitrate

                def sink(frame: AudioFrame | None) -> None:
                    for packet in ostream.encode(frame):
                        out.mux(packet)

                placer = _AudioPlacer(astream, origin_s, [sink])
                placer.begin(Fraction(0), Fraction(0), placer.source_end_s)
                for frame in container.decode(astream):
                    placer.feed(frame)
                placer.end(None)
                sink(None)
                out.close()
            except BaseException:
                with contextlib.suppress(Exception):
                    out.close()
                raise
        return placer.cursor / placer.rate


def _stream_end(stream: av.stream.Stream, first_pts: int, last_end: int) -> int:
    """Where a demuxed MP4 stream ends, in its ticks: its (edit list) duration if known.

    Demuxed packet durations are decode-order timestamp deltas, so ``max(pts + duration)``
    is only a fallback.
    """
    if stream.duration:
        return int(stream.start_time if stream.start_time is not None else first_pts) + int(
            stream.duration
        )
    return last_end


def _chunk_timing(path: str) -> tuple[int, int, dict[int, int]]:
    """A chunk's first pts, its end and each frame's presentation duration, in its ticks."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        pts = sorted(int(p.pts) for p in container.demux(stream) if p.pts is not None and p.size)
        if not pts:
            raise CorruptMediaError(f"chunk {path} has no video packets")
        end = _stream_end(stream, pts[0], pts[-1] + 1)
        durations = {a: b - a for a, b in zip(pts, pts[1:] + [end], strict=True)}
        return pts[0], end, durations


def join_chunks(chunk_paths: Sequence[str], audio_path: str | None, dst: str) -> RenditionInfo:
    """Join chunk MP4s end to end by stream copy (no re-encode) and mux the audio in.

    Chunk ``k`` is shifted to start where chunk ``k - 1`` ends (each chunk's first frame has
    timestamp 0 and its last frame lasts until the next chunk's first), so the joined frames
    keep the source's timestamps. Video and audio packets are interleaved by time, and the
    output is one MP4 with ``movflags=+faststart``.

    Args:
        chunk_paths: Chunks from :func:`encode_video_range`, in order, same settings and size.
        audio_path: Audio from :func:`encode_audio`, or None for no audio.
        dst: Local output path.

    Returns:
        What was written.

    Raises:
        ValueError: No chunks, or chunks that differ in codec, size or headers (SPS/PPS).
        CorruptMediaError: A chunk without video packets.
    """
    if not chunk_paths:
        raise ValueError("no chunks to join")
    with contextlib.ExitStack() as stack:
        inputs = [stack.enter_context(av.open(path)) for path in chunk_paths]
        template = inputs[0].streams.video[0]
        for path, container in zip(chunk_paths, inputs, strict=True):
            stream = container.streams.video[0]
            same = (
                stream.codec_context.name == template.codec_context.name
                and (stream.width, stream.height) == (template.width, template.height)
                and bytes(stream.codec_context.extradata or b"")
                == bytes(template.codec_context.extradata or b"")
            )
            if not same:
                raise ValueError(f"chunk {path} does not match the first chunk's stream headers")
        audio_in = stack.enter_context(av.open(audio_path)) if audio_path else None
        out_tb = Fraction(template.time_base)
        with _partial_file(dst) as part:
            out = av.open(part, mode="w", format="mp4", options={"movflags": "+faststart"})
            try:
                vout = out.add_stream_from_template(template)
                vout.time_base = out_tb
                aout = None
                if audio_in is not None and audio_in.streams.audio:
                    atemplate = audio_in.streams.audio[0]
                    aout = out.add_stream_from_template(atemplate)
                    aout.time_base = atemplate.time_base
                writer = _VideoPacketWriter(out)

                def video_packets() -> Iterator[tuple[Fraction, int, av.Packet, int]]:
                    offset = 0  # where the current chunk starts, out_tb ticks
                    last_dts: int | None = None
                    for path, container in zip(chunk_paths, inputs, strict=True):
                        first, end, durations = _chunk_timing(path)
                        stream = container.streams.video[0]
                        scale = Fraction(stream.time_base) / out_tb
                        for packet in container.demux(stream):
                            if packet.pts is None or packet.size == 0:
                                continue
                            duration = round(durations.get(int(packet.pts), 0) * scale)
                            pts = offset + round((packet.pts - first) * scale)
                            dts_in = packet.dts if packet.dts is not None else packet.pts
                            dts = offset + round((dts_in - first) * scale)
                            if last_dts is not None and dts <= last_dts:
                                dts = last_dts + 1
                            if dts > pts:
                                raise ValueError(
                                    f"cannot join {path}: its decode order would pass its "
                                    "presentation (chunks encoded with different settings?)"
                                )
                            last_dts = dts
                            packet.pts, packet.dts = pts, dts
                            packet.time_base = out_tb
                            packet.stream = vout
                            yield Fraction(dts) * out_tb, 0, packet, duration
                        offset += round((end - first) * scale)

                def audio_packets() -> Iterator[tuple[Fraction, int, av.Packet, int]]:
                    if audio_in is None or aout is None:
                        return
                    stream = audio_in.streams.audio[0]
                    for packet in audio_in.demux(stream):
                        if packet.dts is None or packet.size == 0:
                            continue
                        packet.stream = aout
                        time = Fraction(packet.dts) * Fraction(stream.time_base)
                        yield time, 1, packet, int(packet.duration or 0)

                merged = heapq.merge(
                    video_packets(), audio_packets(), key=lambda item: (item[0], item[1])
                )
                for _, kind, packet, duration in merged:
                    if kind == 0:
                        writer.write(packet, duration)
                    else:
                        out.mux(packet)
                writer.finish()
                out.close()
            except BaseException:
                with contextlib.suppress(Exception):
                    out.close()
                raise
        size = (template.width, template.height)
        frames, end = writer.count, writer.end
    return _info(dst, size, frames, float(end * out_tb))


# --------------------------------------------------------------------------------------------
# Reading outputs back
# --------------------------------------------------------------------------------------------


def probe_output(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Describe an encoded MP4 (for tests and checks): demuxes every packet, decodes one frame.

    Args:
        path: Local MP4 file.

    Returns:
        A dict with ``codec``, ``profile``, ``pix_fmt``, ``width``, ``height``, ``sar``,
        ``display_aspect`` (width * SAR / height), ``rotation`` (clockwise degrees from the
        first frame's display matrix), ``interlaced`` and ``colorspace`` (first frame's flag
        and YUV matrix, FFmpeg's AVColorSpace number), ``atoms`` and ``faststart`` (``moov`` before
        ``mdat``), ``time_base``, ``pts`` (sorted video timestamps in ticks), ``frame_count``
        (video packets), ``keyframes`` (their indexes), ``duration_s`` (last frame end minus
        first start), ``start_s``, ``has_audio``, ``audio_codec``, ``audio_rate``,
        ``audio_channels``, ``audio_start_s``, ``audio_duration_s`` and ``size_bytes``.
    """
    path = os.fspath(path)
    atoms = mp4_top_level_atoms(path)
    info: dict[str, Any] = {
        "atoms": atoms,
        "faststart": "moov" in atoms
        and "mdat" in atoms
        and atoms.index("moov") < atoms.index("mdat"),
        "size_bytes": os.path.getsize(path),
    }
    with av.open(path) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        sar = _sar(stream.sample_aspect_ratio or ctx.sample_aspect_ratio)
        tb = Fraction(stream.time_base)
        packets = [
            (p.pts, p.duration or 0, p.is_keyframe)
            for p in container.demux(stream)
            if p.pts is not None and p.size
        ]
        packets.sort()
        pts = [p[0] for p in packets]
        end = max((p + d for p, d, _ in packets), default=0)
        info.update(
            codec=ctx.name,
            profile=ctx.profile,
            pix_fmt=ctx.pix_fmt,
            width=ctx.width,
            height=ctx.height,
            sar=f"{sar.numerator}:{sar.denominator}",
            display_aspect=float(ctx.width * sar / ctx.height),
            time_base=tb,
            pts=pts,
            frame_count=len(pts),
            keyframes=[i for i, p in enumerate(packets) if p[2]],
            duration_s=float((_stream_end(stream, pts[0], end) - pts[0]) * tb) if pts else 0.0,
            start_s=float(pts[0] * tb) if pts else None,
        )
    with av.open(path) as container:
        first = next(container.decode(video=0), None)
        info["rotation"] = _rotation_deg(first) if first is not None else 0
        info["interlaced"] = bool(first.interlaced_frame) if first is not None else False
        info["colorspace"] = int(first.colorspace or 0) if first is not None else None
    with av.open(path) as container:
        info["has_audio"] = bool(container.streams.audio)
        info.update(audio_codec=None, audio_rate=None, audio_channels=None)
        info.update(audio_start_s=None, audio_duration_s=None)
        if container.streams.audio:
            astream = container.streams.audio[0]
            actx = astream.codec_context
            samples = 0
            start = None
            for frame in container.decode(astream):
                if start is None and frame.pts is not None:
                    start = float(frame.pts * Fraction(frame.time_base))
                samples += frame.samples
            if astream.duration:
                audio_duration = float(astream.duration * Fraction(astream.time_base))
            else:
                audio_duration = samples / actx.sample_rate if actx.sample_rate else None
            info.update(
                audio_codec=actx.name,
                audio_rate=actx.sample_rate,
                audio_channels=actx.channels,
                audio_start_s=start,
                audio_duration_s=audio_duration,
            )
    return info


def encode_ladder_range(
    src: str,
    outputs: Mapping[int, str],
    settings: EncodeSettings | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> dict[int, RenditionInfo]:
    """Encode one frame range ``[start_s, end_s)`` to every rung from ONE decode, video only.

    The chunk-parallel form of :func:`render_ladder`: each output is a chunk as
    :func:`encode_video_range` writes it (IDR first frame, timestamps from 0), ready for
    :func:`join_chunks`.

    Args:
        src: Source video, local path or ``gs://`` URI.
        outputs: Rung height in pixels -> local output path.
        settings: Encoding settings; the same for every chunk of a join.
        start_s: First frame time to include (seconds).
        end_s: Frames at or after this time are excluded; None: to the end.
    """
    settings = settings or EncodeSettings()
    windows = [(float(start_s), None if end_s is None else float(end_s))]
    return _render(src, outputs, settings, windows, with_audio=False, faststart=False)
