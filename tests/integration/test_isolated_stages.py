"""Isolation and timeouts as promised (issue #15): the probe's timeout, planning in the child."""

from __future__ import annotations

import pytest

from tests.helpers.media import write_synthetic_clip
from tests.helpers.runs import fixed_clock
from transforms.media.probe import PROBE_BASE_TIMEOUT_S, probe_timeout_s, probe_video
from transforms.probe_videos import ProbeFileFn, probe_in_child
from transforms.records import FoundFile
from transforms.render.fns import PlanChunksFn
from transforms.render.jobs import RenderChunk, RenderJob, RenderParams


def found(size_bytes: int) -> FoundFile:
    return FoundFile(uri="/videos/a.mp4", size_bytes=size_bytes, mtime=None, video_id="a")


def test_probe_timeout_is_the_option_when_set():
    assert probe_timeout_s(found(10), 7.5) == 7.5
    assert probe_timeout_s(found(50 * 2**30), 7.5) == 7.5


def test_probe_timeout_is_sized_to_the_file_when_the_option_is_0():
    small, big = probe_timeout_s(found(10), 0.0), probe_timeout_s(found(20 * 2**30), 0.0)
    assert small == pytest.approx(PROBE_BASE_TIMEOUT_S, abs=0.01)
    assert big == pytest.approx(PROBE_BASE_TIMEOUT_S + 200.0)


@pytest.mark.parametrize(("option_s", "expected_s"), [(3.0, 3.0), (0.0, PROBE_BASE_TIMEOUT_S)])
def test_probe_fn_calls_the_child_with_that_timeout(option_s, expected_s, monkeypatch):
    calls = []
    fn = ProbeFileFn(fixed_clock, timeout_s=option_s)
    monkeypatch.setattr(fn, "call_isolated", lambda f, args, t: calls.append((f, t)) or "probe")
    assert list(fn.process(found(1000))) == ["probe"]
    assert calls == [(probe_in_child, pytest.approx(expected_s, abs=0.01))]


def _refuse_in_worker(src: str) -> list[float]:
    raise AssertionError("keyframe_times ran in the Beam worker, not in the isolated child")


@pytest.mark.integration
def test_render_planning_reads_keyframes_in_the_isolated_child(tmp_path, monkeypatch):
    # 4.0 s at 10 fps with a keyframe every 5 frames (0.5 s). Chunks of 1.9 s give 3
    # chunks of 1.333 s whose inner bounds snap to the keyframes at 1.5 s and 2.5 s.
    src = tmp_path / "long.mp4"
    write_synthetic_clip(src, duration_s=4.0, fps=10, width=160, height=120, gop_size=5)
    probe = probe_video(FoundFile(str(src), src.stat().st_size, None, "long"), fixed_clock)
    # The parent's copy refuses: only the child process (its own imports) may read the index.
    monkeypatch.setattr("transforms.render.work.keyframe_times", _refuse_in_worker)
    fn = PlanChunksFn(str(tmp_path / "out"), RenderParams(render_chunk_s=1.9), fixed_clock)
    fn.setup()
    try:
        out = list(fn.process(RenderJob(probe)))
    finally:
        fn.teardown()
    assert all(isinstance(o, RenderChunk) for o in out), out
    assert [(c.start_s, c.end_s) for c in out] == [(0.0, 1.5), (1.5, 2.5), (2.5, None)]
