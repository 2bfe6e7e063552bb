"""The inline SVG motion timeline: pure, no IO."""

from __future__ import annotations

import pytest

from tests.helpers.report import motion_doc, sample_rows
from transforms.report.timeline import render_timeline_svg


@pytest.fixture()
def rows():
    """The sample catalog of ``tests.helpers.report``."""
    return sample_rows()


def test_timeline_svg(rows):
    videos, segments, assets, failures, motion = rows
    svg = render_timeline_svg(
        "event1-day1-cam1", 4.0, [s.model_dump() for s in segments[:2]], motion["event1-day1-cam1"]
    )
    assert svg.count('class="seg"') == 2
    assert 'class="score"' in svg and 'class="threshold"' in svg
    assert ">0s<" in svg and ">4s<" in svg  # time axis
    # a long video: the polyline is thinned to at most 400 points, the peaks survive
    long_doc = motion_doc("long", 3600.0, [(100.0, 100.4)])
    svg = render_timeline_svg("long", 3600.0, [], long_doc)
    points = svg.split('class="score" points="')[1].split('"')[0].split()
    assert len(points) <= 400
    assert min(float(p.split(",")[1]) for p in points) < 20  # the 0.4 s burst is still drawn
    assert ">1:00:00<" in svg
    # segments without motion.json, and nothing at all
    svg = render_timeline_svg("x", 10.0, [segments[0].model_dump()], None)
    assert svg.count('class="seg"') == 1 and 'class="score"' not in svg
    assert "not analysed" in render_timeline_svg("x", 10.0, [], None)
