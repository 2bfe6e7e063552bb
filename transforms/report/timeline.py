"""The motion timeline of a card: an inline SVG of the score over time, segments shaded.

Pure (no Beam, no IO): :func:`render_timeline_svg` takes a video's segments and its
``motion.json`` document and returns the ``<svg>`` markup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from transforms.report.format import clock_text, duration_text, escape, finite_number, span_text

__all__ = ["render_timeline_svg"]

_TIMELINE_W = 400
_TIMELINE_H = 96
_PLOT_TOP = 8
_PLOT_BOTTOM = 74
_PLOT_LEFT = 6
_PLOT_RIGHT = 6
_MAX_POINTS = 400  # polyline points: enough for 400 px, small for long videos


def _nice_step(duration: float) -> float:
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400):
        if duration / step <= 6:
            return float(step)
    return float(math.ceil(duration / 6 / 3600) * 3600)


def _downsample(times: Sequence[float], scores: Sequence[float], bins: int) -> list[tuple]:
    """At most ``bins`` points, each bin's highest score (peaks survive)."""
    points = [(t, s) for t, s in zip(times, scores, strict=False) if finite_number(t) is not None]
    if len(points) <= bins:
        return [(float(t), finite_number(s) or 0.0) for t, s in points]
    t0, t1 = float(points[0][0]), float(points[-1][0])
    width = (t1 - t0) / bins or 1.0
    best: dict[int, tuple[float, float]] = {}
    for t, s in points:
        b = min(int((float(t) - t0) / width), bins - 1)
        score = finite_number(s) or 0.0
        if b not in best or score > best[b][1]:
            best[b] = (float(t), score)
    return [best[b] for b in sorted(best)]


def render_timeline_svg(
    video_id: str,
    duration_s: float | None,
    segments: Sequence[Mapping[str, Any]],
    motion: Mapping[str, Any] | None,
    *,
    seekable: bool = False,
) -> str:
    """An inline SVG of the motion score over time, segments shaded, with a time axis.

    Args:
        video_id: used for ids and labels.
        duration_s: the video's duration (the axis spans it; else the last sample or segment).
        segments: the video's ``segments`` rows.
        motion: its ``motion.json`` document (``times_s``, ``scores``, ``params``), or None:
            then only the segments are drawn.
        seekable: segment rectangles carry ``data-seek`` (the page seeks the proxy on click).
    """
    times = list((motion or {}).get("times_s") or [])
    scores = list((motion or {}).get("scores") or [])
    threshold = finite_number(((motion or {}).get("params") or {}).get("threshold"))
    ends = [finite_number(s.get("end_s")) or 0.0 for s in segments]
    duration = max(
        [
            finite_number(duration_s) or 0.0,
            (finite_number(times[-1]) or 0.0) if times else 0.0,
            *ends,
            0.1,
        ]
    )
    plot_w = _TIMELINE_W - _PLOT_LEFT - _PLOT_RIGHT
    plot_h = _PLOT_BOTTOM - _PLOT_TOP

    def x(t: float) -> float:
        return _PLOT_LEFT + max(0.0, min(t, duration)) / duration * plot_w

    peaks = [finite_number(s) or 0.0 for s in scores] + [
        finite_number(s.get("peak_score")) or 0.0 for s in segments
    ]
    peak = max(peaks, default=0.0)
    y_max = max(peak, threshold or 0.0, 1e-6) * 1.1

    def y(score: float) -> float:
        return _PLOT_BOTTOM - max(0.0, score) / y_max * plot_h

    n_seg = len(segments)
    label = (
        f"Motion score over {duration_text(duration)} of {video_id}: "
        f"{n_seg} segment{'s' if n_seg != 1 else ''}"
        + ("" if scores else " (no per-sample scores)")
    )
    out = [
        f'<svg class="timeline-svg" viewBox="0 0 {_TIMELINE_W} {_TIMELINE_H}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<rect class="plot-bg" x="{_PLOT_LEFT}" y="{_PLOT_TOP}" width="{plot_w}" '
        f'height="{plot_h}"/>',
    ]
    for seg in segments:
        start = finite_number(seg.get("start_s")) or 0.0
        end = finite_number(seg.get("end_s")) or start
        x0, x1 = x(start), x(end)
        tip = (
            f"Segment {int(seg.get('segment_index', 0)) + 1}: {span_text(start, end)} "
            f"({end - start:.1f} s), peak {(finite_number(seg.get('peak_score')) or 0):.2f}, "
            f"mean {(finite_number(seg.get('mean_score')) or 0):.2f}, "
            f"up to {seg.get('max_people', 0)} people"
        )
        seek = f' data-seek="{start:g}"' if seekable else ""
        out.append(
            f'<rect class="seg"{seek} x="{x0:.1f}" y="{_PLOT_TOP}" '
            f'width="{max(x1 - x0, 1.5):.1f}" height="{plot_h}"><title>{escape(tip)}</title></rect>'
        )
    step = _nice_step(duration)
    tick = 0.0
    while tick <= duration + 1e-9:
        tx = x(tick)
        out.append(
            f'<line class="grid" x1="{tx:.1f}" y1="{_PLOT_TOP}" x2="{tx:.1f}" '
            f'y2="{_PLOT_BOTTOM + 3}"/>'
        )
        anchor = "start" if tick == 0 else ("end" if tx > _TIMELINE_W - 20 else "middle")
        out.append(
            f'<text class="tick" x="{tx:.1f}" y="{_PLOT_BOTTOM + 15}" '
            f'text-anchor="{anchor}">{escape(clock_text(tick, step))}</text>'
        )
        tick += step
    if threshold is not None and threshold > 0:
        ty = y(threshold)
        out.append(
            f'<line class="threshold" x1="{_PLOT_LEFT}" y1="{ty:.1f}" '
            f'x2="{_TIMELINE_W - _PLOT_RIGHT}" y2="{ty:.1f}">'
            f"<title>Motion threshold {threshold:g}</title></line>"
        )
    points = _downsample(times, scores, _MAX_POINTS)
    if points:
        line = " ".join(f"{x(t):.1f},{y(s):.1f}" for t, s in points)
        area = f"{x(points[0][0]):.1f},{_PLOT_BOTTOM} {line} {x(points[-1][0]):.1f},{_PLOT_BOTTOM}"
        out.append(f'<polygon class="score-area" points="{area}"/>')
        out.append(f'<polyline class="score" points="{line}"/>')
    elif not segments:
        out.append(
            f'<text class="no-data" x="{_TIMELINE_W / 2:.0f}" '
            f'y="{(_PLOT_TOP + _PLOT_BOTTOM) / 2 + 4:.0f}" text-anchor="middle">'
            f"{'no motion' if motion is not None else 'not analysed'}</text>"
        )
    out.append(
        f'<line class="axis" x1="{_PLOT_LEFT}" y1="{_PLOT_BOTTOM}" '
        f'x2="{_TIMELINE_W - _PLOT_RIGHT}" y2="{_PLOT_BOTTOM}"/>'
    )
    out.append("</svg>")
    return "".join(out)
