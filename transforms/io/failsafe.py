"""The one shape of a fail-safe stage: isolated child, timeout, retry, failure row, counter.

Probe, detect and render all decode untrusted files. Each of their DoFns derives
from ``IsolatedFn``: the child process starts in ``setup()`` (and, through
``warm_call``, loads its model there), every call runs in it with a timeout and
the retry policy, and what still fails becomes a typed failure row on the
``failures`` output with a counter, never an exception that kills the bundle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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

    def setup(self) -> None:
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
