"""Pulling a Pub/Sub subscription without acking: a splittable DoFn that leases what it pulls.

Beam's ``ReadFromPubSub`` on the DirectRunner acks every message as soon as it is
pulled, so a run that stops before a message's row is written loses that message.
``PullFn`` pulls with ``google.cloud.pubsub_v1.SubscriberClient`` (it honours
``PUBSUB_EMULATOR_HOST``), emits each message with its ack id on a side output, and
never acks: ``transforms.streaming.acks.AckAfterWrite`` does, once the message's
window is in the catalog. Until then ``PullFn`` keeps extending the ack deadline of
what it pulled (``modify_ack_deadline``), so slow processing does not turn into a
redelivery storm; a message that is redelivered anyway is harmless (the dedupe drops
it, the catalog upserts by key). A run that stops without writing leaves its
messages unacked, and Pub/Sub delivers them again once their lease runs out.

One pull per ``process`` call, then ``defer_remainder``, like ``watch_folder.WatchFn``;
the restriction carries the leases from one call to the next.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.gcp.pubsub import PubsubMessage
from apache_beam.io.iobase import RestrictionProgress, RestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms import window
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp

ACKS = "acks"
"""Tag of ``PullFn``'s side output: the ack id of every message it emits."""

LEASE_S = 20
"""Ack deadline (s) each pull gives everything pulled and not yet released.

A few pulls long, so one slow pull does not let a lease lapse; short, so a run that
stops gives its messages back to the subscription within half a minute.
"""

FINAL_LEASE_S = 600
"""Ack deadline (s) the last pull gives all leases (Pub/Sub's maximum).

After a source with a stop time ends, the rest of the pipeline still has to write the
rows; this covers that. A run that breaks after that point gets its messages again
within ten minutes.
"""

MAX_LEASE_AGE_S = 3600.0
"""A message is leased at most this long after its pull; then it is left to Pub/Sub.

By then its window has long been written and acked; without an end the restriction
of an endless stream would grow with every message.
"""

MAX_MESSAGES = 100
"""Messages asked for per pull."""


class Lease(NamedTuple):
    """A pulled, unacked message: its ack id and when it was pulled (s since the epoch)."""

    ack_id: str
    pulled_at_s: float


@dataclass(frozen=True)
class PullRestriction:
    """Where a subscription read stands; the residual of each pull carries it to the next.

    Attributes:
        poll_s: seconds a pull waits for messages (and between pulls when none came).
        deadline_s: no pull is made after this wall-clock time (None: read forever); set
            from ``started_s``, then moved to the first pull plus the stop time.
        leases: what was pulled and is still leased.
        pulls: pulls made so far.
        closed: the finished part of a checkpointed read (no work left).
        started_s: when the read was set up (the launch).
    """

    poll_s: float
    deadline_s: float | None
    leases: tuple[Lease, ...] = ()
    pulls: int = 0
    closed: bool = False
    started_s: float = 0.0

    def over(self, now_s: float) -> bool:
        """True when no pull is left: closed, or past the deadline after the first pull.

        The first pull always happens, however long the runner's warm-up took.
        """
        if self.closed:
            return True
        return self.deadline_s is not None and self.pulls > 0 and now_s >= self.deadline_s


def renew_leases(leases: tuple[Lease, ...], pulled: list[Lease], now_s: float) -> tuple[Lease, ...]:
    """The leases to keep after a pull: the new ones, and old ones younger than the limit."""
    kept = [lease for lease in leases if now_s - lease.pulled_at_s < MAX_LEASE_AGE_S]
    return tuple(kept + pulled)


class PullTracker(RestrictionTracker):
    """One pull per ``process`` call: claim it, emit, then defer the remainder.

    The claim is the leases after the pull, so the residual starts from them;
    splitting other than the checkpoint is refused.
    """

    def __init__(self, restriction: PullRestriction, now: Callable[[], float] = time.time):
        self._restriction = restriction
        self._now = now
        self._claimed: tuple[Lease, ...] | None = None
        self._claimed_at = 0.0
        self._stopped = False
        self._checkpointed = False

    def current_restriction(self) -> PullRestriction:
        return self._restriction

    def current_progress(self) -> RestrictionProgress:
        done = self._stopped or self._checkpointed or self._restriction.closed
        return RestrictionProgress(completed=1.0 if done else 0.0, remaining=0.0 if done else 1.0)

    def try_claim(self, position: tuple[Lease, ...]) -> bool:
        if self._claimed is not None:
            raise ValueError("a subscription read claims one pull per call, then defers")
        now = self._now()
        if self._checkpointed or self._restriction.over(now):
            self._stopped = True
            return False
        self._claimed = position
        self._claimed_at = now
        return True

    def try_split(self, fraction_of_remainder):
        if fraction_of_remainder != 0 or self._stopped or self._checkpointed:
            return None
        current = self._restriction
        residual = current
        if self._claimed is not None:
            deadline = current.deadline_s
            if current.pulls == 0 and deadline is not None:
                # The read lasts its stop time from its first pull (the stages' warm-up
                # comes first locally), as a watch does.
                deadline = self._claimed_at + (deadline - current.started_s)
            residual = dataclasses.replace(
                current, leases=self._claimed, pulls=current.pulls + 1, deadline_s=deadline
            )
        self._checkpointed = True
        self._restriction = dataclasses.replace(current, closed=True)
        return self._restriction, residual

    def check_done(self):
        if not (self._stopped or self._checkpointed or self._restriction.closed):
            raise ValueError("the subscription read neither deferred nor stopped")

    def is_bounded(self) -> bool:
        return self._restriction.deadline_s is not None


def subscriber_client():
    """A ``SubscriberClient`` (``PUBSUB_EMULATOR_HOST`` is honoured by the library)."""
    from google.cloud import pubsub_v1

    return pubsub_v1.SubscriberClient()


class SubscriberFn(beam.DoFn):
    """A DoFn holding one ``SubscriberClient`` per instance, made in ``setup()``.

    Args:
        client_factory: makes the client (tests pass a fake).
    """

    def __init__(self, client_factory: Callable[[], object] = subscriber_client):
        self._client_factory = client_factory
        self._client = None

    def setup(self):
        self._client = self._client_factory()

    def teardown(self):
        if self._client is not None and hasattr(self._client, "close"):
            self._client.close()
        self._client = None


def pull_once(client, subscription: str, wait_s: float) -> list:
    """One synchronous pull: the received messages, or none when ``wait_s`` passed first."""
    from google.api_core import exceptions

    try:
        response = client.pull(
            request={"subscription": subscription, "max_messages": MAX_MESSAGES},
            timeout=wait_s,
            retry=None,
        )
    except exceptions.DeadlineExceeded:
        return []  # nothing came within wait_s
    return list(response.received_messages)


def extend_leases(client, subscription: str, leases: tuple[Lease, ...], seconds: int) -> None:
    """Push the ack deadline of ``leases`` to ``seconds`` from now; a failure only warns.

    A lease that lapses means a redelivery, which the dedupe and the upsert absorb.
    """
    ids = [lease.ack_id for lease in leases]
    for start in range(0, len(ids), 1000):
        try:
            client.modify_ack_deadline(
                request={
                    "subscription": subscription,
                    "ack_ids": ids[start : start + 1000],
                    "ack_deadline_seconds": seconds,
                }
            )
        except Exception as exc:
            logging.warning("pubsub: could not extend %d leases: %s", len(ids), exc)


_RESTRICTION_PARAM = beam.DoFn.RestrictionParam()  # the DoFn is its own provider
_WATERMARK_PARAM = beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())


class PullFn(SubscriberFn, RestrictionProvider):
    """subscription -> PubsubMessage of every message pulled; its ack id -> ``ACKS``.

    A splittable DoFn and its own restriction provider. Every element (and ack id) is
    stamped with its pull time; the watermark follows the wall clock. Nothing is
    acked here. With ``stop_after_s`` the read ends after that long (the last pull
    gives all leases ``FINAL_LEASE_S``), so runners that write only when their
    sources end (the DirectRunner) still write, then ack.
    """

    def __init__(
        self,
        poll_s: float = 1.0,
        stop_after_s: float = 0.0,
        client_factory: Callable[[], object] = subscriber_client,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(client_factory)
        self._poll_s = poll_s
        self._stop_after_s = stop_after_s
        self._now = now
        self._sleep = sleep
        self._pulled = beam.metrics.Metrics.counter("reelbeam", "messages_pulled")

    def initial_restriction(self, element) -> PullRestriction:
        start = self._now()
        deadline = start + self._stop_after_s if self._stop_after_s > 0 else None
        return PullRestriction(poll_s=self._poll_s, deadline_s=deadline, started_s=start)

    def create_tracker(self, restriction: PullRestriction) -> PullTracker:
        return PullTracker(restriction, self._now)

    def restriction_size(self, element, restriction) -> float:
        return 0.0 if restriction.closed else 1.0

    def truncate(self, element, restriction):
        return None  # on drain: stop pulling (what is leased comes back to Pub/Sub)

    @beam.DoFn.unbounded_per_element()
    def process(
        self, subscription: str, tracker=_RESTRICTION_PARAM, watermark=_WATERMARK_PARAM
    ) -> Iterator:
        restriction: PullRestriction = tracker.current_restriction()
        now = self._now()
        if restriction.over(now):
            # The read ends: what it pulled must outlast the rest of the pipeline.
            extend_leases(self._client, subscription, restriction.leases, FINAL_LEASE_S)
            tracker.try_claim(restriction.leases)  # refused: marks the read done
            return
        wait_s = restriction.poll_s
        if restriction.deadline_s is not None and restriction.pulls > 0:
            wait_s = max(0.1, min(wait_s, restriction.deadline_s - now))
        if restriction.pulls == 0:
            logging.info("pubsub: pulling %s (acked after the catalog write)", subscription)
        received = pull_once(self._client, subscription, wait_s)
        at = self._now()
        pulled = [Lease(m.ack_id, at) for m in received]
        leases = renew_leases(restriction.leases, pulled, at)
        if not tracker.try_claim(leases):
            # The deadline passed during the pull: give back what it got, keep the rest.
            extend_leases(self._client, subscription, tuple(pulled), 0)
            extend_leases(self._client, subscription, restriction.leases, FINAL_LEASE_S)
            return
        extend_leases(self._client, subscription, leases, LEASE_S)
        if received:
            self._pulled.inc(len(received))
            logging.info("pubsub: pulled %d messages from %s", len(received), subscription)
        for item in received:
            yield window.TimestampedValue(to_pubsub_message(item.message), at)
            yield pvalue.TaggedOutput(ACKS, window.TimestampedValue(item.ack_id, at))
        watermark.set_watermark(Timestamp.of(at))
        if not received:
            # An idle emulator may answer an empty pull at once; do not spin.
            self._sleep(max(0.0, wait_s - (self._now() - now)))
        tracker.defer_remainder(Duration.of(0))


def to_pubsub_message(message) -> PubsubMessage:
    """A ``google.pubsub_v1.PubsubMessage`` -> Beam's ``PubsubMessage`` (what ``ReadFromPubSub`` gives)."""
    return PubsubMessage(
        data=bytes(message.data),
        attributes=dict(message.attributes),
        message_id=message.message_id or None,
        publish_time=message.publish_time or None,
    )
