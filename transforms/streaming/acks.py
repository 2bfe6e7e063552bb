"""Acking Pub/Sub messages once their window is in the catalog: ``AckAfterWrite``.

The ack ids from ``pull_source.PullFn`` travel in the same fixed windows as the files
of their messages. Per window they meet the catalog writer's output in a
``CoGroupByKey`` on one constant key. A runner fires that window only when its input
watermark has passed the window's end, and the writer's output watermark is held
until the window's rows are written, so the ack fires after the write: for a
message whose file became rows, for one whose file failed (its failure row is the
record) and for one rejected at parse (likewise), and for one that was ignored (no
row is due). A run that stops before then acks nothing of that window, and Pub/Sub
delivers those messages again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import apache_beam as beam

from transforms.io.retry import call_with_retries
from transforms.streaming.pull_source import SubscriberFn, subscriber_client

ACK_BATCH = 1000
"""Ack ids per ``acknowledge`` request (Pub/Sub takes up to 2,500, within 512 KB)."""

_KEY = "window"


def keyed_ack(ack_id: str) -> tuple[str, str]:
    """An ack id under the one key its window is grouped by."""
    return _KEY, ack_id


def written_marker(_written: object) -> tuple[str, bool]:
    """Any catalog writer output -> ``(key, True)``: this window has been written."""
    return _KEY, True


def batches(ack_ids: Iterable[str], size: int = ACK_BATCH) -> list[list[str]]:
    """``ack_ids`` in request-sized lists, in order, without duplicates."""
    unique = list(dict.fromkeys(ack_ids))
    return [unique[start : start + size] for start in range(0, len(unique), size)]


class AckFn(SubscriberFn):
    """``(key, {"acks": [ack ids], "written": [...]})`` -> acks on the subscription.

    Transient errors are retried; an ack that still fails is a warning: the message is
    delivered again and its rerun upserts the same rows.
    """

    def __init__(
        self,
        subscription: str,
        client_factory: Callable[[], object] = subscriber_client,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(client_factory)
        self._subscription = subscription
        self._attempts = attempts
        self._sleep = sleep
        self._acked = beam.metrics.Metrics.counter("reelbeam", "messages_acked")
        self._unacked = beam.metrics.Metrics.counter("reelbeam", "messages_ack_failed")

    def process(self, element: tuple[str, dict[str, Iterable]]) -> Iterable[int]:
        _, grouped = element
        for ids in batches(grouped.get("acks", ())):
            request = {"subscription": self._subscription, "ack_ids": ids}
            try:
                call_with_retries(
                    lambda request=request: self._client.acknowledge(request=request),
                    what="pubsub ack",
                    attempts=self._attempts,
                    sleep=self._sleep,
                )
            except Exception as exc:
                self._unacked.inc(len(ids))
                logging.warning(
                    "pubsub: could not ack %d messages (they will be delivered again): %s",
                    len(ids),
                    exc,
                )
                continue
            self._acked.inc(len(ids))
            logging.info("pubsub: acked %d messages after the catalog write", len(ids))
            yield len(ids)


class AckAfterWrite(beam.PTransform):
    """Ack each window's messages once the window's catalog write is done.

    Takes ``(ack_ids, written)``: the ack ids (``PullFn``'s ``ACKS`` output, windowed
    like the files) and the catalog writer's output, in the same fixed windows.

    Args:
        subscription: ``projects/P/subscriptions/S`` the ack ids came from.
        client_factory: ``factory() -> SubscriberClient``, called in ``setup()``.

    Returns:
        A PCollection of the number of messages acked per request.
    """

    def __init__(self, subscription: str, client_factory: Callable[[], object] = subscriber_client):
        super().__init__()
        self._subscription = subscription
        self._client_factory = client_factory

    def expand(self, pcolls):
        ack_ids, written = pcolls
        return (
            {
                "acks": ack_ids | "KeyAcks" >> beam.Map(keyed_ack),
                "written": written | "KeyWritten" >> beam.Map(written_marker),
            }
            | "AfterWrite" >> beam.CoGroupByKey()
            | "Ack" >> beam.ParDo(AckFn(self._subscription, self._client_factory))
        )
