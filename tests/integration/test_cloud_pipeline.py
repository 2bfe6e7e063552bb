"""The whole batch pipeline against the emulators: gs:// in and out, catalog rows in BigQuery."""

from __future__ import annotations

import pytest
from apache_beam.io.filesystems import FileSystems

from pipelines.launcher import run
from tests.helpers.emulators.bigquery import bigquery_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.emulators.gcs import gcs_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.runs import fixed_clock

pytestmark = pytest.mark.integration


def _count(client, dataset: str, table: str) -> int:
    project, name = dataset.split(":")
    query = f"SELECT COUNT(*) AS n FROM `{project}.{name}.{table}`"
    return next(iter(client.query(query).result()))["n"]


def test_batch_to_gcs_and_bigquery_twice(gcs_emulator, bigquery_emulator, dancer, tmp_path):  # noqa: F811
    bucket = "reelbeam-e2e"
    gcs_emulator.create_bucket(bucket)
    gcs_emulator.upload(bucket, "incoming/day1/cam1.mp4", dancer)
    gcs_emulator.upload(bucket, "incoming/day1/broken.mp4", b"not a video")
    dataset = bigquery_emulator.new_dataset("e2e")
    argv = [
        f"--input=gs://{bucket}/incoming/**",
        f"--output=gs://{bucket}/catalog",
        f"--bigquery_dataset={dataset}",
        f"--bigquery_endpoint={bigquery_emulator.endpoint}",
        "--render=proxy,thumbnails",
        "--thumbnails=2",
        "--runner=DirectRunner",
    ]
    client = bigquery_emulator.client()
    assert run(argv, clock=fixed_clock) == 0
    counts = {t: _count(client, dataset, t) for t in ("videos", "segments", "assets", "failures")}
    assert counts["videos"] == 1 and counts["failures"] == 1 and counts["segments"] == 1
    assert counts["assets"] == 1 + 3 + 1  # proxy, 2 thumbnails + poster, motion.json
    proxy = f"gs://{bucket}/catalog/videos/day1-cam1-"
    matches = FileSystems.match([f"gs://{bucket}/catalog/videos/**"])[0].metadata_list
    names = sorted(m.path.rsplit("/", 1)[-1] for m in matches)
    assert "proxy_720p.mp4" in names and "motion.json" in names
    assert all(not n.endswith(".part") and ".tmp-" not in n for n in names)
    assert any(m.path.startswith(proxy) for m in matches)
    # No local catalog files when BigQuery holds the catalog.
    assert not FileSystems.exists(f"gs://{bucket}/catalog/catalog/videos.jsonl")
    # A rerun over the same inputs upserts: the same counts.
    assert run(argv, clock=fixed_clock) == 0
    again = {t: _count(client, dataset, t) for t in counts}
    assert again == counts
