"""Dead letters: turning an exception on one input into a typed failure row, and retries."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from transforms.errors import classify
from transforms.schemas import FailureRow
from transforms.version import PIPELINE_VERSION

FAILURES = "failures"
"""Tag of the dead-letter output of every DoFn that can fail."""

T = TypeVar("T")
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The wall clock, in UTC (the default clock; tests inject a fixed one)."""
    return dt.datetime.now(dt.timezone.utc)


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
