"""Pose on people the whole-frame pose missed: padded, upscaled crops, others painted out.

BlazePose's detector sees the frame at 224x224, so a person under about a fifth of
the frame height is lost. A square crop around that person's box, scaled up to at
least ``MIN_CROP_PX``, makes them large again; the other people in the crop are
painted grey first, or two people walking together get each other's skeleton.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from transforms.people.boxes import PersonBox, iou

MIN_CROP_PX = 256
CROP_PAD = 0.25  # of the box's longer side, on each side
PAINT_GREY = 114
# A pose "covers" a box (and a crop pose "matches" it) when their boxes overlap this much.
COVER_IOU = 0.3
_MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class Crop:
    """A square piece of the frame, scaled: frame x = ``x0 + crop x / scale``."""

    image: np.ndarray
    x0: float
    y0: float
    scale: float


def pose_box(person: np.ndarray) -> PersonBox:
    """The box around a pose's visible landmarks (all of them if few are visible)."""
    xy = person[:, :2]
    seen = xy[person[:, 2] >= _MIN_VISIBILITY]
    if len(seen) < 4:
        seen = xy
    x0, y0 = seen.min(axis=0)
    x1, y1 = seen.max(axis=0)
    return PersonBox(float(x0), float(y0), float(x1), float(y1), 1.0)


def covered(box: PersonBox, poses: Sequence[np.ndarray]) -> bool:
    """Whether one of ``poses`` is already this detected person."""
    return any(iou(box, pose_box(p)) >= COVER_IOU for p in poses)


def crop_person(
    rgb: np.ndarray, box: PersonBox, others: Sequence[PersonBox], min_side: int = MIN_CROP_PX
) -> Crop:
    """A padded square crop around ``box``, the ``others`` painted out, scaled up to ``min_side``.

    Parts of the square outside the frame are grey; the target's own box is never
    painted, even where another person's box overlaps it.
    """
    height, width = rgb.shape[:2]
    side = max(box.width, box.height) * (1.0 + 2.0 * CROP_PAD)
    side_px = max(int(round(side)), 8)
    cx, cy = (box.x0 + box.x1) / 2.0, (box.y0 + box.y1) / 2.0
    x0, y0 = int(round(cx - side_px / 2.0)), int(round(cy - side_px / 2.0))
    canvas = np.full((side_px, side_px, 3), PAINT_GREY, dtype=np.uint8)
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + side_px, width), min(y0 + side_px, height)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    keep = _rect(box, x0, y0, side_px)
    kept = canvas[keep[1] : keep[3], keep[0] : keep[2]].copy()
    for other in others:
        ox0, oy0, ox1, oy1 = _rect(other, x0, y0, side_px)
        canvas[oy0:oy1, ox0:ox1] = PAINT_GREY
    canvas[keep[1] : keep[3], keep[0] : keep[2]] = kept
    scale = max(1.0, min_side / side_px)
    if scale > 1.0:
        size = int(round(side_px * scale))
        canvas = np.asarray(Image.fromarray(canvas).resize((size, size), Image.BILINEAR))
        scale = size / side_px
    return Crop(np.ascontiguousarray(canvas), float(x0), float(y0), scale)


def _rect(box: PersonBox, x0: int, y0: int, side: int) -> tuple[int, int, int, int]:
    def clip(v: float) -> int:
        return min(max(int(round(v)), 0), side)

    return clip(box.x0 - x0), clip(box.y0 - y0), clip(box.x1 - x0), clip(box.y1 - y0)


def to_frame(person: np.ndarray, crop: Crop) -> np.ndarray:
    """Landmarks found in a crop, in frame pixels."""
    out = person.copy()
    out[:, 0] = crop.x0 + person[:, 0] / crop.scale
    out[:, 1] = crop.y0 + person[:, 1] / crop.scale
    return out


def matching_pose(poses: Sequence[np.ndarray], box: PersonBox) -> np.ndarray | None:
    """Of poses in frame pixels, the one whose box overlaps ``box`` most (None if none does)."""
    best, best_iou = None, COVER_IOU
    for person in poses:
        overlap = iou(box, pose_box(person))
        if overlap >= best_iou:
            best, best_iou = person, overlap
    return best


def poses_of_missed_people(
    rgb: np.ndarray,
    boxes: Sequence[PersonBox],
    whole_frame_poses: Sequence[np.ndarray],
    pose_of: Callable[[np.ndarray], list[np.ndarray]],
    max_people: int,
) -> tuple[list[np.ndarray], int]:
    """Poses of detected people that no whole-frame pose covers, one crop each.

    Args:
        rgb: the analysis frame.
        boxes: detected people (frame pixels), by decreasing score.
        whole_frame_poses: what the whole-frame pose found.
        pose_of: the pose model on one image (a crop).
        max_people: most crops analysed in this frame; the rest are dropped.

    Returns:
        (poses found in frame pixels, people dropped by ``max_people``).
    """
    missed = [b for b in boxes if not covered(b, whole_frame_poses)]
    found: list[np.ndarray] = []
    for box in missed[:max_people]:
        others = [b for b in boxes if b is not box]
        crop = crop_person(rgb, box, others)
        pose = matching_pose([to_frame(p, crop) for p in pose_of(crop.image)], box)
        if pose is not None:
            found.append(pose)
    return found, max(0, len(missed) - max_people)
