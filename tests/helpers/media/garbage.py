"""Hostile inputs: files with a video-like name that are not playable videos."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
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


def damage_packets(
    path: str | os.PathLike[str],
    kind: Literal["video", "audio"],
    *,
    count: int = 3,
    at: float = 0.5,
    spacing: int = 2,
    seed: int = 0,
) -> list[float]:
    """Corrupt a few packets of one stream in the middle of a file, in place.

    The file stays readable: its container structure (headers, index) is untouched, only the
    payload bytes of ``count`` packets of the first ``kind`` stream are overwritten with random
    bytes (the first 4 bytes of each payload are kept, so frame sync words survive and the
    damage reaches the decoder, as a bad sector or a bit-rotted frame does).

    Args:
        path: A clip written by :func:`write_synthetic_clip` (any container).
        kind: Which stream to damage.
        count: Packets to damage.
        at: Where the first damaged packet is, as a share of the stream's packets.
        spacing: Damage every ``spacing``-th packet from there.
        seed: Seed of the random bytes.

    Returns:
        Presentation times (seconds) of the damaged packets.

    Raises:
        ValueError: No such stream, or too few packets with a known file position.
    """
    target = Path(path)
    with av.open(str(target)) as container:
        streams = [s for s in container.streams if s.type == kind]
        if not streams:
            raise ValueError(f"{target} has no {kind} stream")
        stream = streams[0]
        packets = [
            (int(p.pos), int(p.size), float(p.pts * p.time_base) if p.pts is not None else 0.0)
            for p in container.demux(stream)
            if p.size and p.pos is not None and p.pos >= 0
        ]
    first = int(len(packets) * at)
    chosen = packets[first : first + count * spacing : spacing]
    if len(chosen) < count:
        raise ValueError(f"{target}: only {len(packets)} {kind} packets with a file position")
    rng = np.random.default_rng(seed)
    with open(target, "r+b") as handle:
        for pos, size, _ in chosen:
            keep = min(4, size)
            handle.seek(pos + keep)
            handle.write(rng.integers(0, 256, size - keep, dtype=np.uint8).tobytes())
    return [t for _, _, t in chosen]
