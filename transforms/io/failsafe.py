"""The one shape of a fail-safe stage: isolated child, timeout, retry, failure row, counter.

Probe, detect and render all decode untrusted files. Each of their DoFns derives
from ``IsolatedFn``: the child process starts in ``setup()`` (and, through
``warm_call``, loads its model there), every call runs in it with a timeout and
the retry policy, and what still fails becomes a typed failure row on the
``failures`` output with a counter, never an exception that kills the bundle.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from transforms.io.deadletter import FAILURES, Clock, failure_row, utc_now
from transforms.io.isolation import IsolatedWorker
from transforms.io.retry import call_with_retries
from transforms.progress import report


class IsolatedFn(beam.DoFn):
    """Base DoFn whose work runs in a long-lived isolated child process.

    Subclasses set ``STAGE`` (the failure rows' stage) and ``WORKER_NAME``, and
    may override ``warm_call`` to load a model into the child in ``setup()``.

    Args:
        clock: stamps ``failed_at`` (tests inject a fixed one).
    """

    STAGE = "stage"
    WORKER_NAME = "reelbeam-worker"

    def __init__(self, clock: Clock = utc_now):
        self._clock = clock
        self._worker: IsolatedWorker | None = None

    def warm_call(self) -> tuple[Callable[..., Any], tuple] | None:
        """``(fn, args)`` run in the child at ``setup()``, e.g. to load a model; None: nothing."""
        return None

    def warm_key(self) -> bytes | None:
        """What a warmed child of this DoFn holds (its class and warm call); None: nothing."""
        warm = self.warm_call()
        if warm is None:
            return None
        return pickle.dumps((type(self).__module__, type(self).__qualname__, warm))

    def setup(self) -> None:
        self._worker = _adopt(self.warm_key())
        if self._worker is not None:
            return
        self._worker = IsolatedWorker(self.WORKER_NAME)
        self._worker.start()
        warm = self.warm_call()
        if warm is not None:
            fn, args = warm
            try:
                self._worker.call(fn, args, timeout_s=300.0)
            except Exception as exc:  # the first element retries it and records the failure
                logging.warning("%s: warming the worker failed: %s", self.WORKER_NAME, exc)

    def call_isolated(self, fn: Callable[..., Any], args: tuple, timeout_s: float) -> Any:
        """Run ``fn(state, *args)`` in the child, with the timeout and the retry policy."""
        assert self._worker is not None, "setup() was not called"
        worker = self._worker
        return call_with_retries(
            lambda: worker.call(fn, args, timeout_s), what=f"{self.STAGE} {self.WORKER_NAME}"
        )

    def failure(
        self,
        exc: BaseException,
        *,
        input_uri: str,
        video_id: str | None = None,
        chunk_index: int | None = None,
        artifact: str | None = None,
        counter: str | None = None,
    ) -> pvalue.TaggedOutput:
        """The failure row of ``exc`` on the ``failures`` output, counted and logged once."""
        row = failure_row(
            exc,
            input_uri=input_uri,
            stage=self.STAGE,
            video_id=video_id,
            chunk_index=chunk_index,
            artifact=artifact,
            clock=self._clock,
        )
        report(counter or f"{self.STAGE}_failures")
        where = " ".join(
            part
            for part in (
                f"chunk {chunk_index}" if chunk_index is not None else "",
                artifact or "",
            )
            if part
        )
        logging.warning(
            "%s failed%s: %s: %s: %s",
            self.STAGE,
            f" ({where})" if where else "",
            input_uri,
            row.error_type,
            row.message,
        )
        return pvalue.TaggedOutput(FAILURES, row)

    def teardown(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None


# Children started and warmed ahead of their DoFns' setup() (``prewarm``), by warm key.
_WARMED: dict[bytes, list[Future]] = {}
_WARMED_LOCK = threading.Lock()


def _start_warmed(fn: IsolatedFn) -> IsolatedWorker:
    worker = IsolatedWorker(fn.WORKER_NAME)
    warm = fn.warm_call()
    assert warm is not None
    try:
        worker.call(warm[0], warm[1], timeout_s=300.0)
    except BaseException:
        worker.close()
        raise
    return worker


def prewarm(fns: Iterable[IsolatedFn], copies: int) -> int:
    """Start ``copies`` warmed children of each DoFn that has a warm call, in the background.

    For runners whose workers are threads of this process (the DirectRunner's default):
    called once the graph is built, it loads the models (the pose model and the person
    detector, about 0.5 s of CPU a child) while the runner plans its stages and runs
    the first ones, and each DoFn's ``setup()`` adopts a child instead of starting and
    warming its own. A child that fails to warm is dropped; that DoFn warms its own.
    Returns how many children are starting.
    """
    started = 0
    for fn in fns:
        key = fn.warm_key()
        if key is None:
            continue
        for _ in range(copies):
            future: Future = Future()

            def warm(fn=fn, future=future) -> None:
                try:
                    future.set_result(_start_warmed(fn))
                except BaseException as exc:
                    future.set_exception(exc)

            threading.Thread(target=warm, name=f"prewarm-{fn.WORKER_NAME}", daemon=True).start()
            with _WARMED_LOCK:
                _WARMED.setdefault(key, []).append(future)
            started += 1
    return started


def isolated_fns(pipeline: beam.Pipeline) -> list[IsolatedFn]:
    """The ``IsolatedFn`` DoFns of a built pipeline, in graph order."""
    found: list[IsolatedFn] = []

    class Visitor(beam.pipeline.PipelineVisitor):
        def visit_transform(self, applied) -> None:
            fn = getattr(applied.transform, "fn", None)
            if isinstance(applied.transform, beam.ParDo) and isinstance(fn, IsolatedFn):
                found.append(fn)

    pipeline.visit(Visitor())
    return found


def _adopt(key: bytes | None) -> IsolatedWorker | None:
    """A prewarmed child for ``key``, waiting for its warm-up; None when there is none."""
    if key is None:
        return None
    with _WARMED_LOCK:
        waiting = _WARMED.get(key)
        future = waiting.pop() if waiting else None
    if future is None:
        return None
    try:
        return future.result(timeout=300.0)
    except Exception as exc:
        logging.debug("a prewarmed child failed (%s); starting one in setup()", exc)
        return None


def discard_prewarmed() -> None:
    """Stop the prewarmed children no DoFn adopted (at the end of a run)."""
    with _WARMED_LOCK:
        futures = [f for waiting in _WARMED.values() for f in waiting]
        _WARMED.clear()
    for future in futures:
        try:
            future.result(timeout=300.0).close()
        except Exception:
            continue
