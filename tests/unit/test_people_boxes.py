"""Person boxes: SSD anchors as MediaPipe's graph makes them, NMS, tiles (pure, no model)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from transforms.people.boxes import (
    PersonBox,
    TileGrid,
    cut_by_inner_border,
    find_people,
    iou,
    nms,
)
from transforms.people.ssd_anchors import SsdAnchorOptions, ssd_anchors


def test_anchors_match_the_object_detection_oid_v4_graph():
    anchors = ssd_anchors()
    assert len(anchors) == 1917  # the model's num_boxes
    # Lowest layer: 19x19 cells, three anchors each (0.1 square, then 0.2 at ratios 2, 0.5).
    first = anchors[:3]
    r2 = math.sqrt(2)
    widths_heights = [v for a in first for v in (a.width, a.height)]
    assert widths_heights == pytest.approx([0.1, 0.1, 0.2 * r2, 0.2 / r2, 0.2 / r2, 0.2 * r2])
    assert first[0].x_center == pytest.approx(0.5 / 19)
    # Second layer starts after 19*19*3 anchors: 10x10 cells, six anchors (five ratios and
    # the interpolated scale sqrt(0.35 * 0.5)).
    second = anchors[1083 : 1083 + 6]
    assert second[0].x_center == pytest.approx(0.05)
    assert second[0].width == pytest.approx(0.35)
    assert second[5].width == pytest.approx(math.sqrt(0.35 * 0.5))
    # Last layer: one cell, the interpolated anchor against a next scale of 1.0.
    assert anchors[-1].x_center == anchors[-1].y_center == pytest.approx(0.5)
    assert anchors[-1].width == pytest.approx(math.sqrt(0.95))


def test_anchor_count_follows_the_options():
    assert len(ssd_anchors(SsdAnchorOptions(strides=(16,), reduce_boxes_in_lowest_layer=True))) == (
        19 * 19 * 3
    )


def test_iou_and_nms_keep_the_best_of_overlapping_boxes_only():
    a = PersonBox(0, 0, 10, 20, 0.9)
    b = PersonBox(1, 0, 11, 20, 0.8)  # IoU 0.82 with a
    c = PersonBox(6, 0, 16, 20, 0.7)  # IoU 0.25 with a: another person
    assert iou(a, a) == pytest.approx(1.0)
    assert iou(a, PersonBox(20, 20, 30, 30, 1.0)) == 0.0
    assert nms([c, b, a]) == [a, c]


@pytest.mark.parametrize(
    ("text", "cols", "rows"), [("3x2", 3, 2), ("1x1", 1, 1), ("none", 1, 1), ("4X3", 4, 3)]
)
def test_tile_grid_parses(text, cols, rows):
    grid = TileGrid.parse(text)
    assert (grid.cols, grid.rows) == (cols, rows)


@pytest.mark.parametrize("text", ["3", "3x", "0x2", "9x1", "axb"])
def test_tile_grid_refuses_nonsense(text):
    with pytest.raises(ValueError, match="tile grid"):
        TileGrid.parse(text)


def test_tiles_overlap_and_cover_the_frame():
    rects = TileGrid(3, 2).rects(640, 480)
    assert len(rects) == 6
    assert TileGrid(1, 1).rects(640, 480) == []
    covered = np.zeros((480, 640), dtype=bool)
    for x0, y0, x1, y1 in rects:
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    a1, b = rects[0][2], rects[1][0]
    assert b < a1  # neighbours overlap


def test_a_box_cut_by_an_inner_tile_border_is_dropped_but_not_at_the_frame_edge():
    tile = (200, 0, 440, 288)  # a middle tile on the top row of 640x480
    assert cut_by_inner_border(PersonBox(0, 50, 30, 120, 0.9), tile, 640, 480)  # left border
    assert cut_by_inner_border(PersonBox(100, 200, 130, 288, 0.9), tile, 640, 480)  # bottom
    assert not cut_by_inner_border(PersonBox(100, 0, 130, 60, 0.9), tile, 640, 480)  # frame top
    assert not cut_by_inner_border(PersonBox(50, 50, 80, 120, 0.9), tile, 640, 480)


def test_find_people_merges_the_whole_frame_and_the_tiles():
    rgb = np.zeros((480, 640, 3), dtype=np.uint8)
    rgb[100:170, 300:330] = 255  # one small "person", whole in some tiles, cut in others

    def detect(image):
        if image.shape[:2] == rgb.shape[:2]:
            return []  # too small for the whole-frame pass
        ys, xs = np.nonzero(image[:, :, 0])
        if not len(xs):
            return []
        return [PersonBox(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1, 0.8)]

    found = find_people(rgb, detect, TileGrid(3, 2))
    assert [b.rounded()[:4] for b in found] == [(300, 100, 330, 170)]
    assert find_people(rgb, detect, TileGrid(1, 1)) == []
