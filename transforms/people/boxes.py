"""Person boxes: overlap, non-maximum suppression, and the tile grid (pure numpy).

Boxes are in pixels of the analysis frame: ``x0, y0`` the top-left corner, ``x1, y1``
the bottom-right one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# MediaPipe's object_detection_oid_v4 graph: NonMaxSuppressionCalculator, IoU over 0.5.
NMS_IOU = 0.5
# A box ending this close (in pixels) to an inner tile border is taken as cut by it.
CUT_MARGIN_PX = 2.0


@dataclass(frozen=True)
class PersonBox:
    """A detected person, in analysis-frame pixels, with the detector's score (0-1)."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def shifted(self, dx: float, dy: float) -> PersonBox:
        """The same box moved by (dx, dy) pixels (tile to frame coordinates)."""
        return PersonBox(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy, self.score)

    def rounded(self) -> tuple[int, int, int, int, float]:
        """(x0, y0, x1, y1, score) rounded, for logs and documents."""
        return (
            int(round(self.x0)),
            int(round(self.y0)),
            int(round(self.x1)),
            int(round(self.y1)),
            round(self.score, 3),
        )


@dataclass(frozen=True)
class TileGrid:
    """How the frame is cut into overlapping tiles for the detector.

    Attributes:
        cols, rows: tiles across and down (1x1: the whole frame only).
        overlap: share of a tile's side that overlaps its neighbour, so that a person
            cut by one tile's border is whole in the next.
    """

    cols: int = 3
    rows: int = 2
    overlap: float = 0.25

    @classmethod
    def parse(cls, text: str) -> TileGrid:
        """``"3x2"`` -> 3 columns, 2 rows; ``"1x1"`` or ``"none"``: no tiles.

        Raises:
            ValueError: not ``COLSxROWS`` with 1 to 8 each.
        """
        if text.strip().lower() in ("none", "off", ""):
            return cls(1, 1)
        parts = text.lower().split("x")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"tile grid {text!r}: use COLSxROWS, e.g. 3x2, or none")
        cols, rows = (int(p) for p in parts)
        if not (1 <= cols <= 8 and 1 <= rows <= 8):
            raise ValueError(f"tile grid {text!r}: 1 to 8 tiles each way")
        return cls(cols, rows)

    def rects(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """Tile rectangles (x0, y0, x1, y1) covering a ``width`` x ``height`` frame.

        Empty for a 1x1 grid: the whole-frame pass already sees that.
        """
        if self.cols * self.rows <= 1:
            return []
        xs = _spans(width, self.cols, self.overlap)
        ys = _spans(height, self.rows, self.overlap)
        return [(x0, y0, x1, y1) for y0, y1 in ys for x0, x1 in xs]


def _spans(length: int, count: int, overlap: float) -> list[tuple[int, int]]:
    if count <= 1:
        return [(0, length)]
    # count tiles of side t, each overlapping the next by overlap * t, span the length.
    side = length / (count - (count - 1) * overlap)
    step = side * (1.0 - overlap)
    spans = []
    for i in range(count):
        start = int(round(i * step))
        end = length if i == count - 1 else int(round(i * step + side))
        spans.append((start, min(end, length)))
    return spans


def iou(a: PersonBox, b: PersonBox) -> float:
    """Intersection over union of two boxes (0 when they do not touch)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def nms(boxes: Sequence[PersonBox], threshold: float = NMS_IOU) -> list[PersonBox]:
    """Non-maximum suppression as MediaPipe's ``NonMaxSuppressionCalculator`` (DEFAULT).

    Boxes by decreasing score; a box is dropped when its IoU with one already kept is
    over ``threshold``. Ties keep the earlier box (a stable sort), so the result is
    deterministic.
    """
    kept: list[PersonBox] = []
    for box in sorted(boxes, key=lambda b: -b.score):
        if all(iou(box, k) <= threshold for k in kept):
            kept.append(box)
    return kept


def cut_by_inner_border(
    box: PersonBox, tile: tuple[int, int, int, int], width: int, height: int
) -> bool:
    """Whether a box found in ``tile`` (tile coordinates) touches a tile border inside the frame.

    Such a box is a part of a person; a neighbouring tile or the whole frame sees them whole.
    """
    x0, y0, x1, y1 = tile
    m = CUT_MARGIN_PX
    return (
        (x0 > 0 and box.x0 <= m)
        or (y0 > 0 and box.y0 <= m)
        or (x1 < width and box.x1 >= (x1 - x0) - m)
        or (y1 < height and box.y1 >= (y1 - y0) - m)
    )


def find_people(
    rgb: np.ndarray, detect: Callable[[np.ndarray], list[PersonBox]], grid: TileGrid
) -> list[PersonBox]:
    """People in a frame: the detector on the whole frame and on each tile, merged.

    Args:
        rgb: the analysis frame, RGB uint8 (H, W, 3).
        detect: boxes of one image, in that image's pixels.
        grid: the tiles (1x1: whole frame only).

    Returns:
        Boxes in frame pixels after NMS, by decreasing score.
    """
    height, width = rgb.shape[:2]
    boxes = list(detect(rgb))
    for tile in grid.rects(width, height):
        x0, y0, x1, y1 = tile
        for box in detect(np.ascontiguousarray(rgb[y0:y1, x0:x1])):
            if not cut_by_inner_border(box, tile, width, height):
                boxes.append(box.shifted(x0, y0))
    return nms(boxes)
