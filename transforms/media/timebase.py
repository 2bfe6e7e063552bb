"""Seconds to stream ticks and back: the rounding rules every decoder and encoder shares."""

from __future__ import annotations

import math
from fractions import Fraction

import av

TIME_TOLERANCE_S = Fraction(1, 10**7)
"""Float seconds this close to a tick count as on it."""


def ticks(seconds: float | Fraction, time_base: Fraction) -> int:
    """Nearest tick of ``time_base`` (for seek targets)."""
    return round(Fraction(seconds) / time_base)


def tick_ceil(seconds: float | Fraction, time_base: Fraction) -> int:
    """First tick at or after ``seconds``: frames at ``rel >= it`` start at or after the time.

    A float a hair off a tick (0.30000000000000004 s) counts as on it, so range boundaries
    given in seconds select the frames one expects.
    """
    exact = Fraction(seconds) / time_base
    near = round(exact)
    return near if abs(near - exact) * time_base <= TIME_TOLERANCE_S else math.ceil(exact)


def tick_floor(seconds: float | Fraction, time_base: Fraction) -> int:
    """Last tick at or before ``seconds`` (same tolerance as :func:`tick_ceil`)."""
    exact = Fraction(seconds) / time_base
    near = round(exact)
    return near if abs(near - exact) * time_base <= TIME_TOLERANCE_S else math.floor(exact)


_TICK_RATE_FLOOR = 1000  # an "average rate" this high that equals 1 / time base is no rate


def average_rate(stream: av.video.stream.VideoStream) -> Fraction | None:
    """The stream's average frame rate as the demuxer states it, None when it states none.

    The DV demuxer states its tick rate (60000 for a 1/60000 time base) as the average rate
    of a 25 fps stream: a rate that high and equal to the tick rate says nothing.
    """
    rate = stream.average_rate
    if not rate:
        return None
    frac = Fraction(rate)
    tb = stream.time_base
    if tb and frac > _TICK_RATE_FLOOR and frac == 1 / Fraction(tb):
        return None
    return frac


def frame_rate(stream: av.video.stream.VideoStream) -> Fraction:
    """A video stream's nominal frame rate (average, guessed, base; 25 when none is known)."""
    for rate in (average_rate(stream), stream.guessed_rate, stream.base_rate):
        if rate:
            frac = Fraction(rate).limit_denominator(1001)
            if frac > 0:
                return frac
    return Fraction(25)
