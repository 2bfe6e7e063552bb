"""Streaming sources: GCS notifications (Pub/Sub) and a watched folder, unit and end to end.

The end-to-end runs use the DirectRunner: both a subscription (read by reelbeam's
own pull, which acks after the catalog write) and a watch run on its FnApiRunner and
end by themselves after ``--watch_stop_after_s``. Acks are tested in
``test_pubsub_acks``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import pathlib
import threading
import time

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_stream
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from tests.helpers.emulators.gcs import gcs_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.emulators.pubsub import pubsub_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.gcs_notifications import (
    BUCKET,
    notification_attributes,
    notification_message,
    object_resource,
    upload_topic,
)
from tests.helpers.runs import DATAFLOW_DRY_RUN, fixed_clock
from transforms.streaming.pubsub_source import NewGenerationsFn
from transforms.streaming.read_new_uploads import UploadsToFound
from transforms.streaming.watch_folder import Poll, WatchRestriction, WatchTracker

# ------------------------------------------------------ dedupe with TestStream


def test_duplicate_and_out_of_order_generations_give_the_newest_once():
    """One FoundFile per generation, newest only; redeliveries dropped, also in later windows."""

    def msg(name, generation, size, bucket=BUCKET, event="OBJECT_FINALIZE"):
        return notification_message(object_resource(bucket, name, generation, size), event)

    a, b, c = "incoming/a.mp4", "incoming/day2/b.MOV", "incoming/c.mp4"
    stream = (
        test_stream.TestStream()
        .advance_watermark_to(0)
        .add_elements(
            [
                TimestampedValue(msg(a, 2, 200), 1),
                TimestampedValue(msg(a, 2, 200), 1.5),  # redelivery
                TimestampedValue(msg(a, 1, 100), 2),  # older, late
                TimestampedValue(msg(b, 5, 500), 2),
                TimestampedValue(msg(c, 1, 10), 2),  # c: 1 then 2 in one window: 2 only
                TimestampedValue(msg(c, 2, 20), 3),
                TimestampedValue(msg(a, 9, 900, event="OBJECT_DELETE"), 3),
                TimestampedValue(msg("incoming/notes.txt", 1, 1), 3),
                TimestampedValue(msg("incoming/.hidden.mp4", 1, 1), 3),
                TimestampedValue(msg("incoming/up.mp4.part", 1, 1), 3),
                TimestampedValue(msg("elsewhere/x.mp4", 1, 1), 3),
                TimestampedValue(msg("incoming/x.mp4", 1, 1, bucket="other"), 3),
                TimestampedValue(msg("incoming/../secrets/x.mp4", 1, 1), 4),
            ]
        )
        .advance_watermark_to(10)
        .add_elements(
            [
                TimestampedValue(msg(a, 2, 200), 11),  # redelivered again, a window later
                TimestampedValue(msg(b, 4, 400), 11),  # older than 5
                TimestampedValue(msg(a, 3, 300), 12),
                TimestampedValue(msg(a, 3, 300), 13),
            ]
        )
        .advance_watermark_to(20)
        .add_elements([TimestampedValue(msg(a, 3, 300), 21)])  # only a redelivery
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions(["--runner=DirectRunner", "--streaming"])
    with TestPipeline(options=options) as p:
        out = (
            p
            | stream
            | UploadsToFound(prefixes=[f"gs://{BUCKET}/incoming"], window_s=5.0, clock=fixed_clock)
        )
        found = out["found"] | "Sizes" >> beam.Map(lambda f: (f.uri, f.size_bytes, f.mtime))
        updated = 1767323045.25
        assert_that(
            found,
            equal_to(
                [
                    (f"gs://{BUCKET}/{a}", 200, updated),
                    (f"gs://{BUCKET}/{b}", 500, updated),
                    (f"gs://{BUCKET}/{c}", 20, updated),
                    (f"gs://{BUCKET}/{a}", 300, updated),
                ]
            ),
            label="NewestGenerationsOnce",
        )
        failures = out["failures"] | "Failed" >> beam.Map(
            lambda r: (r.input_uri, r.stage, r.error_type, r.permanent)
        )
        assert_that(
            failures,
            equal_to(
                [
                    (f"gs://{BUCKET}/elsewhere/x.mp4", "find", "OutsideAllowedRootsError", True),
                    ("gs://other/incoming/x.mp4", "find", "OutsideAllowedRootsError", True),
                    (
                        f"gs://{BUCKET}/incoming/../secrets/x.mp4",
                        "find",
                        "OutsideAllowedRootsError",
                        True,
                    ),
                ]
            ),
            label="OutsideIsAFailure",
        )


def test_generation_state_is_forgotten_after_its_ttl():
    """The per-object dedupe state is bounded: cleared ``ttl_s`` (event time) after a write."""
    from transforms.records import FoundFile

    def keyed(generation: int):
        found = FoundFile(
            uri="gs://b/a.mp4", size_bytes=generation, mtime=None, video_id="a", path_fields={}
        )
        return ("gs://b/a.mp4", (generation, found))

    stream = (
        test_stream.TestStream()
        .advance_watermark_to(0)
        .add_elements([TimestampedValue(keyed(2), 1)])
        .advance_watermark_to(5)
        .add_elements([TimestampedValue(keyed(2), 6)])  # a redelivery within the TTL
        .advance_watermark_to(30)  # the timer at 1 + 10 s has fired: state cleared
        .add_elements([TimestampedValue(keyed(2), 31), TimestampedValue(keyed(1), 32)])
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions(["--runner=DirectRunner", "--streaming"])
    with TestPipeline(options=options) as p:
        passed = (
            p | stream | beam.ParDo(NewGenerationsFn(ttl_s=10.0)) | beam.Map(lambda kv: kv[1][0])
        )
        assert_that(passed, equal_to([2, 2]))


def test_watch_tracker_carries_the_last_poll_and_stops_at_the_deadline():
    start = WatchRestriction(poll_s=1.0, deadline_s=102.0, next_due_s=100.0)
    tracker = WatchTracker(start)
    poll = Poll(at_s=100.2, seen=(("/w/a.mp4", 5, 1.0),), taken=(), failing=False)
    assert tracker.try_claim(poll)
    primary, residual = tracker.try_split(0)
    tracker.check_done()
    assert primary.over() and not residual.over()
    assert (residual.next_due_s, residual.polls, residual.seen) == (101.2, 1, poll.seen)
    assert residual.deadline_s == pytest.approx(102.2)  # the stop time runs from the first poll
    late = WatchTracker(start)  # a first poll the runner's warm-up delayed past the deadline
    assert late.try_claim(dataclasses.replace(poll, at_s=103.0))
    assert not late.try_split(0)[1].over()
    last = WatchTracker(dataclasses.replace(residual, next_due_s=102.5))
    assert not last.try_claim(poll)  # past the deadline: the watch is over
    last.check_done()
    forever = WatchTracker(WatchRestriction(poll_s=1.0, deadline_s=None, next_due_s=0.0))
    assert forever.try_claim(poll) and not forever.is_bounded()
    with pytest.raises(ValueError):
        forever.check_done()  # claimed but did not defer


# ------------------------------------------------------------- end to end


@pytest.fixture
def reelbeam_run():
    """``pipelines.launcher.run`` with a fixed clock."""
    import pipelines.launcher as launcher

    def run(argv: list[str]) -> int:
        # These tests read INFO lines (watch and dedupe decisions): what --log_level=INFO shows.
        return launcher.run([*argv, "--log_level=INFO"], clock=fixed_clock)

    return run


DATAFLOW = [*DATAFLOW_DRY_RUN, "--streaming", "--output=gs://reelbeam-test/out"]


@pytest.mark.parametrize(
    ("argv", "source"),
    [
        (
            [
                "--input_subscription=projects/reelbeam-test/subscriptions/uploads",
                "--input_prefixes=gs://reelbeam-test/incoming",
            ],
            "ReadGcsUploads/Read",
        ),
        (["--watch=gs://reelbeam-test/incoming"], "WatchFolder/Poll"),
    ],
)
def test_streaming_variants_build_on_dataflow(monkeypatch, argv, source):
    import pipelines.builder as builder
    from pipelines.options import ReelbeamOptions
    from pipelines.run_config import run_config

    monkeypatch.setenv("NO_GCE_CHECK", "true")
    options = PipelineOptions(DATAFLOW + argv)
    p = beam.Pipeline(options=options)
    builder.build_pipeline(p, run_config(options.view_as(ReelbeamOptions)))
    assert p.run() is not None  # dry run: the job graph is built and validated, not submitted
    names = [t.unique_name for t in p.to_runner_api().components.transforms.values()]
    assert any(name.endswith(source) for name in names)
    assert any(name.endswith("WriteCatalog/Upsert") for name in names)


def _rows(out: pathlib.Path, table: str) -> list[dict]:
    path = out / "catalog" / f"{table}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.integration
@pytest.mark.timeout(150)
def test_gcs_upload_notification_end_to_end(
    gcs_emulator,  # noqa: F811
    pubsub_emulator,  # noqa: F811
    reelbeam_run,
    dancer,
    tmp_path,
    capsys,
    caplog,
):
    """Upload, notify: rows and motion.json appear; redelivery and an older generation do not."""

    name = "incoming/day1/cam1.mp4"
    uri = gcs_emulator.upload(BUCKET, name, dancer)
    resource = gcs_emulator.client().bucket(BUCKET).get_blob(name)._properties
    assert int(resource["size"]) == dancer.stat().st_size
    older = copy.deepcopy(resource)
    older["generation"] = str(int(resource["generation"]) - 1)
    older["size"] = "1234"
    publisher, subscriber, topic, subscription = upload_topic()

    def publish(resource: dict, event: str = "OBJECT_FINALIZE") -> None:
        data = json.dumps(resource).encode()
        publisher.publish(topic, data, **notification_attributes(resource, event)).result(
            timeout=30
        )

    publish(resource)
    publish(object_resource("elsewhere", "incoming/x.mp4", 7, 10))  # another bucket
    publish(object_resource(BUCKET, "incoming/../private/x.mp4", 7, 10))  # ``..``
    publish(object_resource(BUCKET, "incoming/notes.txt", 7, 10))  # not a video: skipped

    out = tmp_path / "out"
    caplog.set_level(logging.INFO)

    def publish_again_once_pulled() -> None:
        # In a later pull than the first: the dedupe state must hold across pulls.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(r.getMessage().startswith("pubsub: pulled") for r in list(caplog.records)):
                publish(resource)  # the same notification again
                publish(older)  # an older generation, out of order
                return
            time.sleep(0.05)

    again = threading.Thread(target=publish_again_once_pulled, daemon=True)
    again.start()
    try:
        code = reelbeam_run(
            [
                f"--input_subscription={subscription}",
                f"--input_prefixes=gs://{BUCKET}/incoming",
                f"--output={out}",
                "--runner=DirectRunner",
                "--watch_stop_after_s=12",
                "--render=none",
            ]
        )
    finally:
        again.join(5)
        subscriber.delete_subscription(subscription=subscription)
        publisher.delete_topic(topic=topic)
    assert code == 0

    (video,) = _rows(out, "videos")
    assert video["source_uri"] == uri
    assert video["file_size_bytes"] == dancer.stat().st_size
    assert (video["width"], video["height"], video["frame_count"]) == (600, 338, 42)
    motion = out / "videos" / video["video_id"] / "motion.json"
    assert motion.is_file()
    assert {a["asset_type"] for a in _rows(out, "assets")} == {"motion"}
    failures = {(f["input_uri"], f["stage"], f["error_type"]) for f in _rows(out, "failures")}
    assert failures == {
        ("gs://elsewhere/incoming/x.mp4", "find", "OutsideAllowedRootsError"),
        (f"gs://{BUCKET}/incoming/../private/x.mp4", "find", "OutsideAllowedRootsError"),
    }
    # The redelivery and the older generation were read and dropped, not catalogued again.
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if m.startswith(f"found {uri}")] == [
        f"found {uri} ({dancer.stat().st_size} bytes)"
    ]
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("reelbeam: 1 videos catalogued, 2 failed,"), summary
    # All six messages (rows, failures, skipped, redelivered) were acked after the write.
    acked = [r.getMessage() for r in caplog.records if r.getMessage().startswith("pubsub: acked")]
    assert sum(int(m.split()[2]) for m in acked) == 6, acked


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_watch_takes_a_slowly_written_file_once_when_complete(
    reelbeam_run, dancer, tmp_path, capsys, caplog
):
    inbox = tmp_path / "inbox"
    (inbox / "day1").mkdir(parents=True)
    out = tmp_path / "out"
    data = dancer.read_bytes()
    target = inbox / "day1" / "cam1.mp4"

    def write_slowly() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            r.getMessage().startswith("watch: watching") for r in list(caplog.records)
        ):
            time.sleep(0.05)  # start once the watch has made its first poll
        (inbox / ".cam2.mp4").write_bytes(data)  # hidden
        (inbox / "day1" / "cam3.mp4.part").write_bytes(data)  # partial download
        (inbox / "day1" / "notes.txt").write_text("not a video")
        parts = [data[i : i + len(data) // 4 + 1] for i in range(0, len(data), len(data) // 4 + 1)]
        with open(target, "wb") as handle:
            for part in parts:  # 0.4 s apart: no two polls (1 s apart) see one size
                handle.write(part)
                handle.flush()
                time.sleep(0.4)

    writer = threading.Thread(target=write_slowly, daemon=True)
    writer.start()
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    code = reelbeam_run(
        [
            f"--watch={inbox}",
            "--watch_poll_s=1",
            "--watch_stop_after_s=5",
            f"--output={out}",
            "--runner=DirectRunner",
            "--render=none",
        ]
    )
    writer.join(5)
    assert code == 0
    assert time.monotonic() - started < 100  # stopped by itself
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"watch: {target} is still changing") for m in messages)
    assert [m for m in messages if m.startswith("watch: ") and "is complete" in m] == [
        f"watch: {target} is complete ({len(data)} bytes)"
    ]
    (video,) = _rows(out, "videos")
    assert (video["source_uri"], video["file_size_bytes"]) == (str(target), len(data))
    assert video["frame_count"] == 42
    assert (out / "videos" / video["video_id"] / "motion.json").is_file()
    assert _rows(out, "failures") == []
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("reelbeam: 1 videos catalogued, 0 failed,"), summary
