"""Freeze / motion clips: real footage of people re-encoded with still stretches.

:func:`write_freeze_motion_clip` holds frames still, plays the footage, adds black or
moving-noise stretches, and returns the exact seconds during which a person moves: the
ground truth of the motion-detection tests.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from av.container import OutputContainer
from av.video.frame import PictureType

from tests.helpers.media.encoding import (
    Rate,
    ToneWriter,
    add_audio_stream,
    add_video_stream,
    as_rate,
    atomic_path,
    mux_video,
    video_codec_options,
)

PlanStep = (
    tuple[Literal["freeze", "black", "noise"], float]
    | tuple[Literal["play"], tuple[float, float] | None]
)
"""One step of a :func:`write_freeze_motion_clip` plan."""


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
        ``[("freeze", 3), ("play", None), ("freeze", 3)]`` on ``dance.mp4`` gives
        ``[(3.0, 7.2)]``.

    Raises:
        ValueError: A malformed step or a play range outside the source.
    """
    out = Path(path)
    src, out_w, out_h = _decode_source(Path(source), size)
    rate = src.rate if fps is None else as_rate(fps)

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
    options = video_codec_options("libx264", crf)

    with atomic_path(out) as tmp:
        container = av.open(str(tmp), mode="w")
        assert isinstance(container, OutputContainer)
        with container:
            vstream = add_video_stream(
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
                astream = add_audio_stream(container, "aac", audio_rate, audio_channels)
                tone = ToneWriter(container, astream, audio_rate, audio_channels)
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
                    mux_video(container, vstream.encode(frame), None)
                    index += 1
                    if tone is not None:
                        tone.write_until(float(index * time_base))
            mux_video(container, vstream.encode(None), None)
            if tone is not None:
                tone.finish(float(index * time_base))
    return intervals
