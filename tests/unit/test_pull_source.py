"""reelbeam's Pub/Sub pull and its acks, without Pub/Sub: a fake subscriber client."""

from __future__ import annotations

import datetime
import threading
from types import SimpleNamespace

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from transforms.streaming.acks import AckFn, batches
from transforms.streaming.pull_source import (
    ACKS,
    FINAL_LEASE_S,
    LEASE_S,
    MAX_LEASE_AGE_S,
    Lease,
    PullFn,
    PullRestriction,
    PullTracker,
    renew_leases,
)


class FakeSubscriber:
    """Hands out scripted pulls; records lease extensions and acks (shared across pickles)."""

    calls: list = []
    lock = threading.Lock()

    def __init__(self, pulls: list[list[tuple[str, bytes]]]):
        self._pulls = [list(p) for p in pulls]

    def __call__(self):  # the client factory
        return self

    def pull(self, request, timeout, retry):
        with self.lock:
            batch = self._pulls.pop(0) if self._pulls else []
        return SimpleNamespace(
            received_messages=[
                SimpleNamespace(
                    ack_id=ack_id,
                    message=SimpleNamespace(
                        data=data,
                        attributes={"n": ack_id},
                        message_id=f"m-{ack_id}",
                        publish_time=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
                    ),
                )
                for ack_id, data in batch
            ]
        )

    def modify_ack_deadline(self, request):
        with self.lock:
            FakeSubscriber.calls.append(
                ("lease", tuple(request["ack_ids"]), request["ack_deadline_seconds"])
            )

    def acknowledge(self, request):
        with self.lock:
            FakeSubscriber.calls.append(("ack", tuple(request["ack_ids"])))


@pytest.fixture
def calls():
    FakeSubscriber.calls = []
    yield FakeSubscriber.calls


def test_pulled_messages_come_out_with_their_ack_ids_and_are_never_acked_by_the_read(calls):
    fake = FakeSubscriber([[("a", b"1"), ("b", b"2")], [], [("c", b"3")]])
    with beam.Pipeline() as p:
        out = (
            p
            | beam.Create(["projects/p/subscriptions/s"])
            | beam.ParDo(
                PullFn(poll_s=0.05, stop_after_s=1.0, client_factory=fake, sleep=lambda s: None)
            ).with_outputs(ACKS, main="messages")
        )
        assert_that(
            out.messages | beam.Map(lambda m: (m.data, m.message_id)),
            equal_to([(b"1", "m-a"), (b"2", "m-b"), (b"3", "m-c")]),
            label="messages",
        )
        assert_that(out[ACKS], equal_to(["a", "b", "c"]), label="acks")
    assert not [c for c in calls if c[0] == "ack"]
    leases = [c for c in calls if c[0] == "lease"]
    assert ("lease", ("a", "b"), LEASE_S) in leases  # extended after the pull
    assert leases[-1] == ("lease", ("a", "b", "c"), FINAL_LEASE_S)  # the read ended


def test_old_leases_are_dropped_and_new_ones_kept():
    old, young = Lease("old", 0.0), Lease("young", MAX_LEASE_AGE_S)
    kept = renew_leases((old, young), [Lease("new", MAX_LEASE_AGE_S + 1)], MAX_LEASE_AGE_S + 1)
    assert [lease.ack_id for lease in kept] == ["young", "new"]


def test_pull_tracker_carries_the_leases_and_stops_at_the_deadline():
    now = [100.0]
    start = PullRestriction(poll_s=1, deadline_s=105, started_s=100.0)
    tracker = PullTracker(start, lambda: now[0])
    leases = (Lease("a", 100.0),)
    assert tracker.try_claim(leases)
    primary, residual = tracker.try_split(0)
    assert primary.closed and residual.leases == leases and residual.pulls == 1
    assert residual.deadline_s == 105.0
    tracker.check_done()
    now[0] = 106.0
    late = PullTracker(residual, lambda: now[0])
    assert not late.try_claim(leases)  # past the deadline: refused, and done
    late.check_done()
    # A first pull that the runner's warm-up delayed past the deadline still happens,
    # and the stop time runs from it.
    delayed = PullTracker(start, lambda: now[0])
    assert delayed.try_claim(leases)
    assert delayed.try_split(0)[1].deadline_s == 111.0


def test_ack_batches_are_unique_and_request_sized():
    assert batches(["a", "b", "a", "c"], size=2) == [["a", "b"], ["c"]]
    assert batches([]) == []


def test_an_ack_that_keeps_failing_is_a_warning_not_an_error(caplog):
    class Broken(FakeSubscriber):
        def acknowledge(self, request):
            raise ConnectionError("emulator went away")

    fn = AckFn("projects/p/subscriptions/s", client_factory=Broken([]), sleep=lambda s: None)
    fn.setup()
    assert list(fn.process(("window", {"acks": ["a"], "written": [True]}))) == []
    assert "could not ack 1 messages" in caplog.text


def test_acks_go_out_once_per_window(calls):
    fn = AckFn("projects/p/subscriptions/s", client_factory=FakeSubscriber([]))
    fn.setup()
    assert list(fn.process(("window", {"acks": ["a", "b"], "written": []}))) == [2]
    assert calls == [("ack", ("a", "b"))]
