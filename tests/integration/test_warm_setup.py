"""Isolated DoFns warm in ``setup()``: child started and model loaded before the first element,
both reused for the instance's lifetime, the child replaced only after a crash; where the
workers are the launcher's threads, ``setup()`` adopts a child prewarmed at launch."""

from __future__ import annotations

import os
import pickle

import pytest

from transforms.chunk_analysis import DetectParams
from transforms.detect_motion import DetectChunkFn
from transforms.io import failsafe
from transforms.pose_backends import default_model_path
from transforms.probe_videos import ProbeFileFn


def child_facts(state: dict) -> tuple[int, bool]:
    """Runs in the isolated child: its pid and whether the pose model is loaded."""
    return os.getpid(), "backend" in state


def crash(state: dict) -> None:
    """Runs in the isolated child: dies the way a native crash does."""
    os._exit(11)


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_detect_fn_loads_the_model_in_setup_and_keeps_its_child():
    fn = DetectChunkFn(default_model_path(), "mediapipe-cpu", DetectParams())
    fn.setup()
    try:
        pid, loaded = fn.call_isolated(child_facts, (), timeout_s=30)
        assert loaded, "the pose model was not loaded in setup()"
        assert pid != os.getpid()
        assert fn.call_isolated(child_facts, (), timeout_s=30) == (pid, True)  # same child
        with pytest.raises(Exception, match="died"):
            fn.call_isolated(crash, (), timeout_s=30)  # a crash is permanent: not retried
        new_pid, reloaded = fn.call_isolated(child_facts, (), timeout_s=30)
        assert new_pid != pid  # replaced after the crash...
        assert not reloaded  # ...and the next chunk loads the model again (analyse_in_child)
    finally:
        fn.teardown()


def _refuse_new_children(monkeypatch) -> None:
    class NoNewChild:
        def __init__(self, *args, **kwargs):
            raise AssertionError("setup() started a child of its own")

    monkeypatch.setattr(failsafe, "IsolatedWorker", NoNewChild)


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_setup_adopts_a_prewarmed_child_with_its_model_loaded(monkeypatch):
    fn = DetectChunkFn(default_model_path(), "mediapipe-cpu", DetectParams())
    # Only DoFns with a warm call get children ahead of setup(): the probe has none.
    assert failsafe.prewarm([fn, ProbeFileFn()], copies=2) == 2
    _refuse_new_children(monkeypatch)
    copies = [pickle.loads(pickle.dumps(fn)) for _ in range(2)]  # as each worker gets its own
    try:
        for copy in copies:
            copy.setup()
        facts = [copy.call_isolated(child_facts, (), timeout_s=30) for copy in copies]
        assert all(loaded for _, loaded in facts), "a prewarmed child had no model"
        assert len({pid for pid, _ in facts}) == 2  # one child each
        other = DetectChunkFn(default_model_path(), "mediapipe-cpu", DetectParams(pose_fps=2.0))
        with pytest.raises(AssertionError, match="of its own"):
            other.setup()  # other settings: no prewarmed child fits, and none is left
    finally:
        for copy in copies:
            copy.teardown()
        failsafe.discard_prewarmed()


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_prewarmed_children_no_dofn_adopts_are_stopped_at_the_end():
    fn = DetectChunkFn(default_model_path(), "mediapipe-cpu", DetectParams())
    failsafe.prewarm([fn], copies=1)
    with failsafe._WARMED_LOCK:
        (future,) = failsafe._WARMED[fn.warm_key()]
    worker = future.result(timeout=120)
    pid = worker.call(child_facts, (), timeout_s=30)[0]
    failsafe.discard_prewarmed()
    assert not failsafe._WARMED
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
