"""gs:// through Beam ``FileSystems`` against the GCS emulator, and the Pub/Sub emulator.

The same code paths reelbeam uses on a bucket: match (globs, ``**``), ranged reads
with seeks (PyAV probing a real video), the temp-then-rename writes, checksums, and
DirectRunner pipelines that find videos on and write the catalog to ``gs://``.
"""

from __future__ import annotations

import base64
import hashlib

import apache_beam as beam
import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.helpers.emulators.gcs import gcs_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.emulators.pubsub import pubsub_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.runs import fixed_clock
from transforms.catalog.ndjson_store import read_table, write_table_atomically
from transforms.catalog.write_catalog import WriteCatalog
from transforms.find import FindVideos
from transforms.io.atomic import write_bytes
from transforms.media.probe import probe_video
from transforms.records import FoundFile
from transforms.schemas import SegmentRow

pytestmark = pytest.mark.integration

BUCKET = "reelbeam-archive"


@pytest.fixture(scope="module")
def archive(gcs_emulator, dancer_small) -> dict[str, str]:  # noqa: F811
    """A bucket laid out like an archive; the real small dance clip under two names."""
    uris = {
        "cam1": gcs_emulator.upload(BUCKET, "archive/gym/day1/cam1.mp4", dancer_small),
        "cam2": gcs_emulator.upload(BUCKET, "archive/gym/day2/sub/cam2.MOV", dancer_small),
        "notes": gcs_emulator.upload(BUCKET, "archive/gym/notes.txt", b"not a video"),
        "hidden": gcs_emulator.upload(BUCKET, "archive/gym/day1/.cam1.mp4.part", b"partial"),
        "other": gcs_emulator.upload(BUCKET, "elsewhere/x.mp4", b"x"),
    }
    return uris


def _paths(pattern: str) -> list[str]:
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def test_match_globs_and_recursive(archive, dancer_small):
    assert _paths(f"gs://{BUCKET}/archive/**") == sorted(
        archive[k] for k in ("cam1", "cam2", "notes", "hidden")
    )
    assert _paths(f"gs://{BUCKET}/archive/*/day1/*.mp4") == [archive["cam1"]]
    assert _paths(f"gs://{BUCKET}/archive/**/*.MOV") == [archive["cam2"]]
    assert _paths(f"gs://{BUCKET}/archive/gym/day3/*") == []
    (meta,) = FileSystems.match([archive["cam1"]])[0].metadata_list
    assert meta.size_in_bytes == dancer_small.stat().st_size
    assert meta.last_updated_in_seconds > 0
    assert FileSystems.exists(archive["cam1"])
    assert not FileSystems.exists(f"gs://{BUCKET}/archive/nope.mp4")


def test_open_seeks_like_a_local_file(archive, dancer_small):
    local = dancer_small.read_bytes()
    with FileSystems.open(archive["cam1"]) as handle:
        assert handle.read(8) == local[:8]
        for offset in (len(local) - 100, 1000, 0, len(local) // 2):
            handle.seek(offset)
            assert handle.read(64) == local[offset : offset + 64], offset
        handle.seek(-16, 2)
        assert handle.read() == local[-16:]
        assert handle.tell() == len(local)


def test_probe_video_on_gs_matches_the_local_probe(archive, dancer_small):
    def found(uri: str) -> FoundFile:
        return FoundFile(
            uri=uri, size_bytes=dancer_small.stat().st_size, mtime=None, video_id="squats"
        )

    remote = probe_video(found(archive["cam1"]), fixed_clock)
    local = probe_video(found(str(dancer_small)), fixed_clock)
    assert remote.uri == archive["cam1"]
    assert (remote.width, remote.height, remote.codec) == (320, 180, "h264")
    assert (remote.frame_count, remote.has_audio) == (21, False)
    assert remote.duration_s == pytest.approx(4.2, abs=0.01)
    same = ("container", "duration_s", "fps", "is_vfr", "rotation_deg", "pix_fmt", "bitrate_kbps")
    assert {k: getattr(remote, k) for k in same} == {k: getattr(local, k) for k in same}


def test_checksums_of_uploaded_objects(archive, dancer_small, gcs_emulator):  # noqa: F811
    local = dancer_small.read_bytes()
    assert gcs_emulator.md5_hex(archive["cam1"]) == hashlib.md5(local).hexdigest()
    # FileSystems.checksum on gs:// is the object's CRC32C (base64), not its MD5.
    import google_crc32c

    crc = base64.b64encode(google_crc32c.Checksum(local).digest()).decode()
    assert FileSystems.checksum(archive["cam1"]) == crc


def test_write_bytes_is_atomic_on_gs(gcs_emulator):  # noqa: F811
    gcs_emulator.create_bucket("reelbeam-out")
    uri = "gs://reelbeam-out/run/videos/squats/motion.json"
    data = b'{"scores": [0.1, 0.2]}'
    md5 = write_bytes(uri, data, "application/json")
    assert md5 == hashlib.md5(data).hexdigest() == gcs_emulator.md5_hex(uri)
    with FileSystems.open(uri) as handle:
        assert handle.read() == data
    # Overwrite in place: same name, new bytes, no temporary names left behind.
    write_bytes(uri, b"{}", "application/json")
    with FileSystems.open(uri) as handle:
        assert handle.read() == b"{}"
    assert _paths("gs://reelbeam-out/run/**") == [uri]
    FileSystems.delete([uri])
    assert not FileSystems.exists(uri)


def _segment(video_id: str, index: int) -> SegmentRow:
    return SegmentRow(
        video_id=video_id,
        segment_index=index,
        start_s=float(index),
        end_s=index + 0.5,
        duration_s=0.5,
        peak_score=1.0,
        mean_score=0.5,
        max_people=1,
    )


def test_catalog_table_write_and_read_on_gs(gcs_emulator):  # noqa: F811
    gcs_emulator.create_bucket("reelbeam-cat")
    output = "gs://reelbeam-cat/direct"
    rows = [_segment("a", 0).model_dump(mode="json")]
    path = write_table_atomically(output, "segments", rows)
    assert path == f"{output}/catalog/segments.jsonl"
    assert read_table(output, "segments") == rows
    # The table as NDJSON and, beside it, as Parquet; no temporary object left behind.
    assert _paths(f"{output}/**") == [path, f"{output}/catalog/segments.parquet"]


def test_directrunner_pipeline_finds_on_and_writes_to_gs(archive, gcs_emulator):  # noqa: F811
    gcs_emulator.create_bucket("reelbeam-cat")
    output = "gs://reelbeam-cat/pipeline"
    size = FileSystems.match([archive["cam1"]])[0].metadata_list[0].size_in_bytes
    with TestPipeline(runner="DirectRunner") as p:
        found = p | FindVideos(
            patterns=[f"gs://{BUCKET}/archive/**"],
            extensions=("mp4", "mov"),
            path_pattern=r"archive/(?P<event>[^/]+)/(?P<day>day\d+)/",
            video_id_template="{event}-{day}",
        )
        ids = found["found"] | beam.Map(lambda f: (f.video_id, f.uri, f.size_bytes))
        assert_that(
            ids,
            equal_to(
                [
                    ("gym-day1", archive["cam1"], size),
                    ("gym-day2", archive["cam2"], size),
                ]
            ),
            label="Found",
        )
        rows = p | "Rows" >> beam.Create([_segment("a", 0), _segment("a", 1)], reshuffle=False)
        written = rows | WriteCatalog(output)
        assert_that(
            written,
            equal_to([("videos", 0), ("segments", 2), ("assets", 0), ("failures", 0)]),
            label="Written",
        )
        # WriteToText finalizes with a rename (GCS rewrite + delete) of its temp shards.
        _ = (
            p
            | "Lines" >> beam.Create(["one", "two"])
            | beam.io.WriteToText(f"{output}/lines", file_name_suffix=".txt", num_shards=1)
        )
    assert [r["segment_index"] for r in read_table(output, "segments")] == [0, 1]
    (text,) = _paths(f"{output}/lines*")
    with FileSystems.open(text) as handle:
        assert sorted(handle.read().decode().split()) == ["one", "two"]
    assert not [p for p in _paths(f"{output}/**") if "tmp" in p or "temp" in p]


def test_pubsub_emulator_publish_and_pull(pubsub_emulator):  # noqa: F811
    from google.cloud import pubsub_v1

    project = "reelbeam-test"
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(project, "gcs-notifications")
    subscription = subscriber.subscription_path(project, "reelbeam")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)
    try:
        attributes = {"eventType": "OBJECT_FINALIZE", "bucketId": BUCKET}
        publisher.publish(topic, b'{"name": "archive/gym/day1/cam1.mp4"}', **attributes).result(
            timeout=30
        )
        response = subscriber.pull(subscription=subscription, max_messages=10, timeout=30)
        (received,) = response.received_messages
        assert received.message.data == b'{"name": "archive/gym/day1/cam1.mp4"}'
        assert dict(received.message.attributes) == attributes
        subscriber.acknowledge(subscription=subscription, ack_ids=[received.ack_id])
    finally:
        subscriber.delete_subscription(subscription=subscription)
        publisher.delete_topic(topic=topic)
        subscriber.close()
