"""Isolated DoFns warm in ``setup()``: child started and model loaded before the first element,
both reused for the instance's lifetime, the child replaced only after a crash."""

from __future__ import annotations

import os

import pytest

from transforms.chunk_analysis import DetectParams
from transforms.detect_motion import DetectChunkFn
from transforms.pose_backends import default_model_path


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
