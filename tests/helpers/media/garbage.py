"""Hostile inputs: files with a video-like name that are not playable videos."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Literal

from PIL import Image

from tests.helpers.media.encoding import atomic_path
from tests.helpers.media.synthetic import PatternPainter, write_synthetic_clip

GarbageKind = Literal["zero", "text", "truncated", "png"]
"""Kinds of hostile input :func:`write_garbage` writes."""


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
    with atomic_path(out) as tmp:
        if kind == "zero":
            tmp.write_bytes(b"")
        elif kind == "text":
            tmp.write_text(
                "This is not a video.\nIt is a text file with a video extension, written by\n"
                "tests.helpers.media.write_garbage to test hostile inputs.\n",
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
            picture = PatternPainter("moving_box", 64, 48, Fraction(10), 0).paint(0)
            Image.fromarray(picture).save(tmp, format="PNG")
        else:
            raise ValueError(f"unknown garbage kind {kind!r}")
    return out
