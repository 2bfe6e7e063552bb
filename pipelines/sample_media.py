"""Generate sample and test media with PyAV.

These helpers write small, deterministic media files whose properties are known exactly, so
tests, benchmarks and ``make run`` can check the pipeline against a ground truth:

* :func:`write_synthetic_clip` draws a synthetic clip (moving box, still image or noise) with
  optional display rotation, non-square pixels, variable frame rate, audio, any pixel format the
  encoder takes and any container PyAV can write (chosen by the file extension).
* :func:`write_audio_only` and :func:`write_garbage` make inputs that are not proper videos.
* :func:`write_freeze_motion_clip` turns real footage of people (see :func:`shared_media_dir`)
  into clips with still stretches, so the exact seconds during which a person moves are known.
* :func:`build_sample` builds the small sample archive that ``make run`` processes;
  ``python -m pipelines.sample_media DEST`` does the same from the command line.

Everything is written with PyAV only (no ``ffmpeg`` binary). Each file is written to a temporary
name next to the destination and renamed into place, so a reader never sees a half-written file.

Rotation convention:
    ``rotation_deg`` is the **clockwise** rotation a player applies to the stored (coded) frames
    to show them upright; it is what the legacy ``rotate`` tag of phone videos says. A phone
    held upright typically stores landscape frames with ``rotation_deg=90``. It is written as a
    display matrix (MP4/MOV ``tkhd`` matrix, Matroska projection). Readers report the opposite
    sign: PyAV 18's ``VideoFrame.rotation`` (like ``ffprobe``'s ``side_data_list[].rotation`` and
    FFmpeg's ``av_display_rotation_get``) is the *counter-clockwise* angle in ``[-180, 180]``, so
    ``rotation_deg`` 90, 180 and 270 read back as ``frame.rotation`` -90, -180 and 90. Use
    :func:`clockwise_rotation` to convert a read-back value to this module's convention.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.frame import PictureType
from av.video.stream import VideoStream
from PIL import Image

__all__ = [
    "ENV_SHARED_MEDIA",
    "POSE_DANCE",
    "POSE_SQUATS",
    "AudioTruth",
    "ClipTruth",
    "GarbageKind",
    "Pattern",
    "PlanStep",
    "build_sample",
    "clockwise_rotation",
    "main",
    "shared_media",
    "shared_media_dir",
    "write_audio_only",
    "write_freeze_motion_clip",
    "write_garbage",
    "write_synthetic_clip",
]

ENV_SHARED_MEDIA = "REELBEAM_SHARED_MEDIA"
"""Environment variable that overrides where the shared real footage lives."""

POSE_SQUATS = "pose_squats.mp4"
"""Woman doing squats: H.264 720x1280, 5 fps, 13.0 s, 65 frames, no audio."""

POSE_DANCE = "pose_1.mp4"
"""Person dancing: H.264 576x576, 30 fps, 4.0 s, 120 frames, no audio."""

Pattern = Literal["moving_box", "static", "noise"]
"""What :func:`write_synthetic_clip` draws."""

GarbageKind = Literal["zero", "text", "truncated", "png"]
"""Kinds of hostile input :func:`write_garbage` writes."""

PlanStep = (
    tuple[Literal["freeze", "black", "noise"], float]
    | tuple[Literal["play"], tuple[float, float] | None]
)
"""One step of a :func:`write_freeze_motion_clip` plan."""

Rate = int | float | Fraction

_ENCODER_THREADS = 2  # fixed, so that x264 output does not depend on the machine's core count
_SAMPLE_MANIFEST = ".reelbeam-sample.json"
_SAMPLE_RECIPE_VERSION = 1
_TONE_HZ = (440.0, 660.0, 550.0, 770.0, 330.0, 880.0, 495.0, 605.0)
_SUBSAMPLING_CODECS = frozenset({"libx264", "libx265"})
_SAR_IN_BITSTREAM = frozenset({"libx264", "libx265"})
_MP4_FAMILY = frozenset({".mp4", ".m4v", ".mov", ".m4a", ".3gp"})


@dataclasses.dataclass(frozen=True)
class ClipTruth:
    """Ground truth of a clip written by :func:`write_synthetic_clip`.

    Attributes:
        width: Coded (stored) frame width in pixels, before rotation.
        height: Coded (stored) frame height in pixels, before rotation.
        fps: Frame rate. For a variable-frame-rate clip this is the mean rate, and the frame
            gaps alternate between 2/3 and 4/3 of ``1 / fps``.
        frame_count: Number of video frames (equals the number of video packets).
        duration_s: Video duration: the last frame's timestamp plus its duration.
        rotation_deg: Clockwise rotation a player applies to show the frames upright
            (0, 90, 180 or 270); see the module docstring for the sign convention.
        sar: Sample (pixel) aspect ratio as a reduced ``(num, den)``; ``(1, 1)`` is square.
        has_audio: Whether there is an audio stream.
        audio_rate: Audio sample rate in Hz, or None without audio.
        audio_channels: Number of audio channels, or None without audio.
        codec: Video encoder name (``libx264``, ``libvpx-vp9``, ...).
        pix_fmt: Pixel format of the encoded video.
        is_vfr: Whether frame timestamps are irregularly spaced.
        audio_codec: Audio encoder name, or None without audio.
        audio_duration_s: Duration of the audio, or None without audio.
    """

    width: int
    height: int
    fps: Fraction
    frame_count: int
    duration_s: float
    rotation_deg: int
    sar: tuple[int, int]
    has_audio: bool
    audio_rate: int | None
    audio_channels: int | None
    codec: str
    pix_fmt: str
    is_vfr: bool
    audio_codec: str | None = None
    audio_duration_s: float | None = None

    @property
    def display_width(self) -> int:
        """Width of the upright picture in stored pixels (rotation applied, SAR not)."""
        return self.height if self.rotation_deg in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        """Height of the upright picture in stored pixels (rotation applied, SAR not)."""
        return self.width if self.rotation_deg in (90, 270) else self.height

    @property
    def frame_rotation(self) -> int:
        """The value PyAV 18's ``VideoFrame.rotation`` reports for this clip (counter-clockwise)."""
        return {0: 0, 90: -90, 180: -180, 270: 90}[self.rotation_deg]


@dataclasses.dataclass(frozen=True)
class AudioTruth:
    """Ground truth of a file written by :func:`write_audio_only`.

    Attributes:
        duration_s: Audio duration in seconds.
        rate: Sample rate in Hz.
        channels: Number of channels.
        codec: Audio encoder name.
        sample_count: Number of samples per channel that were encoded.
    """

    duration_s: float
    rate: int
    channels: int
    codec: str
    sample_count: int


def clockwise_rotation(frame_rotation: float) -> int:
    """Convert a read-back display rotation to this module's clockwise convention.

    Args:
        frame_rotation: Counter-clockwise angle as reported by PyAV's ``VideoFrame.rotation``
            or ffprobe's display-matrix ``rotation`` (e.g. -90).

    Returns:
        The clockwise rotation a player applies, in ``{0, 90, 180, 270}`` (e.g. 90).
    """
    return int(round(-frame_rotation / 90.0)) * 90 % 360


def shared_media_dir() -> Path:
    """Return the folder with the shared real footage (``pose_squats.mp4``, ``pose_1.mp4``).

    The environment variable ``REELBEAM_SHARED_MEDIA`` overrides the location; otherwise it is
    ``<repo root>/../shared/media``.

    Returns:
        The folder, as an absolute path.

    Raises:
        FileNotFoundError: The folder does not exist.
    """
    override = os.environ.get(ENV_SHARED_MEDIA)
    if override:
        folder = Path(override).expanduser().resolve()
        where = f"${ENV_SHARED_MEDIA}={override!r}"
    else:
        folder = (Path(__file__).resolve().parents[1].parent / "shared" / "media").resolve()
        where = "the default location <repo root>/../shared/media"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Shared test footage not found at {folder} ({where}). It must hold "
            f"{POSE_SQUATS} and {POSE_DANCE}; put it at ../shared/media next to the repository "
            f"or set {ENV_SHARED_MEDIA} to the folder that holds them. Never copy the footage "
            "into the repository."
        )
    return folder


def shared_media(name: str) -> Path:
    """Return the path of one shared footage file, e.g. ``shared_media(POSE_DANCE)``.

    Args:
        name: File name inside :func:`shared_media_dir`.

    Returns:
        The absolute path of the file.

    Raises:
        FileNotFoundError: The folder or the file does not exist.
    """
    path = shared_media_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"Shared test footage file {path} is missing.")
    return path


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same extension) and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _as_rate(value: Rate) -> Fraction:
    """Turn a frame rate given as int, float or Fraction into a positive Fraction."""
    rate = Fraction(value) if isinstance(value, (int, Fraction)) else Fraction(str(value))
    rate = rate.limit_denominator(1001)
    if rate <= 0:
        raise ValueError(f"frame rate must be positive, got {value!r}")
    return rate


def _default_video_codec(path: Path) -> str:
    return "libvpx-vp9" if path.suffix.lower() == ".webm" else "libx264"


def _default_audio_codec(path: Path) -> str:
    return "libopus" if path.suffix.lower() in (".webm", ".opus", ".ogg") else "aac"


def _video_codec_options(codec: str, crf: int | None) -> dict[str, str]:
    """Fast, quiet default options per encoder."""
    if codec == "libx264":
        return {"preset": "veryfast", "crf": str(23 if crf is None else crf)}
    if codec == "libx265":
        return {
            "preset": "ultrafast",
            "crf": str(28 if crf is None else crf),
            "x265-params": "log-level=error",
        }
    if codec == "libvpx-vp9":
        return {"deadline": "realtime", "cpu-used": "8", "crf": str(36 if crf is None else crf)}
    if codec == "libsvtav1":
        return {"preset": "12", "crf": str(40 if crf is None else crf)}
    return {}


def _check_dimensions(codec: str, pix_fmt: str, width: int, height: int) -> None:
    """Reject sizes the encoder cannot take, with a message saying what to do instead."""
    if width < 2 or height < 2:
        raise ValueError(f"frame size must be at least 2x2, got {width}x{height}")
    if codec not in _SUBSAMPLING_CODECS:
        return
    chroma = av.VideoFormat(pix_fmt, 2, 2).components
    if len(chroma) < 2:  # gray formats
        return
    odd_w = width % 2 and chroma[1].width == 1
    odd_h = height % 2 and chroma[1].height == 1
    if odd_w or odd_h:
        raise ValueError(
            f"{codec} cannot encode {width}x{height} in {pix_fmt}: its chroma is subsampled, so "
            "the subsampled dimensions must be even. Use pix_fmt='yuv444p' for odd sizes "
            "(or yuv422p for an odd height only), or a codec such as libvpx-vp9."
        )


def _add_video_stream(
    container: OutputContainer,
    codec: str,
    *,
    fps: Fraction,
    width: int,
    height: int,
    pix_fmt: str,
    time_base: Fraction,
    gop_size: int | None = None,
    sar: Fraction | None = None,
    rotation_deg: int = 0,
    options: Mapping[str, str] | None = None,
) -> VideoStream:
    """Add and configure a video stream; ``rotation_deg`` is clockwise (module convention)."""
    stream = container.add_stream(codec, rate=fps, options=dict(options or {}))
    assert isinstance(stream, VideoStream)
    stream.width = width
    stream.height = height
    stream.pix_fmt = pix_fmt
    stream.time_base = time_base
    ctx = stream.codec_context
    ctx.time_base = time_base
    ctx.thread_count = _ENCODER_THREADS
    if gop_size is not None:
        ctx.gop_size = gop_size
    if sar is not None and sar != 1:
        ctx.sample_aspect_ratio = sar
    if rotation_deg:
        # PyAV's set_display_rotation takes the counter-clockwise angle (as frame.rotation
        # reports it); the written tkhd matrix is the phone-style one ({0,1,-1,0} for 90).
        stream.set_display_rotation(-rotation_deg)
    return stream


def _mux_video(
    container: OutputContainer, packets: Sequence[av.Packet], gaps: Mapping[int, int] | None
) -> None:
    """Mux encoded video packets, giving each its frame's duration.

    libx264 leaves ``packet.duration`` at 0 even when ``frame.duration`` is set, so MP4 would
    guess the last frame's duration from the previous gap; setting it keeps the container
    duration exact. ``gaps`` maps a pts to its duration in the encoder time base; None means 1.
    """
    for packet in packets:
        if packet.pts is not None:
            packet.duration = 1 if gaps is None else gaps.get(packet.pts, 0)
        container.mux(packet)


def _channel_layout(channels: int) -> str:
    layouts = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 8: "7.1"}
    if channels not in layouts:
        raise ValueError(f"unsupported channel count {channels}; use one of {sorted(layouts)}")
    return layouts[channels]


def _add_audio_stream(
    container: OutputContainer, codec: str, rate: int, channels: int
) -> AudioStream:
    stream = container.add_stream(codec, rate=rate)
    assert isinstance(stream, AudioStream)
    stream.layout = _channel_layout(channels)
    stream.time_base = Fraction(1, rate)
    if codec == "aac":
        stream.codec_context.bit_rate = 64_000 * channels
    return stream


class _ToneWriter:
    """Encode a sine tone (one pitch per channel) in pieces, so it interleaves with video."""

    def __init__(
        self, container: OutputContainer, stream: AudioStream, rate: int, channels: int
    ) -> None:
        self._container = container
        self._stream = stream
        self._rate = rate
        self._channels = channels
        self._layout = _channel_layout(channels)
        self._written = 0

    def write_until(self, seconds: float) -> None:
        """Encode samples up to ``seconds`` (rounded to a whole sample)."""
        end = round(seconds * self._rate)
        chunk = 1024
        while self._written < end:
            count = min(chunk, end - self._written)
            t = (np.arange(self._written, self._written + count) / self._rate)[np.newaxis, :]
            hz = np.array(_TONE_HZ[: self._channels])[:, np.newaxis]
            samples = (0.2 * np.sin(2.0 * np.pi * hz * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples), format="fltp", layout=self._layout
            )
            frame.sample_rate = self._rate
            frame.pts = self._written
            frame.time_base = Fraction(1, self._rate)
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
            self._written += count

    def finish(self, seconds: float) -> int:
        """Encode the rest up to ``seconds``, flush the encoder and return the sample count."""
        self.write_until(seconds)
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        return self._written


# --------------------------------------------------------------------------------------------
# Synthetic clips
# --------------------------------------------------------------------------------------------


class _PatternPainter:
    """Draw the upright (display orientation) RGB picture of one frame of a pattern."""

    def __init__(self, pattern: Pattern, width: int, height: int, fps: Fraction, seed: int):
        if pattern not in ("moving_box", "static", "noise"):
            raise ValueError(f"unknown pattern {pattern!r}")
        self._pattern = pattern
        self._width = width
        self._height = height
        self._seed = seed
        ramp_x = np.linspace(40, 200, width, dtype=np.float32)[np.newaxis, :]
        ramp_y = np.linspace(60, 160, height, dtype=np.float32)[:, np.newaxis]
        base = np.empty((height, width, 3), dtype=np.uint8)
        base[..., 0] = (ramp_x * 0.6 + ramp_y * 0.4).astype(np.uint8)
        base[..., 1] = (ramp_y * 0.8 + 20).astype(np.uint8)
        base[..., 2] = (240 - ramp_x * 0.7).astype(np.uint8)
        self._marker = max(1, min(width, height) // 8)  # red top-left corner when upright
        self._base = base
        self._box = max(1, min(width, height) // 4)
        # Cross the picture in about two seconds.
        self._speed_x = max(1, round((width - self._box) / (2 * fps)))
        self._speed_y = max(1, round((height - self._box) / (3 * fps)))

    @staticmethod
    def _bounce(step: int, span: int) -> int:
        if span <= 0:
            return 0
        pos = step % (2 * span)
        return pos if pos <= span else 2 * span - pos

    def paint(self, index: int) -> np.ndarray:
        if self._pattern == "noise":
            rng = np.random.default_rng([self._seed, index])
            return rng.integers(0, 256, (self._height, self._width, 3), dtype=np.uint8)
        frame = self._base.copy()
        step = 0 if self._pattern == "static" else index
        x = self._bounce(step * self._speed_x, self._width - self._box)
        y = self._bounce(step * self._speed_y, self._height - self._box)
        frame[y : y + self._box, x : x + self._box] = (250, 250, 250)
        frame[: self._marker, : self._marker] = (230, 30, 30)  # the marker stays on top
        return frame


def write_synthetic_clip(
    path: str | os.PathLike[str],
    *,
    duration_s: float,
    fps: Rate = 25,
    width: int = 320,
    height: int = 240,
    codec: str | None = None,
    pix_fmt: str = "yuv420p",
    pattern: Pattern = "moving_box",
    rotation_deg: int = 0,
    sar: tuple[int, int] = (1, 1),
    audio: bool = False,
    audio_rate: int = 48000,
    audio_channels: int = 2,
    audio_codec: str | None = None,
    vfr: bool = False,
    gop_size: int | None = None,
    crf: int | None = None,
    seed: int = 0,
    codec_options: Mapping[str, str] | None = None,
    container_options: Mapping[str, str] | None = None,
) -> ClipTruth:
    """Write a synthetic clip with exactly known properties.

    The container follows the extension (``.mp4``, ``.mov``, ``.mkv``, ``.webm``, ...). Frame
    ``i`` of a constant-rate clip has timestamp ``i / fps``. The picture is drawn upright at the
    display size and stored rotated, so a player that honours the rotation shows it upright,
    with a red marker in its top-left corner.

    Args:
        path: Output file; its parent folders are created.
        duration_s: Wanted duration; the clip gets ``round(duration_s * fps)`` frames.
        fps: Frame rate (mean rate when ``vfr``).
        width: Coded frame width, i.e. as stored, before rotation.
        height: Coded frame height, before rotation.
        codec: Video encoder; default ``libvpx-vp9`` for ``.webm`` and ``libx264`` otherwise.
        pix_fmt: Pixel format to encode, e.g. ``yuv420p``, ``yuv420p10le``, ``yuv422p``,
            ``yuv444p``. libx264/libx265 with chroma subsampling need even subsampled
            dimensions (ValueError otherwise); use ``yuv444p`` for odd sizes.
        pattern: ``moving_box`` (a white box bounces over a gradient), ``static`` (the same
            picture in every frame) or ``noise`` (fresh random pixels in every frame).
        rotation_deg: Clockwise rotation a player applies to show the stored frames upright: 0,
            90, 180 or 270 (other multiples of 90 are normalised). Written as a display matrix;
            PyAV reads it back as ``VideoFrame.rotation == -rotation_deg`` (normalised to
            [-180, 180], i.e. 90 -> -90, 180 -> -180, 270 -> 90).
        sar: Sample (pixel) aspect ratio, e.g. ``(4, 3)`` for 1440x1080-style anamorphic
            video. libx264/libx265 store it in the bitstream (any container); other encoders
            only in MP4/MOV (``pasp`` box), else ValueError.
        audio: Add a sine tone (one pitch per channel) as long as the video.
        audio_rate: Audio sample rate in Hz.
        audio_channels: Number of audio channels.
        audio_codec: Audio encoder; default ``libopus`` for ``.webm``, ``aac`` otherwise.
        vfr: Variable frame rate: the gaps between frames alternate between ``2 / (3 * fps)``
            and ``4 / (3 * fps)`` (1/30 s and 1/15 s at 20 fps) in a ``1 / (3 * fps)`` time
            base, so the mean rate is still ``fps``.
        gop_size: Keyframe interval in frames; with libx264 scene-cut keyframes are turned off
            too, so keyframes fall exactly every ``gop_size`` frames.
        crf: Constant rate factor; None picks a per-encoder default.
        seed: Seed of the ``noise`` pattern.
        codec_options: Extra encoder options (override the defaults).
        container_options: Muxer options, e.g. ``{"movflags": "+faststart"}``.

    Returns:
        The ground truth of the written clip.

    Raises:
        ValueError: An argument the encoder or container cannot honour.
    """
    out = Path(path)
    rate = _as_rate(fps)
    video_codec = codec or _default_video_codec(out)
    rotation = int(rotation_deg) % 360
    if rotation % 90:
        raise ValueError(f"rotation_deg must be a multiple of 90, got {rotation_deg}")
    sar_q = Fraction(*sar)
    if sar_q <= 0:
        raise ValueError(f"sar must be positive, got {sar}")
    if (
        sar_q != 1
        and video_codec not in _SAR_IN_BITSTREAM
        and out.suffix.lower() not in _MP4_FAMILY
    ):
        raise ValueError(
            f"non-square pixels with {video_codec} survive only in MP4/MOV; use libx264 or an "
            ".mp4/.mov file"
        )
    _check_dimensions(video_codec, pix_fmt, width, height)
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    frame_count = max(1, round(duration_s * rate))

    if vfr:
        time_base = 1 / (3 * rate)
        pts = [3 * i - (i % 2) for i in range(frame_count + 1)]
    else:
        time_base = 1 / rate
        pts = list(range(frame_count + 1))
    duration = float(pts[-1] * time_base)
    gaps = {pts[i]: pts[i + 1] - pts[i] for i in range(frame_count)}

    display_w, display_h = (height, width) if rotation in (90, 270) else (width, height)
    painter = _PatternPainter(pattern, display_w, display_h, rate, seed)
    options = _video_codec_options(video_codec, crf)
    if gop_size is not None and video_codec == "libx264":
        options["x264-params"] = "scenecut=0"
    options.update(codec_options or {})
    acodec = audio_codec or _default_audio_codec(out)

    with _atomic_path(out) as tmp:
        container = av.open(str(tmp), mode="w", options=dict(container_options or {}))
        assert isinstance(container, OutputContainer)
        with container:
            vstream = _add_video_stream(
                container,
                video_codec,
                fps=rate,
                width=width,
                height=height,
                pix_fmt=pix_fmt,
                time_base=time_base,
                gop_size=gop_size,
                sar=sar_q,
                rotation_deg=rotation,
                options=options,
            )
            tone = None
            if audio:
                astream = _add_audio_stream(container, acodec, audio_rate, audio_channels)
                tone = _ToneWriter(container, astream, audio_rate, audio_channels)
            for i in range(frame_count):
                upright = painter.paint(i)
                stored = np.ascontiguousarray(np.rot90(upright, k=rotation // 90))
                frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
                frame.pts = pts[i]
                frame.duration = pts[i + 1] - pts[i]
                frame.time_base = time_base
                _mux_video(container, vstream.encode(frame), gaps)
                if tone is not None:
                    tone.write_until(float(pts[i + 1] * time_base))
            _mux_video(container, vstream.encode(None), gaps)
            samples = tone.finish(duration) if tone is not None else 0

    return ClipTruth(
        width=width,
        height=height,
        fps=rate,
        frame_count=frame_count,
        duration_s=duration,
        rotation_deg=rotation,
        sar=(sar_q.numerator, sar_q.denominator),
        has_audio=audio,
        audio_rate=audio_rate if audio else None,
        audio_channels=audio_channels if audio else None,
        codec=video_codec,
        pix_fmt=pix_fmt,
        is_vfr=vfr,
        audio_codec=acodec if audio else None,
        audio_duration_s=samples / audio_rate if audio else None,
    )


def write_audio_only(
    path: str | os.PathLike[str],
    duration_s: float,
    *,
    rate: int = 48000,
    channels: int = 2,
    codec: str | None = None,
) -> AudioTruth:
    """Write a file with a sine tone and no video stream (AAC in ``.m4a``/``.mp4``).

    Args:
        path: Output file (``.m4a``, ``.mp4``, ``.mka``, ``.webm``, ...).
        duration_s: Duration in seconds.
        rate: Sample rate in Hz.
        channels: Number of channels.
        codec: Audio encoder; default ``libopus`` for ``.webm``/``.ogg``/``.opus``, else ``aac``.

    Returns:
        The ground truth of the written file.
    """
    out = Path(path)
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    acodec = codec or _default_audio_codec(out)
    with _atomic_path(out) as tmp:
        container = av.open(str(tmp), mode="w")
        assert isinstance(container, OutputContainer)
        with container:
            stream = _add_audio_stream(container, acodec, rate, channels)
            samples = _ToneWriter(container, stream, rate, channels).finish(duration_s)
    return AudioTruth(
        duration_s=samples / rate, rate=rate, channels=channels, codec=acodec, sample_count=samples
    )


def write_garbage(
    path: str | os.PathLike[str],
    kind: GarbageKind,
    *,
    source: str | os.PathLike[str] | None = None,
    keep_fraction: float = 0.5,
) -> Path:
    """Write a small hostile input that has a video-like name but is not a playable video.

    Args:
        path: Output file, usually with a video extension such as ``.mp4``.
        kind: ``zero`` (empty file), ``text`` (a few lines of text), ``truncated`` (the first
            ``keep_fraction`` of the bytes of a valid MP4: ``source``, or a 1 s synthetic clip
            when None; the ``moov`` index sits at the end, so the result does not open) or
            ``png`` (a 64x48 PNG image).
        source: Valid video to truncate (``truncated`` only).
        keep_fraction: Share of the source's bytes to keep (``truncated`` only), in (0, 1).

    Returns:
        The written path.

    Raises:
        ValueError: Unknown ``kind`` or ``keep_fraction`` out of range.
    """
    out = Path(path)
    with _atomic_path(out) as tmp:
        if kind == "zero":
            tmp.write_bytes(b"")
        elif kind == "text":
            tmp.write_text(
                "This is not a video.\nIt is a text file with a video extension, written by\n"
                "pipelines.sample_media.write_garbage to test hostile inputs.\n",
                encoding="utf-8",
            )
        elif kind == "truncated":
            if not 0.0 < keep_fraction < 1.0:
                raise ValueError(f"keep_fraction must be in (0, 1), got {keep_fraction}")
            if source is None:
                valid = tmp.with_name(f".{out.stem}.src-{os.getpid()}.mp4")
                try:
                    write_synthetic_clip(valid, duration_s=1.0, fps=10, width=64, height=48)
                    data = valid.read_bytes()
                finally:
                    valid.unlink(missing_ok=True)
            else:
                data = Path(source).read_bytes()
            tmp.write_bytes(data[: max(1, int(len(data) * keep_fraction))])
        elif kind == "png":
            picture = _PatternPainter("moving_box", 64, 48, Fraction(10), 0).paint(0)
            Image.fromarray(picture).save(tmp, format="PNG")
        else:
            raise ValueError(f"unknown garbage kind {kind!r}")
    return out


# --------------------------------------------------------------------------------------------
# Freeze / motion clips from real footage
# --------------------------------------------------------------------------------------------


def _even(value: float) -> int:
    return max(2, int(round(value / 2.0)) * 2)


def _output_size(src_w: int, src_h: int, size: int | tuple[int, int] | None) -> tuple[int, int]:
    """Even output size for a source, keeping its aspect ratio."""
    if size is None:
        return _even(src_w), _even(src_h)
    if isinstance(size, int):
        scale = size / max(src_w, src_h)
    else:
        scale = min(size[0] / src_w, size[1] / src_h)
    return _even(src_w * scale), _even(src_h * scale)


def _yuv420_fill(width: int, height: int, luma: int) -> np.ndarray:
    """A flat yuv420p picture as the (H * 3 / 2, W) array ``VideoFrame.from_ndarray`` takes."""
    frame = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
    frame[:height] = luma
    return frame


class _NoisePainter:
    """Blocky random texture that scrolls diagonally: moving pixels, but no person."""

    def __init__(self, width: int, height: int, seed: int) -> None:
        self._width = width
        self._height = height
        block = 8
        rng = np.random.default_rng(seed)
        tiles = rng.integers(16, 236, (height // block + 2, width // block + 2), dtype=np.uint8)
        texture = np.repeat(np.repeat(tiles, block, axis=0), block, axis=1)
        self._texture = texture
        self._tile_h, self._tile_w = texture.shape

    def paint(self, index: int) -> np.ndarray:
        dy = (index * 3) % self._tile_h
        dx = (index * 5) % self._tile_w
        rolled = np.roll(self._texture, (dy, dx), axis=(0, 1))
        frame = _yuv420_fill(self._width, self._height, 0)
        frame[: self._height] = rolled[: self._height, : self._width]
        return frame


@dataclasses.dataclass
class _Source:
    """Decoded source footage, already scaled to the output size as yuv420p arrays."""

    times: list[Fraction]
    frames: list[np.ndarray]
    duration: Fraction
    rate: Fraction

    def frame_at(self, t: Fraction) -> np.ndarray:
        """The frame on screen at source time ``t`` (the last one whose time is <= t)."""
        return self.frames[max(0, bisect.bisect_right(self.times, t) - 1)]


def _decode_source(source: Path, size: int | tuple[int, int] | None) -> tuple[_Source, int, int]:
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise ValueError(f"{source}: cannot tell the frame rate")
        rate = Fraction(rate)
        out_w, out_h = _output_size(stream.width, stream.height, size)
        stream.thread_type = "AUTO"
        start: Fraction | None = None
        times: list[Fraction] = []
        frames: list[np.ndarray] = []
        for index, frame in enumerate(container.decode(stream)):
            if frame.pts is None or frame.time_base is None:
                t = index / rate
            else:
                t = frame.pts * frame.time_base
            if start is None:
                start = t
            times.append(t - start)
            scaled = frame.reformat(width=out_w, height=out_h, format="yuv420p")
            frames.append(scaled.to_ndarray())
    if not frames:
        raise ValueError(f"{source}: no video frames")
    return _Source(times, frames, times[-1] + 1 / rate, rate), out_w, out_h


def write_freeze_motion_clip(
    path: str | os.PathLike[str],
    source: str | os.PathLike[str],
    plan: Sequence[PlanStep],
    *,
    fps: Rate | None = None,
    size: int | tuple[int, int] | None = None,
    crf: int = 20,
    audio: bool = False,
    audio_rate: int = 48000,
    audio_channels: int = 2,
    gop_size: int | None = None,
    seed: int = 0,
) -> list[tuple[float, float]]:
    """Re-encode real footage into a clip whose motion stretches are known exactly.

    The output is H.264 (libx264, CRF ``crf``, yuv420p) at a constant frame rate; frame ``i``
    has timestamp ``i / fps`` exactly. Steps, in order:

    * ``("freeze", seconds)``: hold the last frame shown still. A freeze before anything was
      shown holds the first frame of the next ``play`` step (the source's first frame for a
      full play), so the cut into the motion is seamless.
    * ``("play", None)`` or ``("play", (start_s, end_s))``: play all, or that part, of the
      source in real time (frames are picked by time when the rates differ).
    * ``("black", seconds)``: black frames.
    * ``("noise", seconds)``: a blocky random texture that scrolls: moving pixels, no person.

    Each step lasts ``round(seconds * fps)`` frames, and the returned times follow from those
    whole frame counts. Chain ``("play", None)`` steps to loop footage for longer benchmarks.
    The source's pixels are used as stored: a display rotation on the source is not carried
    over (the shared footage has none).

    Args:
        path: Output file (``.mp4``, ``.mov``, ``.mkv``).
        source: Footage to use, e.g. ``shared_media(POSE_DANCE)``.
        plan: The steps.
        fps: Output frame rate; default the source's average rate.
        size: Optional resize keeping the aspect ratio: an int is the length of the longer
            side, a ``(width, height)`` tuple a box to fit in. Dimensions are rounded to even.
        crf: x264 constant rate factor.
        audio: Add a sine tone (AAC) as long as the video.
        audio_rate: Audio sample rate in Hz.
        audio_channels: Number of audio channels.
        gop_size: Maximum keyframe interval in frames. By default the only keyframes are the
            first frame and the first frame of each ``play`` step, so every freeze decodes
            bit-identical to its first frame. A periodic keyframe that lands in a freeze
            re-encodes the still and shifts its pixels slightly (mean abs diff below 1 level).
        seed: Seed of the ``noise`` texture.

    Returns:
        The ``(start_s, end_s)`` output-time intervals during which the source plays (a person
        moves), adjacent play steps merged. Pixels change only between frames whose
        timestamps lie in ``[start_s, end_s)``; freeze and black steps are still, and noise
        steps move but show no person, so neither counts as motion here. E.g. a plan
        ``[("freeze", 3), ("play", None), ("freeze", 3)]`` on ``pose_1.mp4`` gives
        ``[(3.0, 7.0)]``.

    Raises:
        ValueError: A malformed step or a play range outside the source.
    """
    out = Path(path)
    src, out_w, out_h = _decode_source(Path(source), size)
    rate = src.rate if fps is None else _as_rate(fps)

    # Resolve the plan into (kind, frame_count, play_start) before encoding anything.
    steps: list[tuple[str, int, Fraction]] = []
    for step in plan:
        if not isinstance(step, (tuple, list)) or len(step) != 2:
            raise ValueError(f"plan step must be a (kind, argument) pair, got {step!r}")
        kind, arg = step
        if kind == "play":
            if arg is None:
                start, end = Fraction(0), src.duration
            else:
                start, end = (Fraction(str(v)) for v in arg)
            if not 0 <= start < end <= src.duration + Fraction(1, 1000):
                raise ValueError(
                    f"play range {arg!r} is outside the source (0 to {float(src.duration)} s)"
                )
            steps.append(("play", round((end - start) * rate), start))
        elif kind in ("freeze", "black", "noise"):
            if not isinstance(arg, (int, float, Fraction)) or arg <= 0:
                raise ValueError(f"{kind} step needs a positive duration, got {arg!r}")
            steps.append((kind, round(Fraction(str(arg)) * rate), Fraction(0)))
        else:
            raise ValueError(f"unknown plan step kind {kind!r}")
    total = sum(count for _, count, _ in steps)
    if total == 0:
        raise ValueError("the plan produces no frames")

    noise = _NoisePainter(out_w, out_h, seed)
    black = _yuv420_fill(out_w, out_h, 16)
    held: np.ndarray | None = None
    intervals: list[tuple[float, float]] = []
    time_base = 1 / rate
    options = _video_codec_options("libx264", crf)

    with _atomic_path(out) as tmp:
        container = av.open(str(tmp), mode="w")
        assert isinstance(container, OutputContainer)
        with container:
            vstream = _add_video_stream(
                container,
                "libx264",
                fps=rate,
                width=out_w,
                height=out_h,
                pix_fmt="yuv420p",
                time_base=time_base,
                gop_size=gop_size if gop_size is not None else total + 1,
                options=options,
            )
            tone = None
            if audio:
                astream = _add_audio_stream(container, "aac", audio_rate, audio_channels)
                tone = _ToneWriter(container, astream, audio_rate, audio_channels)
            index = 0
            noise_index = 0
            for step_no, (kind, count, start) in enumerate(steps):
                if kind == "play":
                    begin, end = float(index * time_base), float((index + count) * time_base)
                    if intervals and intervals[-1][1] == begin:
                        intervals[-1] = (intervals[-1][0], end)
                    elif count:
                        intervals.append((begin, end))
                elif kind == "freeze" and held is None:
                    later = [s for k, _, s in steps[step_no:] if k == "play"]
                    held = src.frame_at(later[0] if later else Fraction(0))
                for j in range(count):
                    if kind == "play":
                        picture = src.frame_at(start + j * time_base)
                    elif kind == "black":
                        picture = black
                    elif kind == "noise":
                        picture = noise.paint(noise_index)
                        noise_index += 1
                    else:
                        assert held is not None
                        picture = held
                    held = picture
                    frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
                    if j == 0 and kind == "play":
                        # Keyframes only where motion starts: an I-frame inside a still would
                        # re-encode it and shift its pixels (mean abs diff ~1 level).
                        frame.pict_type = PictureType.I
                    frame.pts = index
                    frame.duration = 1
                    frame.time_base = time_base
                    _mux_video(container, vstream.encode(frame), None)
                    index += 1
                    if tone is not None:
                        tone.write_until(float(index * time_base))
            _mux_video(container, vstream.encode(None), None)
            if tone is not None:
                tone.finish(float(index * time_base))
    return intervals


# --------------------------------------------------------------------------------------------
# The sample archive for `make run`
# --------------------------------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class _Recipe:
    """How one sample file is made; its fields (as JSON) fingerprint the file."""

    kind: Literal["copy", "freeze_motion", "synthetic"]
    source: str | None = None
    plan: tuple[PlanStep, ...] = ()
    size: int | None = None
    audio: bool = False
    duration_s: float = 0.0
    fps: int = 25
    width: int = 320
    height: int = 240
    rotation_deg: int = 0

    def build(self, target: Path) -> None:
        """Write the file at ``target``."""
        if self.kind == "synthetic":
            write_synthetic_clip(
                target,
                duration_s=self.duration_s,
                fps=self.fps,
                width=self.width,
                height=self.height,
                rotation_deg=self.rotation_deg,
                audio=self.audio,
            )
            return
        assert self.source is not None
        source = shared_media(self.source)
        if self.kind == "copy":
            with _atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        else:
            write_freeze_motion_clip(target, source, self.plan, size=self.size, audio=self.audio)


_FREEZE_PLAY_FREEZE: tuple[PlanStep, ...] = (("freeze", 2.0), ("play", None), ("freeze", 2.0))

_SAMPLE_RECIPES: dict[str, _Recipe] = {
    "dance/day1/cam1.mp4": _Recipe("freeze_motion", POSE_DANCE, _FREEZE_PLAY_FREEZE),
    "squats/day1/cam1.mp4": _Recipe("copy", POSE_SQUATS),
    "squats/day2/cam2.mov": _Recipe(
        "freeze_motion", POSE_SQUATS, _FREEZE_PLAY_FREEZE, size=640, audio=True
    ),
    "synthetic/day1/rotated_phone.mp4": _Recipe(
        "synthetic", duration_s=4.0, fps=25, width=320, height=180, rotation_deg=90, audio=True
    ),
}
"""The sample archive, keyed by path relative to the sample folder."""


def build_sample(dest_dir: str | os.PathLike[str]) -> list[Path]:
    """Build the small sample archive that ``make run`` processes.

    Layout (``<event>/day<N>/<camera>.<ext>``, about 42 s of video in all):

    * ``dance/day1/cam1.mp4``: ``pose_1.mp4`` frozen 2 s, played (4 s), frozen 2 s; a person
      moves during [2.0, 6.0) s. 576x576, 30 fps, no audio.
    * ``squats/day1/cam1.mp4``: a byte copy of ``pose_squats.mp4`` (moving almost all 13 s).
    * ``squats/day2/cam2.mov``: ``pose_squats.mp4`` frozen 2 s, played (13 s), frozen 2 s,
      scaled to 360x640, 5 fps, with an AAC tone; motion during [2.0, 15.0) s.
    * ``synthetic/day1/rotated_phone.mp4``: 4 s synthetic moving box stored 320x180 with
      ``rotation_deg=90`` (upright 180x320), 25 fps, AAC tone, no person.

    The build is idempotent: a file is skipped when it exists and the hidden manifest
    ``.reelbeam-sample.json`` in ``dest_dir`` records the same recipe (including the source
    footage's SHA-256 and the PyAV version) and file size. Files are written to temporary
    names and renamed into place.

    Args:
        dest_dir: Folder to build in; created if missing.

    Returns:
        The absolute paths of the sample files, in a fixed order.

    Raises:
        FileNotFoundError: The shared footage is missing (see :func:`shared_media_dir`).
    """
    shared_media_dir()  # fail early, with instructions, when the footage is missing
    dest = Path(dest_dir).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    manifest_path = dest / _SAMPLE_MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            manifest = {}
    except (OSError, ValueError):
        manifest = {}

    digests: dict[str, str] = {}
    paths: list[Path] = []
    for rel, recipe in _SAMPLE_RECIPES.items():
        full: dict[str, object] = dataclasses.asdict(recipe)
        full.update(version=_SAMPLE_RECIPE_VERSION, av=av.__version__)
        if recipe.source is not None:
            if recipe.source not in digests:
                digests[recipe.source] = _file_digest(shared_media(recipe.source))
            full["source_sha256"] = digests[recipe.source]
        fingerprint = hashlib.sha256(json.dumps(full, sort_keys=True).encode()).hexdigest()
        target = dest / rel
        entry = manifest.get(rel)
        fresh = (
            isinstance(entry, dict)
            and entry.get("recipe") == fingerprint
            and target.is_file()
            and entry.get("size") == target.stat().st_size
        )
        if not fresh:
            manifest.pop(rel, None)
            recipe.build(target)
            manifest[rel] = {"recipe": fingerprint, "size": target.stat().st_size}
            with _atomic_path(manifest_path) as tmp:
                tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        paths.append(target)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m pipelines.sample_media DEST`` builds the sample in DEST.

    Args:
        argv: Arguments without the program name; default ``sys.argv[1:]``.

    Returns:
        The exit status (0 on success, 1 when the shared footage is missing).
    """
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.sample_media",
        description="Build the small sample video archive that `make run` processes.",
    )
    parser.add_argument("dest", type=Path, help="folder to build the sample in")
    args = parser.parse_args(argv)
    try:
        paths = build_sample(args.dest)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
