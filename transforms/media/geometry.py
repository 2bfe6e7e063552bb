"""Display geometry: from coded size, sample aspect ratio and rotation to upright square pixels.

One rule for every stage: the display size is the coded size with the sample
aspect ratio applied to the width, then the rotation (90 and 270 swap the sides).
The probe's ``display_width``/``display_height``, the analysis frames of motion
detection and every encoded or still picture are sized from :func:`display_size`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Protocol

import av


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


def parse_sar(value: Any) -> Fraction:
    """Parse a sample aspect ratio (``"4:3"``, ``Fraction``, number); bad, empty or <= 0 -> 1."""
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


def stream_sar(stream: av.video.stream.VideoStream) -> Fraction:
    """A video stream's sample aspect ratio: the container's, else the codec's, else 1."""
    for value in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        try:
            sar = Fraction(value) if value is not None else None
        except (TypeError, ValueError, ZeroDivisionError):
            sar = None
        if sar is not None and sar > 0:
            return sar
    return Fraction(1)


def frame_rotation_deg(frame: av.VideoFrame) -> int:
    """Clockwise rotation a player applies (0, 90, 180, 270), from a frame's display matrix."""
    # PyAV reports the display matrix angle counter-clockwise; players rotate clockwise.
    return int(round(-frame.rotation / 90.0)) % 4 * 90


def display_size(
    width: int, height: int, sample_aspect_ratio: Any, rotation_deg: int
) -> tuple[Fraction, Fraction]:
    """Upright, square-pixel size ``(width, height)`` of a picture, exact (not rounded).

    Args:
        width: Coded width in pixels.
        height: Coded height in pixels.
        sample_aspect_ratio: Pixel aspect ratio (anything :func:`parse_sar` reads).
        rotation_deg: Clockwise display rotation; 90 and 270 swap the sides.
    """
    shown_w = Fraction(width) * parse_sar(sample_aspect_ratio)
    shown_h = Fraction(height)
    if int(rotation_deg) % 180 == 90:
        shown_w, shown_h = shown_h, shown_w
    return shown_w, shown_h


def even_floor(value: int) -> int:
    """``value`` rounded down to even, at least 2."""
    return max(2, value - value % 2)


def even_round(value: Fraction | float) -> int:
    """Nearest even integer, halves rounded up (as FFmpeg's ``scale=-2``), at least 2."""
    return max(2, math.floor(Fraction(value) / 2 + Fraction(1, 2)) * 2)


def target_size(probe_like: SourceGeometry, height: int) -> tuple[int, int]:
    """Output size of a ladder rung: display aspect kept, square pixels, never upscaled.

    The rung is the output height: a source whose display height is below it keeps its own
    height (rounded down to even). The width follows the display aspect, rounded to the
    nearest even number (halves up).

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
    shown_w, shown_h = display_size(
        probe_like.width,
        probe_like.height,
        probe_like.sample_aspect_ratio,
        probe_like.rotation_deg,
    )
    out_h = even_floor(min(int(height), math.floor(shown_h)))
    out_w = even_round(shown_w * out_h / shown_h)
    return out_w, out_h


def size_for_width(
    width: int, height: int, sample_aspect_ratio: Any, rotation_deg: int, out_w: int
) -> tuple[int, int]:
    """``(out_w, even height)`` of a picture ``out_w`` wide with the display aspect."""
    shown_w, shown_h = display_size(width, height, sample_aspect_ratio, rotation_deg)
    return out_w, even_round(out_w * shown_h / shown_w)
