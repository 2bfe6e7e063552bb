"""Synthetic clips with exactly known properties: moving box, still picture or noise.

:func:`write_synthetic_clip` covers the edge cases real footage rarely has (display rotation,
non-square pixels, variable frame rate, audio, odd pixel formats, any container);
:func:`write_audio_only` makes a file with no video stream. Rotation follows the clockwise
convention described in :mod:`tests.helpers.media.truth`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from av.container import OutputContainer

from tests.helpers.media.encoding import (
    Rate,
    ToneWriter,
    add_audio_stream,
    add_video_stream,
    as_rate,
    atomic_path,
    check_dimensions,
    default_audio_codec,
    default_video_codec,
    mux_video,
    video_codec_options,
)
from tests.helpers.media.truth import AudioTruth, ClipTruth

Pattern = Literal["moving_box", "static", "noise"]
"""What :func:`write_synthetic_clip` draws."""


_SAR_IN_BITSTREAM = frozenset({"libx264", "libx265"})
_MP4_FAMILY = frozenset({".mp4", ".m4v", ".mov", ".m4a", ".3gp"})


class PatternPainter:
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
    audio_click_every_s: float | None = None,
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
        audio_click_every_s: Instead of a steady tone, a click (10 ms of it, louder) at
            every multiple of this many seconds, silence between: onsets at known times.
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
    rate = as_rate(fps)
    video_codec = codec or default_video_codec(out)
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
    check_dimensions(video_codec, pix_fmt, width, height)
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
    painter = PatternPainter(pattern, display_w, display_h, rate, seed)
    options = video_codec_options(video_codec, crf)
    if gop_size is not None and video_codec == "libx264":
        options["x264-params"] = "scenecut=0"
    options.update(codec_options or {})
    acodec = audio_codec or default_audio_codec(out)

    with atomic_path(out) as tmp:
        container = av.open(str(tmp), mode="w", options=dict(container_options or {}))
        assert isinstance(container, OutputContainer)
        with container:
            vstream = add_video_stream(
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
                astream = add_audio_stream(container, acodec, audio_rate, audio_channels)
                tone = ToneWriter(
                    container, astream, audio_rate, audio_channels, audio_click_every_s
                )
            for i in range(frame_count):
                upright = painter.paint(i)
                stored = np.ascontiguousarray(np.rot90(upright, k=rotation // 90))
                frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
                frame.pts = pts[i]
                frame.duration = pts[i + 1] - pts[i]
                frame.time_base = time_base
                mux_video(container, vstream.encode(frame), gaps)
                if tone is not None:
                    tone.write_until(float(pts[i + 1] * time_base))
            mux_video(container, vstream.encode(None), gaps)
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
    acodec = codec or default_audio_codec(out)
    with atomic_path(out) as tmp:
        container = av.open(str(tmp), mode="w")
        assert isinstance(container, OutputContainer)
        with container:
            stream = add_audio_stream(container, acodec, rate, channels)
            samples = ToneWriter(container, stream, rate, channels).finish(duration_s)
    return AudioTruth(
        duration_s=samples / rate, rate=rate, channels=channels, codec=acodec, sample_count=samples
    )
