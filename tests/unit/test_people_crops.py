"""Pose on crops of people the whole-frame pose missed (pure, with a fake pose model)."""

from __future__ import annotations

import numpy as np

from transforms.people.boxes import PersonBox
from transforms.people.crops import (
    MIN_CROP_PX,
    PAINT_GREY,
    covered,
    crop_person,
    pose_box,
    poses_of_missed_people,
    to_frame,
)


def standing(x0: float, y0: float, height: float) -> np.ndarray:
    """A fake upright pose filling a box of ``height`` x ``height / 3`` at (x0, y0)."""
    person = np.zeros((33, 3), dtype=np.float32)
    person[:, 0] = x0 + np.linspace(0, height / 3, 33)
    person[:, 1] = y0 + np.linspace(0, height, 33)
    person[:, 2] = 1.0
    return person


def test_crop_is_square_padded_upscaled_and_maps_back():
    rgb = np.full((480, 640, 3), 200, dtype=np.uint8)
    box = PersonBox(100, 100, 120, 160, 0.9)  # 60 px tall
    crop = crop_person(rgb, box, [])
    assert crop.image.shape[0] == crop.image.shape[1] >= MIN_CROP_PX
    # The box's top-left corner, found in the crop, maps back to where it was.
    corner = np.array([[(box.x0 - crop.x0) * crop.scale, (box.y0 - crop.y0) * crop.scale, 1.0]])
    back = to_frame(np.repeat(corner, 33, axis=0).astype(np.float32), crop)
    assert np.allclose(back[0, :2], (100, 100), atol=1.0)


def test_other_people_are_painted_out_but_never_the_target():
    rgb = np.full((200, 200, 3), 255, dtype=np.uint8)
    target = PersonBox(80, 50, 110, 150, 0.9)
    other = PersonBox(100, 50, 140, 150, 0.9)  # overlaps the target's right side
    crop = crop_person(rgb, target, [other], min_side=1)
    assert crop.scale == 1.0
    tx = int(105 - crop.x0)  # inside both boxes: the target wins
    ox = int(130 - crop.x0)  # only in the other's box: painted
    y = int(100 - crop.y0)
    assert (crop.image[y, tx] == 255).all()
    assert (crop.image[y, ox] == PAINT_GREY).all()


def test_crop_beyond_the_frame_edge_is_grey():
    rgb = np.full((100, 100, 3), 255, dtype=np.uint8)
    crop = crop_person(rgb, PersonBox(0, 0, 20, 60, 0.9), [], min_side=1)
    assert crop.x0 < 0 and (crop.image[0, 0] == PAINT_GREY).all()


def test_only_people_without_a_pose_get_a_crop_and_the_bound_counts_the_rest():
    rgb = np.zeros((480, 640, 3), dtype=np.uint8)
    near = standing(300, 100, 300)  # found by the whole-frame pose
    boxes = [
        pose_box(near),
        PersonBox(20, 20, 40, 80, 0.9),
        PersonBox(500, 20, 520, 80, 0.8),
        PersonBox(560, 20, 580, 80, 0.7),
    ]
    assert covered(boxes[0], [near]) and not covered(boxes[1], [near])
    calls = []

    def pose_of(image):
        calls.append(image.shape)
        size = image.shape[0]
        # A person centred in the crop, as tall as the box inside it.
        return [standing(size * 0.45, size / 2 - size / 3, size / 1.5 * 1.0)]

    poses, dropped = poses_of_missed_people(rgb, boxes, [near], pose_of, max_people=2)
    assert len(calls) == 2 and dropped == 1
    assert len(poses) == 2
    assert all(covered(b, poses) for b in boxes[1:3])


def test_a_crop_pose_that_is_someone_else_is_not_kept():
    rgb = np.zeros((480, 640, 3), dtype=np.uint8)
    box = PersonBox(20, 20, 40, 80, 0.9)
    poses, dropped = poses_of_missed_people(
        rgb, [box], [], lambda image: [standing(0, 0, 10)], max_people=6
    )
    assert poses == [] and dropped == 0
