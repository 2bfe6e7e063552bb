"""Dead letters: turning an exception on one input into a typed failure row, and retries."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from transforms.errors import classify
from transforms.io.retry import call_with_retries
from transforms.schemas import FailureRow
from transforms.version import PIPELINE_VERSION

FAILURES = "failures"
"""Tag of the dead-letter output of every DoFn that can fail."""

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
    artifact: str | None = None,
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
        artifact=artifact,
        failed_at=clock(),
        pipeline_version=PIPELINE_VERSION,
    )


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
            yield call_with_retries(lambda: self._fn(element), what=self._stage)
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
