"""Tracking people through a chunk: per-person motion, no jumps from entering or swapping."""

from __future__ import annotations

import numpy as np
import pytest

from transforms.motion import motion_score
from transforms.people.tracking import PersonTracker


def person(x: float, y: float = 100.0, size: float = 100.0) -> np.ndarray:
    p = np.zeros((33, 3), dtype=np.float32)
    p[:, 0] = x + np.linspace(0, size / 3, 33)
    p[:, 1] = y + np.linspace(0, size, 33)
    p[:, 2] = 1.0
    return p


def scores(tracker, people, t):
    return [s for _, s in tracker.update(people, t)]


def test_without_memory_it_is_exactly_the_pose_only_score():
    rng = np.random.default_rng(7)
    frames = [[person(100 + rng.normal(0, 5)), person(400 + rng.normal(0, 5))] for _ in range(6)]
    frames[3] = frames[3][:1]  # someone missed for one sample
    tracker = PersonTracker(memory_s=0.0)
    prev = None
    for k, people in enumerate(frames):
        got = max(scores(tracker, people, k * 0.2), default=0.0)
        want = motion_score(prev, people, 0.2) if prev is not None else 0.0
        assert got == pytest.approx(want)
        prev = people


def test_each_person_is_scored_against_their_own_last_pose():
    tracker = PersonTracker()
    tracker.update([person(100), person(400)], 0.0)
    moved = dict(tracker.update([person(400), person(130)], 0.2))  # order swapped
    assert len(moved) == 2
    ids = sorted(moved)
    assert moved[ids[0]] > 0.5  # the one at 100 walked 30 px
    assert moved[ids[1]] == pytest.approx(0.0)  # the one at 400 stood still


def test_entering_and_leaving_is_not_motion():
    tracker = PersonTracker()
    assert scores(tracker, [person(100)], 0.0) == []
    assert scores(tracker, [person(100), person(500)], 0.2) == [0.0]
    assert scores(tracker, [person(500)], 0.4) == [0.0]


def test_a_person_missed_for_a_moment_is_matched_again_within_memory():
    tracker = PersonTracker(memory_s=1.0)
    first = tracker.update([person(100)], 0.0)
    assert first == []
    tracker.update([], 0.2)
    again = tracker.update([person(110)], 0.4)
    assert len(again) == 1 and again[0][1] > 0  # 10 px over 0.4 s, against the same person
    forgetful = PersonTracker(memory_s=0.0)
    forgetful.update([person(100)], 0.0)
    forgetful.update([], 0.2)
    assert forgetful.update([person(110)], 0.4) == []
