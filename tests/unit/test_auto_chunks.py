"""``--render_chunk_s auto``: chunk length from the source's duration and the workers."""

from __future__ import annotations

import math
import os

import pytest

from pipelines.launcher import parse
from pipelines.options import ReelbeamOptions
from pipelines.run_config import render_chunk_seconds, render_chunk_text, run_config
from pipelines.validation import validate
from transforms.render.auto_chunks import (
    AUTO,
    MAX_CHUNK_S,
    MIN_CHUNK_S,
    auto_chunk_s,
    chunk_seconds,
    workers_available,
)


@pytest.mark.parametrize(
    ("duration_s", "workers", "expected_s"),
    [
        (12.0, 2, 12.0),  # shorter than two minimum chunks: whole
        (59.0, 8, 59.0),
        (120.0, 2, 60.0),  # one chunk per worker
        (120.0, 1, 120.0),  # one worker: chunking only adds the join
        (900.0, 1, MAX_CHUNK_S),  # ...but never longer than the maximum
        (90.0, 8, 30.0),  # never shorter than the minimum
        (36000.0, 128, 36000.0 / 128),
        (36000.0, 600, 60.0),
        (36000.0, 2, MAX_CHUNK_S),
    ],
)
def test_auto_chunk_length(duration_s, workers, expected_s):
    assert auto_chunk_s(duration_s, workers) == pytest.approx(expected_s)


@pytest.mark.parametrize("workers", [1, 2, 3, 16, 128, 1000])
@pytest.mark.parametrize("duration_s", [1.0, 45.0, 61.0, 299.0, 3600.0, 36000.0])
def test_auto_chunks_stay_in_bounds_and_use_at_most_one_wave(duration_s, workers):
    chunk_s = auto_chunk_s(duration_s, workers)
    count = math.ceil(duration_s / chunk_s - 1e-9)
    assert chunk_s <= MAX_CHUNK_S
    assert count == 1 or chunk_s >= MIN_CHUNK_S - 1e-9
    assert count <= max(workers, math.ceil(duration_s / MAX_CHUNK_S))


def test_seconds_win_over_auto():
    assert chunk_seconds(36000.0, 8.0, 128) == 8.0
    assert chunk_seconds(36000.0, 8.0, 128, audio=True) == 8.0
    assert chunk_seconds(36000.0, AUTO, 128) == pytest.approx(36000.0 / 128)


def test_auto_leaves_a_worker_to_the_audio_pass():
    # The frame ranges and the audio pass fit in one wave: 127 ranges + 1 audio pass.
    assert chunk_seconds(36000.0, AUTO, 128, audio=True) == pytest.approx(36000.0 / 127)
    # Two workers: one range per worker would put the audio pass in a second wave.
    assert chunk_seconds(240.0, AUTO, 2, audio=True) == 240.0
    assert chunk_seconds(240.0, AUTO, 2) == pytest.approx(120.0)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((50, 4, 2, 16, "DataflowRunner"), 50),  # the autoscaling ceiling
        ((None, 4, 2, 16, "DataflowRunner"), 4),
        ((None, None, 2, 16, "DataflowRunner"), 1),
        ((None, None, 2, 16, "DirectRunner"), 2),
        ((None, None, 0, 16, "DirectRunner"), 16),  # 0: one per CPU
        ((None, None, None, 16, None), 1),
    ],
)
def test_workers_available(args, expected):
    assert workers_available(*args) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("auto", AUTO), ("AUTO", AUTO), ("300", 300.0), ("7.5", 7.5), ("0", None), ("-1", None)],
)
def test_render_chunk_flag(text, seconds):
    assert render_chunk_seconds(text) == seconds
    if seconds:
        assert render_chunk_seconds(render_chunk_text(seconds)) == seconds


def test_auto_is_the_default_and_reads_the_workers(tmp_path):
    def render(*argv):
        opts = parse([f"--input={tmp_path}", *argv]).view_as(ReelbeamOptions)
        assert validate(opts) == []
        return run_config(opts).render

    default = render()  # one worker thread per core
    assert (default.render_chunk_s, default.render_workers) == (AUTO, os.cpu_count())
    assert render("--direct_running_mode=in_memory").render_workers == 1
    local = render("--direct_running_mode=multi_processing", "--direct_num_workers=2")
    assert (local.render_chunk_s, local.render_workers) == (AUTO, 2)
    cloud = render("--runner=DataflowRunner", "--max_num_workers=128")
    assert cloud.render_workers == 128
    assert render("--render_chunk_s=8").render_chunk_s == 8.0


def test_bad_render_chunk_fails_at_launch(tmp_path):
    opts = parse([f"--input={tmp_path}", "--render_chunk_s=soon"]).view_as(ReelbeamOptions)
    assert any("--render_chunk_s takes auto" in p for p in validate(opts))
