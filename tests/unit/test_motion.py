"""Pure motion functions: scores from landmarks, segments with hysteresis."""

import numpy as np
import pytest

from transforms.motion import (
    SegmentParams,
    body_size,
    find_segments,
    match_people,
    motion_score,
)


def person(cx: float, cy: float, torso: float, vis: float = 1.0) -> np.ndarray:
    """A 33-landmark person: torso of the given length, limbs around it."""
    rng = np.random.default_rng(0)
    pts = np.zeros((33, 3), dtype=np.float32)
    pts[:, 0] = cx + rng.uniform(-0.5, 0.5, 33) * torso
    pts[:, 1] = cy + rng.uniform(-1.5, 1.5, 33) * torso
    pts[[11, 12], 1] = cy - torso / 2
    pts[[23, 24], 1] = cy + torso / 2
    pts[[11, 23], 0] = cx - torso / 4
    pts[[12, 24], 0] = cx + torso / 4
    pts[:, 2] = vis
    return pts


def test_body_size_is_the_torso():
    assert body_size(person(100, 100, 50)) == pytest.approx(50, rel=1e-5)


def test_score_is_scale_invariant_near_and_far():
    near_a, far_a = person(300, 300, 200), person(50, 50, 20)
    near_b, far_b = near_a.copy(), far_a.copy()
    near_b[:, 0] += 100  # half a torso
    far_b[:, 0] += 10  # half a torso
    near = motion_score([near_a], [near_b], 0.2)
    far = motion_score([far_a], [far_b], 0.2)
    assert near == pytest.approx(2.5, rel=1e-4)  # 0.5 torso in 0.2 s
    assert far == pytest.approx(near, rel=1e-4)


def test_invisible_landmarks_do_not_count():
    a = person(100, 100, 50)
    b = a.copy()
    b[:10, 0] += 500
    b[:10, 2] = 0.0
    assert motion_score([a], [b], 0.2) == pytest.approx(0.0, abs=1e-6)


def test_several_people_matched_and_the_most_moving_counts():
    left, right = person(100, 100, 50), person(600, 100, 50)
    right_moved = right.copy()
    right_moved[:, 1] += 25
    assert match_people([left, right], [right_moved, left]) == [(0, 1), (1, 0)]
    assert motion_score([left, right], [right_moved, left], 1.0) == pytest.approx(0.5, rel=1e-4)


def test_nobody_scores_zero():
    assert motion_score([], [person(1, 1, 10)], 0.2) == 0.0


PARAMS = SegmentParams(threshold=1.0, min_motion_s=0.6, max_still_s=1.0, merge_gap_s=0.0)


def _grid(active_ranges, duration_s=20.0, fps=5.0):
    times = [round(k / fps, 6) for k in range(int(duration_s * fps))]
    scores = [2.0 if any(a <= t < b for a, b in active_ranges) else 0.0 for t in times]
    return times, scores, [1] * len(times)


def test_segment_boundaries_follow_the_scores():
    times, scores, people = _grid([(3.0, 7.0)])
    (seg,) = find_segments(times, scores, people, PARAMS, 0.2)
    assert (seg.start_s, seg.end_s) == (2.8, 6.8)
    assert (seg.peak_score, seg.max_people) == (2.0, 1)


def test_short_bursts_do_not_start_a_segment():
    times, scores, people = _grid([(3.0, 3.4), (10.0, 10.2)])
    assert find_segments(times, scores, people, PARAMS, 0.2) == []


def test_short_pauses_are_bridged_by_max_still():
    times, scores, people = _grid([(2.0, 5.0), (5.6, 9.0)])
    (seg,) = find_segments(times, scores, people, PARAMS, 0.2)
    assert (seg.start_s, seg.end_s) == (1.8, 8.8)


def test_gaps_close_and_short_segments_drop():
    times, scores, people = _grid([(2.0, 4.0), (6.0, 9.0), (15.0, 15.8)])
    params = SegmentParams(
        threshold=1.0, min_motion_s=0.6, max_still_s=1.0, merge_gap_s=2.5, min_segment_s=1.0
    )
    (seg,) = find_segments(times, scores, people, params, 0.2)
    assert (seg.start_s, seg.end_s) == (1.8, 8.8)
    apart = SegmentParams(
        threshold=1.0, min_motion_s=0.6, max_still_s=1.0, merge_gap_s=1.0, min_segment_s=1.0
    )
    assert len(find_segments(times, scores, people, apart, 0.2)) == 2


def test_motion_until_the_end_closes_the_segment():
    times, scores, people = _grid([(18.0, 20.0)])
    (seg,) = find_segments(times, scores, people, PARAMS, 0.2)
    assert (seg.start_s, seg.end_s) == (17.8, 19.8)
