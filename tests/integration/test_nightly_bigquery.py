"""Nightly reruns with the catalog in BigQuery (the emulator): read at launch, rows kept."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers.emulators.bigquery import bigquery_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.runs import DIRECT, counted_run

pytestmark = pytest.mark.integration


def _rows(client, dataset: str, table: str) -> list[dict]:
    project, name = dataset.split(":")
    result = client.query(f"SELECT * FROM `{project}.{name}.{table}`").result()
    return sorted((dict(r.items()) for r in result), key=lambda r: sorted(map(str, r.items())))


def _run(monkeypatch, argv: list[str]) -> dict[str, int]:
    return counted_run(monkeypatch, argv)


def test_reruns_read_the_bigquery_catalog_and_keep_skipped_rows(
    bigquery_emulator,  # noqa: F811
    dancer_small,
    tmp_path,
    monkeypatch,
):
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(dancer_small, archive / "cam1.mp4")
    dataset = bigquery_emulator.new_dataset("nightly")
    argv = [
        f"--input={archive}",
        f"--output={tmp_path / 'out'}",
        f"--bigquery_dataset={dataset}",
        f"--bigquery_endpoint={bigquery_emulator.endpoint}",
        "--render=proxy",
        *DIRECT,
    ]
    client = bigquery_emulator.client()
    assert _run(monkeypatch, argv)["files_probed"] == 1
    first = {t: _rows(client, dataset, t) for t in ("videos", "segments", "assets")}
    assert len(first["videos"]) == 1 and first["videos"][0]["detect_fingerprint"]

    counts = _run(monkeypatch, argv)
    assert counts.get("files_probed", 0) == 0 and counts.get("chunks_analysed", 0) == 0
    assert counts["inputs_skipped"] == 1
    assert {t: _rows(client, dataset, t) for t in first} == first

    # A new file: only it is decoded; the skipped video keeps its segments and assets
    # (the MERGE's scope is the videos this run wrote).
    shutil.copy(dancer_small, archive / "cam2.mp4")
    counts = _run(monkeypatch, argv)
    assert (counts["inputs_new"], counts["inputs_skipped"], counts["files_probed"]) == (1, 1, 1)
    videos = _rows(client, dataset, "videos")
    assert len(videos) == 2
    old_id = first["videos"][0]["video_id"]
    for table in ("segments", "assets"):
        kept = [r for r in _rows(client, dataset, table) if r["video_id"] == old_id]
        assert kept == first[table], table

    # New thresholds: both re-segmented from motion.json, nothing probed.
    counts = _run(monkeypatch, [*argv, "--min_segment_s=60"])
    assert counts["reprocessed_segment"] == 2 and counts.get("files_probed", 0) == 0
    assert _rows(client, dataset, "segments") == []
    assert len(_rows(client, dataset, "videos")) == 2
