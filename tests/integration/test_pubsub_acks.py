"""Acks on the Pub/Sub emulator: a message is acked only once its row is written.

A run killed after it pulled a notification but before the row was written leaves
the message unacked, so the subscription delivers it again (with Beam's own read on
the DirectRunner, which acks on pull, it was gone). That a normal run acks all its
messages after the write is checked in ``test_streaming``'s end-to-end test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.helpers.emulators.gcs import gcs_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.emulators.pubsub import pubsub_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.gcs_notifications import BUCKET, notification_attributes, upload_topic

ACK_DEADLINE_S = 10


def _pull_again(subscriber, subscription: str, within_s: float) -> list:
    """Messages a plain pull gets within ``within_s`` (none: an empty list)."""
    from google.api_core import exceptions

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            response = subscriber.pull(
                request={"subscription": subscription, "max_messages": 10}, timeout=5, retry=None
            )
        except exceptions.DeadlineExceeded:
            continue
        if response.received_messages:
            return list(response.received_messages)
    return []


@pytest.mark.integration
@pytest.mark.timeout(150)
def test_a_run_stopped_before_the_write_leaves_its_message_unacked(
    gcs_emulator,  # noqa: F811
    pubsub_emulator,  # noqa: F811
    dancer,
    tmp_path,
):

    name = "incoming/day1/cam1.mp4"
    gcs_emulator.upload(BUCKET, name, dancer)
    resource = gcs_emulator.client().bucket(BUCKET).get_blob(name)._properties
    publisher, subscriber, topic, subscription = upload_topic(ack_deadline_s=ACK_DEADLINE_S)
    data = json.dumps(resource).encode()
    publisher.publish(topic, data, **notification_attributes(resource)).result(timeout=30)

    out = tmp_path / "out"
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.main",
            f"--input_subscription={subscription}",
            f"--input_prefixes=gs://{BUCKET}/incoming",
            f"--output={out}",
            "--runner=DirectRunner",
            "--watch_stop_after_s=120",  # far beyond the kill: no row can be written
            "--render=none",
            "--log_level=INFO",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env=dict(os.environ),
    )
    pulled = threading.Event()

    def watch_log() -> None:
        for line in run.stderr:
            if "pubsub: pulled" in line:
                pulled.set()

    reader = threading.Thread(target=watch_log, daemon=True)
    reader.start()
    try:
        # Beam's own read logs nothing when it pulls: give it the time it needs
        # (it pulls within seconds of the start, and writes no row within 10 s).
        pulled.wait(10)
        os.killpg(run.pid, signal.SIGKILL)  # a stop with no chance to clean up
        run.wait(30)
        assert not (out / "catalog" / "videos.jsonl").exists(), (
            "the row was written before the kill"
        )
        again = _pull_again(subscriber, subscription, within_s=3 * ACK_DEADLINE_S + 15)
        assert [m.message.data for m in again] == [data], "the pulled message was lost"
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        subscriber.delete_subscription(subscription=subscription)
        publisher.delete_topic(topic=topic)
