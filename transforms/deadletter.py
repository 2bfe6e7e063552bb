"""Dead letters: turning an exception on one input into a typed failure row, and retries."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import apache_beam as beam
from apache_beam import pvalue

from transforms.errors import classify
from transforms.schemas import FailureRow
from transforms.version import PIPELINE_VERSION

FAILURES = "failures"
"""Tag of the dead-letter output of every DoFn that can fail."""

T = TypeVar("T")
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The wall clock, in UTC (the default clock; tests inject a fixed one)."""
    return dt.datetime.now(dt.UTC)


def failure_row(
    exc: BaseException,
    *,
    input_uri: str,
    stage: str,
    video_id: str | None = None,
    chunk_index: int | None = None,
    clock: Clock = utc_now,
) -> FailureRow:
    """A failures row for ``exc`` raised while handling ``input_uri`` in ``stage``."""
    error_type, permanent = classify(exc)
    message = " ".join(str(exc).split()) or error_type
    return FailureRow(
        input_uri=input_uri,
        video_id=video_id,
        stage=stage,
        error_type=error_type,
        message=message[:2000],
        permanent=permanent,
        chunk_index=chunk_index,
        failed_at=clock(),
        pipeline_version=PIPELINE_VERSION,
    )


def call_with_retries(
    fn: Callable[[], T],
    *,
    attempts: int = 3,
    base_delay_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn``; retry transient errors with exponential backoff, raise the rest at once.

    Args:
        fn: the call to make.
        attempts: total tries for transient errors.
        base_delay_s: first backoff in seconds; doubles each retry.
        sleep: injected for tests.

    Raises:
        The last exception when it is permanent or the attempts are used up.
    """
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            _, permanent = classify(exc)
            if permanent or attempt == attempts:
                raise
            delay = base_delay_s * 2 ** (attempt - 1)
            logging.warning(
                "transient %s (try %d/%d), retrying in %.1fs", exc, attempt, attempts, delay
            )
            sleep(delay)
    raise AssertionError("unreachable")


class SafeMapFn(beam.DoFn):
    """Apply ``fn`` to each element; transient errors retried, the rest dead-lettered.

    Args:
        fn: ``fn(element) -> output`` (bind parameters with ``functools.partial``).
        stage: the failure rows' ``stage``.
        clock: stamps ``failed_at``.

    Elements must carry ``uri`` (or ``source_uri``) and ``video_id`` for the failure row.
    """

    def __init__(self, fn: Callable[..., Any], stage: str, clock: Clock = utc_now):
        self._fn = fn
        self._stage = stage
        self._clock = clock

    def process(self, element):
        try:
            yield call_with_retries(lambda: self._fn(element))
        except Exception as exc:
            uri = getattr(element, "uri", None) or getattr(element, "source_uri", "")
            row = failure_row(
                exc,
                input_uri=uri,
                stage=self._stage,
                video_id=getattr(element, "video_id", None),
                clock=self._clock,
            )
            logging.warning(
                "%s failed for %s: %s: %s", self._stage, uri, row.error_type, row.message
            )
            yield pvalue.TaggedOutput(FAILURES, row)
