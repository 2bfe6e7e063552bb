"""Motion scores from pose landmarks, and segments from scores (pure functions).

A *person* is a float array of shape (33, 3): x and y in pixels of the upright,
square-pixel analysis frame, and the landmark's visibility in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from transforms.records import Segment

# BlazePose landmark indexes.
_L_SHOULDER, _R_SHOULDER, _L_HIP, _R_HIP = 11, 12, 23, 24
_MIN_VISIBILITY = 0.5
_MATCH_MAX_BODIES = 1.5  # people further apart than this (in torso lengths) are not the same


@dataclass(frozen=True)
class SegmentParams:
    """Segment detection settings; defaults tuned on the ground-truth fixtures.

    Scores are in torso lengths per second of visibility-weighted landmark
    displacement. On the fixtures a still person (frozen frames, model jitter only)
    scores below 0.05 and a slow squat about 0.3 to 1.5; 0.15 separates them with
    margin both ways. ``min_motion_s`` 0.6 (three samples at 5 fps) ignores one
    or two jittery samples; ``max_still_s`` 1.5 bridges the pause at the top of a
    squat; gaps under 2 s merge and segments under 1 s are dropped as twitches.
    """

    threshold: float = 0.15
    min_motion_s: float = 0.6
    max_still_s: float = 1.5
    merge_gap_s: float = 2.0
    min_segment_s: float = 1.0


def body_size(person: np.ndarray) -> float:
    """Torso length in pixels (shoulder midpoint to hip midpoint), else a bbox fallback.

    The torso is used because it barely changes as a person squats or bends,
    unlike the bounding box, so scores are comparable near and far from the camera.
    """
    xy, vis = person[:, :2], person[:, 2]
    torso_ids = [_L_SHOULDER, _R_SHOULDER, _L_HIP, _R_HIP]
    if np.all(vis[torso_ids] >= _MIN_VISIBILITY):
        shoulders = xy[[_L_SHOULDER, _R_SHOULDER]].mean(axis=0)
        hips = xy[[_L_HIP, _R_HIP]].mean(axis=0)
        torso = float(np.linalg.norm(shoulders - hips))
        if torso > 1.0:
            return torso
    seen = xy[vis >= _MIN_VISIBILITY]
    if len(seen) < 2:
        seen = xy
    extent = seen.max(axis=0) - seen.min(axis=0)
    return max(float(extent.max()) / 3.0, 1.0)


def _center(person: np.ndarray) -> np.ndarray:
    weights = person[:, 2] + 1e-6
    return (person[:, :2] * weights[:, None]).sum(axis=0) / weights.sum()


def match_people(
    before: Sequence[np.ndarray], after: Sequence[np.ndarray]
) -> list[tuple[int, int]]:
    """Greedy nearest-centre matching of people between two samples."""
    pairs: list[tuple[float, int, int]] = []
    for i, a in enumerate(before):
        for j, b in enumerate(after):
            dist = float(np.linalg.norm(_center(a) - _center(b)))
            if dist <= _MATCH_MAX_BODIES * max(body_size(a), body_size(b)):
                pairs.append((dist, i, j))
    used_i: set[int] = set()
    used_j: set[int] = set()
    matches = []
    for _, i, j in sorted(pairs):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            matches.append((i, j))
    return matches


def person_motion(a: np.ndarray, b: np.ndarray, dt_s: float) -> float:
    """Visibility-weighted mean landmark displacement, in torso lengths per second."""
    weights = np.minimum(a[:, 2], b[:, 2])
    if weights.sum() < 1e-6 or dt_s <= 0:
        return 0.0
    moved = np.linalg.norm(b[:, :2] - a[:, :2], axis=1)
    mean_px = float((moved * weights).sum() / weights.sum())
    size = 0.5 * (body_size(a) + body_size(b))
    return mean_px / size / dt_s


def motion_score(before: Sequence[np.ndarray], after: Sequence[np.ndarray], dt_s: float) -> float:
    """The sample's score: the most anyone moved since the previous sample (0 if nobody)."""
    scores = [person_motion(before[i], after[j], dt_s) for i, j in match_people(before, after)]
    return max(scores, default=0.0)


def find_segments(
    times_s: Sequence[float],
    scores: Sequence[float],
    people: Sequence[int],
    params: SegmentParams,
    sample_period_s: float,
) -> list[Segment]:
    """Segments with hysteresis, then gaps closed and short ones dropped.

    A segment starts when the score stays at or above ``threshold`` for
    ``min_motion_s``; it ends once it has stayed below for ``max_still_s``. A
    sample's score measures motion since the previous sample, so a segment starts
    one sample period before its first active sample and ends at its last one.

    Args:
        times_s: sample times in seconds, increasing.
        scores: motion score per sample.
        people: people detected per sample.
        params: thresholds and durations.
        sample_period_s: nominal time between samples (1 / pose_fps).
    """
    raw: list[tuple[int, int]] = []  # index ranges [first_active, last_active]
    run_start: int | None = None
    seg_start: int | None = None
    last_active: int | None = None
    eps = 1e-6
    for i, (t, s) in enumerate(zip(times_s, scores, strict=True)):
        active = s >= params.threshold
        if seg_start is None:
            if active:
                run_start = i if run_start is None else run_start
                if t - times_s[run_start] + sample_period_s >= params.min_motion_s - eps:
                    seg_start, last_active = run_start, i
            else:
                run_start = None
        elif active:
            last_active = i
        elif t - times_s[last_active] >= params.max_still_s - eps:
            raw.append((seg_start, last_active))
            seg_start, run_start = None, None
    if seg_start is not None:
        raw.append((seg_start, last_active))

    merged: list[list[float]] = []
    for first, last in raw:
        start = max(times_s[first] - sample_period_s, 0.0)
        end = times_s[last]
        if merged and start - merged[-1][1] < params.merge_gap_s:
            merged[-1][1] = end
        else:
            merged.append([start, end])

    t = np.asarray(times_s, dtype=float)
    sc = np.asarray(scores, dtype=float)
    pe = np.asarray(people, dtype=int)
    segments = []
    for start, end in merged:
        if end - start < params.min_segment_s - eps:
            continue
        inside = (t > start + eps) & (t <= end + eps)
        segments.append(
            Segment(
                start_s=round(start, 6),
                end_s=round(end, 6),
                peak_score=float(sc[inside].max()) if inside.any() else 0.0,
                mean_score=float(sc[inside].mean()) if inside.any() else 0.0,
                max_people=int(pe[inside].max()) if inside.any() else 0,
            )
        )
    return segments
