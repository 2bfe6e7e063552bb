"""The 10-hour projection's model (``benchmarks.projection``): pure arithmetic on metrics."""

from __future__ import annotations

import math

import pytest

from benchmarks.projection import DETECT_CHUNK_S, PROJECT_S, RUNGS, projection, schedule

METRICS = {
    "detect_1080p_s_per_media_s": 0.5,
    "render_1080p_s_per_media_s": 1.0,
    "join_s_per_media_s": 0.001,
    "audio_s_per_media_s": 0.004,
    "probe_long_s": 0.5,
    "stills_s": 10.0,
}


def test_tasks_go_to_the_worker_free_first():
    assert schedule([("a", 1.0)] * 4, workers=2) == {"a": 2.0}
    assert schedule([("long", 3.0), ("short", 1.0), ("short", 1.0)], workers=2) == {
        "long": 3.0,
        "short": 2.0,
    }


def test_no_projection_without_the_audio_pass():
    assert projection({k: v for k, v in METRICS.items() if k != "audio_s_per_media_s"}) is None


def test_on_one_worker_every_element_runs_in_turn():
    row = projection(METRICS)["rows"][0]
    assert row["workers"] == 1
    detect = math.ceil(PROJECT_S / DETECT_CHUNK_S) * 0.5 * DETECT_CHUNK_S
    render = 1.0 * PROJECT_S  # the render chunks cover the source once
    audio = 0.004 * PROJECT_S
    join = 0.001 * PROJECT_S * RUNGS
    # Whichever ends last waits for everything; then its own tail (the join or the stills).
    assert row["wall_s"] == pytest.approx(0.5 + detect + render + audio + max(join, 10.0))
    assert row["join_s"] == pytest.approx(join)


def test_detection_and_rendering_share_the_workers():
    rows = {r["workers"]: r for r in projection(METRICS)["rows"]}
    row = rows[128]
    # Neither waits for the other: each ends well before their sum on 128 workers.
    total = (600 * 30.0 + PROJECT_S * 1.0 + 0.004 * PROJECT_S) / 128
    assert row["wall_s"] < total + 30.0 + 2 * 0.001 * PROJECT_S * RUNGS + 10.0
    assert row["wall_s"] >= total
