"""The one retry policy: transient errors retried with capped, jittered backoff.

Whether an error is worth another try is decided by ``transforms.errors.classify``
alone, for media IO, storage and BigQuery alike.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from transforms.errors import classify

T = TypeVar("T")


def backoff_s(attempt: int, base_delay_s: float, max_delay_s: float, jitter: float) -> float:
    """Delay before try ``attempt + 1``: doubling from ``base_delay_s``, capped, jittered.

    ``jitter`` is the share of the delay drawn at random (0 gives fixed delays), so
    many workers retrying one service do not retry in step.
    """
    delay = min(max_delay_s, base_delay_s * 2 ** (attempt - 1))
    return delay * (1 - jitter * random.random())


def call_with_retries(
    fn: Callable[[], T],
    *,
    what: str = "call",
    attempts: int = 3,
    base_delay_s: float = 0.5,
    max_delay_s: float = 32.0,
    jitter: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn``; retry transient errors with backoff, raise permanent ones at once.

    Args:
        fn: the call to make.
        what: names the call in the retry warnings.
        attempts: total tries for transient errors.
        base_delay_s: first backoff in seconds; doubles each retry up to ``max_delay_s``.
        jitter: share of each delay drawn at random.
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
            delay = backoff_s(attempt, base_delay_s, max_delay_s, jitter)
            logging.warning(
                "%s: transient %s: %s (try %d/%d), retrying in %.1f s",
                what,
                type(exc).__name__,
                " ".join(str(exc).split())[:300],
                attempt,
                attempts,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")
