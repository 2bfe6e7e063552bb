"""The isolated decoder process: results, errors, hangs and native crashes."""

from __future__ import annotations

import os
import signal
import time

import pytest

from transforms.errors import DecodeTimeoutError, EmptyFileError
from transforms.io.isolation import DecoderCrashedError, IsolatedWorker


def _double(state, x):
    state["calls"] = state.get("calls", 0) + 1
    return x * 2, state["calls"]


def _raise(state, message):
    raise EmptyFileError(message)


def _spin(state, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _segfault(state):
    os.kill(os.getpid(), signal.SIGSEGV)


@pytest.fixture
def worker():
    w = IsolatedWorker("test-decoder")
    yield w
    w.close()


def test_results_and_state_persist_in_one_child(worker):
    assert worker.call(_double, (2,), 30) == (4, 1)
    assert worker.call(_double, (5,), 30) == (10, 2)


def test_errors_come_back_as_they_were(worker):
    with pytest.raises(EmptyFileError, match="nothing here"):
        worker.call(_raise, ("nothing here",), 30)
    assert worker.call(_double, (1,), 30) == (2, 1)


def test_a_hang_is_a_timeout_and_the_next_call_gets_a_fresh_child(worker):
    worker.call(_double, (1,), 30)
    started = time.monotonic()
    with pytest.raises(DecodeTimeoutError):
        worker.call(_spin, (60,), 1.0)
    assert time.monotonic() - started < 10
    assert worker.call(_double, (3,), 30) == (6, 1)  # new child, new state


def test_a_native_crash_is_an_error_not_a_dead_worker(worker):
    with pytest.raises(DecoderCrashedError, match="SIGSEGV"):
        worker.call(_segfault, (), 30)
    assert worker.call(_double, (4,), 30) == (8, 1)
