"""Pure text formatters for the report page: escaping, numbers, durations, sizes, times.

Everything here is a plain function of its arguments (no Beam, no IO), shared by the timeline,
the cards and the page.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping
from typing import Any

from transforms.schemas import CatalogRow

__all__ = [
    "attr_number",
    "bytes_text",
    "clock_text",
    "duration_text",
    "escape",
    "finite_number",
    "row_dict",
    "span_text",
    "time_text",
]


def escape(value: Any) -> str:
    """Escape text for HTML content and double-quoted attributes (None is empty)."""
    return html.escape("" if value is None else str(value), quote=True)


def finite_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (missing, not a number, NaN or infinite)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _hours_minutes_seconds(seconds: float) -> str:
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def duration_text(seconds: Any) -> str:
    """``8.0 s`` below a minute, ``1:02`` or ``1:02:03`` above; ``–`` when unknown."""
    s = finite_number(seconds)
    if s is None:
        return "–"
    if s < 60:
        return f"{s:.1f} s"
    return _hours_minutes_seconds(s)


def clock_text(seconds: float, step: float) -> str:
    """Axis label at ``seconds`` for ticks ``step`` seconds apart.

    ``2.5s`` for sub-second steps, ``4s`` for short clips, ``m:ss`` or ``h:mm:ss`` otherwise.
    """
    if step < 1:
        return f"{seconds:.1f}s"
    if seconds < 60 and step < 10:
        return f"{seconds:.0f}s"
    return _hours_minutes_seconds(seconds)


def span_text(start_s: float, end_s: float) -> str:
    """A segment's span as ``m:ss.s–m:ss.s`` (``0:00.5–0:01.5``)."""

    def clock(t: float) -> str:
        minutes, secs = divmod(t, 60)
        return f"{int(minutes)}:{secs:04.1f}"

    return f"{clock(start_s)}–{clock(end_s)}"


def bytes_text(size: Any) -> str:
    """A size in bytes with decimal units: ``999 B``, ``1.2 MB``; ``–`` when unknown."""
    n = finite_number(size)
    if n is None:
        return "–"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def time_text(value: Any) -> str:
    """An ISO timestamp as ``2026-01-02 03:04 UTC``; ``–`` when empty, unparsable text as is."""
    if not value:
        return "–"
    try:
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def attr_number(value: Any) -> str:
    """A number for a ``data-*`` attribute (``4``, ``0.5``); empty when unknown."""
    n = finite_number(value)
    return "" if n is None else f"{n:g}"


def row_dict(row: Mapping[str, Any] | CatalogRow) -> dict[str, Any]:
    """A catalog row as a plain dict, whether it came as a row model or a dict."""
    if isinstance(row, CatalogRow):
        return row.model_dump(mode="json")
    return dict(row)
