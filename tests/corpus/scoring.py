"""Scoring found segments against hand-labelled moving intervals (pure functions)."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LABELS_FILE = Path(__file__).with_name("labels.toml")
CORPUS_FILE = Path(__file__).with_name("corpus.toml")

Interval = tuple[float, float]


@dataclass(frozen=True)
class ClipLabels:
    """One clip's hand labels."""

    name: str
    split: str
    kind: str
    moving: tuple[Interval, ...]


@dataclass(frozen=True)
class ClipScore:
    """How the found segments compare with one clip's labels.

    Attributes:
        labelled_s: labelled moving time.
        found_s: labelled moving time inside a found segment.
        invented: found segments that touch no labelled interval.
        boundary_errors_s: |start error| and |end error| of each labelled interval against
            the union of the segments that overlap it (none where nothing overlaps).
    """

    labelled_s: float
    found_s: float
    invented: int
    boundary_errors_s: tuple[float, ...]

    @property
    def found_share(self) -> float | None:
        return self.found_s / self.labelled_s if self.labelled_s > 0 else None


def load_labels(path: Path = LABELS_FILE) -> dict[str, ClipLabels]:
    """The hand labels by clip name."""
    with path.open("rb") as handle:
        clips = tomllib.load(handle)["clips"]
    return {
        name: ClipLabels(name, c["split"], c["kind"], tuple((a, b) for a, b in c["moving"]))
        for name, c in clips.items()
    }


def _overlap(a: Interval, b: Interval) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def score_clip(labels: Sequence[Interval], found: Sequence[Interval]) -> ClipScore:
    """Compare found segments with labelled moving intervals."""
    labelled = sum(end - start for start, end in labels)
    covered = sum(_overlap(label, seg) for label in labels for seg in found)
    invented = sum(1 for seg in found if not any(_overlap(seg, lab) > 0 for lab in labels))
    errors: list[float] = []
    for label in labels:
        touching = [seg for seg in found if _overlap(label, seg) > 0]
        if touching:
            errors.append(abs(min(s for s, _ in touching) - label[0]))
            errors.append(abs(max(e for _, e in touching) - label[1]))
    return ClipScore(labelled, min(covered, labelled), invented, tuple(errors))
