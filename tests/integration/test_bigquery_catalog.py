"""The BigQuery catalog against the local-bigquery emulator: tables, MERGE upserts, scope, bad rows.

These run ``WriteCatalogToBigQuery`` in a DirectRunner pipeline and skip without the
emulator (``scripts/emulators.sh install``). The pure parts are tested in
``test_bigquery_sql``, the store on a fake client in ``test_bigquery_store``.
"""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.helpers.catalog_rows import asset, failure, first_run, segment, video
from tests.helpers.emulators.bigquery import bigquery_emulator  # noqa: F401  (a pytest fixture)
from tests.helpers.runs import FIXED_NOW, fixed_clock
from transforms.catalog.bigquery_sql import parse_dataset
from transforms.catalog.write_catalog import WriteCatalogToBigQuery
from transforms.schemas import (
    TABLES,
    CatalogRow,
    SegmentRow,
    bigquery_schema,
)

# ------------------------------------------------------------------- helpers


def run_catalog(rows: list[CatalogRow], dataset: str, factory, **options) -> None:
    """One DirectRunner run of WriteCatalogToBigQuery over ``rows``."""
    with TestPipeline(runner="DirectRunner") as pipeline:
        written = (
            pipeline
            | beam.Create(rows, reshuffle=False)
            | WriteCatalogToBigQuery(dataset, factory, clock=fixed_clock, **options)
        )
        assert_that(written | beam.Map(lambda kv: kv[0]), equal_to(list(TABLES)))


def query(client, sql: str) -> list[dict]:
    return [dict(row.items()) for row in client.query_and_wait(sql)]


def counts(client, dataset: str) -> dict[str, int]:
    """``{table: COUNT(*)}`` (the emulator's ``num_rows`` is not updated by DELETE)."""
    project, name = parse_dataset(dataset)
    union = " UNION ALL ".join(
        f"SELECT '{t}' AS t, COUNT(*) AS n FROM `{project}.{name}.{t}`" for t in TABLES
    )
    return {r["t"]: r["n"] for r in query(client, union)}


def rows_of(client, dataset: str, table: str, order: str) -> list[dict]:
    project, name = parse_dataset(dataset)
    return query(client, f"SELECT * FROM `{project}.{name}.{table}` ORDER BY {order}")


# ----------------------------------------------------------- emulator tests


@pytest.fixture
def bq(bigquery_emulator):  # noqa: F811
    """``(client, dataset, client_factory)`` with a fresh dataset."""
    return (
        bigquery_emulator.client(),
        bigquery_emulator.new_dataset("catalog"),
        bigquery_emulator.client_factory(),
    )


class FlakyFactory:
    """Client factory whose clients fail the first query with a 503 (then behave)."""

    failures_left = 0

    def __init__(self, inner):
        self._inner = inner

    def __call__(self, project):
        client = self._inner(project)
        query = client.query

        def flaky_query(*args, **kwargs):
            from google.api_core.exceptions import ServiceUnavailable

            if FlakyFactory.failures_left > 0:
                FlakyFactory.failures_left -= 1
                raise ServiceUnavailable("backend is unavailable (injected)")
            return query(*args, **kwargs)

        client.query = flaky_query
        return client


@pytest.mark.integration
def test_creates_tables_with_schema_partitioning_and_clustering(bq):
    client, dataset, factory = bq
    FlakyFactory.failures_left = 2  # transient errors are retried with backoff
    run_catalog(first_run(), dataset, FlakyFactory(factory), retry_base_delay_s=0.01)
    assert FlakyFactory.failures_left == 0
    project, name = parse_dataset(dataset)
    for table, model in TABLES.items():
        got = client.get_table(f"{project}.{name}.{table}")
        want = [(f["name"], f["type"], f["mode"]) for f in bigquery_schema(model)]
        assert [(f.name, f.field_type, f.mode) for f in got.schema] == want, table
        assert got.clustering_fields == [model.KEY[0]], table
        if table == "videos":
            assert got.time_partitioning.type_ == "DAY"
            assert got.time_partitioning.field == "indexed_at"
        else:
            assert got.time_partitioning is None
    assert counts(client, dataset) == {"videos": 2, "segments": 4, "assets": 3, "failures": 2}
    leftovers = [t.table_id for t in client.list_tables(f"{project}.{name}")]
    assert sorted(leftovers) == sorted(TABLES), "staging tables must be dropped"
    (a,) = [r for r in rows_of(client, dataset, "videos", "video_id") if r["video_id"] == "a"]
    assert a["path_fields"] == {"event": "gym", "day": "day1"}
    assert a["indexed_at"] == FIXED_NOW
    assert a["bitrate_kbps"] == 512.5 and a["audio_codec"] is None


@pytest.mark.integration
def test_rerun_is_idempotent_and_updates_changed_rows(bq):
    client, dataset, factory = bq
    run_catalog(first_run(), dataset, factory)
    before = counts(client, dataset)
    tables = {t: rows_of(client, dataset, t, ", ".join(m.KEY)) for t, m in TABLES.items()}

    # The same rows again, but for one changed video: counts stay, only that row changes.
    rerun = [row for row in first_run() if row.TABLE != "videos" or row.video_id != "a"]
    rerun.append(video("a", duration_s=14.5, path_fields={"event": "pool"}))
    run_catalog(rerun, dataset, factory)
    assert counts(client, dataset) == before
    for table, model in TABLES.items():
        after = rows_of(client, dataset, table, ", ".join(model.KEY))
        if table != "videos":
            assert after == tables[table], table
    videos = {r["video_id"]: r for r in rows_of(client, dataset, "videos", "video_id")}
    assert videos["a"]["duration_s"] == 14.5
    assert videos["a"]["path_fields"] == {"event": "pool"}
    assert videos["b"] == tables["videos"][1]


@pytest.mark.integration
def test_replace_scope_drops_stale_segments_assets_and_failures(bq):
    client, dataset, factory = bq
    run_catalog(first_run(), dataset, factory)
    # "a" again, now with one segment and one asset and no failures; "b" not in this run.
    second = [video("a"), segment("a", 0, peak_score=0.7), asset("a", "proxy", "proxy_720p.mp4")]
    run_catalog(second, dataset, factory)
    segments = rows_of(client, dataset, "segments", "video_id, segment_index")
    assert [(r["video_id"], r["segment_index"], r["peak_score"]) for r in segments] == [
        ("a", 0, 0.7),
        ("b", 0, 0.9),
    ]
    assets = rows_of(client, dataset, "assets", "video_id, uri")
    assert [(r["video_id"], r["asset_type"]) for r in assets] == [
        ("a", "proxy"),
        ("b", "thumbnail"),
    ]
    failures = rows_of(client, dataset, "failures", "input_uri")
    assert [r["input_uri"] for r in failures] == ["gs://archive/broken.mp4"]


@pytest.mark.integration
def test_bad_row_becomes_a_failure_row(bq):
    client, dataset, factory = bq
    rows = [video("a"), segment("a", 0), segment("a", 1, peak_score=float("nan"))]
    run_catalog(rows, dataset, factory)
    assert counts(client, dataset) == {"videos": 1, "segments": 1, "assets": 0, "failures": 1}
    (row,) = rows_of(client, dataset, "failures", "input_uri")
    assert row["input_uri"] == "gs://archive/a.mp4"
    assert row["stage"] == "write" and row["video_id"] == "a"
    assert row["error_type"] == "InvalidRowError"
    assert "segment_index=1" in row["message"] and "peak_score" in row["message"]
    assert row["failed_at"] == FIXED_NOW


class LoadRejectingFactory:
    """Client factory whose load jobs fail as BigQuery fails a load with a bad row."""

    def __init__(self, inner):
        self._inner = inner

    def __call__(self, project):
        from google.api_core.exceptions import BadRequest

        client = self._inner(project)

        def load_table_from_file(*args, **kwargs):
            raise BadRequest("Error while reading data (injected)", errors=[{"reason": "invalid"}])

        client.load_table_from_file = load_table_from_file
        return client


@pytest.mark.integration
def test_rejected_load_falls_back_to_per_row_inserts(bq):
    """A load BigQuery rejects is redone with streaming inserts, whose errors name the row."""
    client, dataset, factory = bq
    # A row that slipped past validation: NULL in a REQUIRED column.
    bad = SegmentRow.model_construct(**{**segment("a", 1).model_dump(), "peak_score": None})
    rows = [video("a"), segment("a", 0), bad]
    run_catalog(rows, dataset, LoadRejectingFactory(factory))
    assert counts(client, dataset) == {"videos": 1, "segments": 1, "assets": 0, "failures": 1}
    (row,) = rows_of(client, dataset, "failures", "input_uri")
    assert row["stage"] == "write" and "segment_index=1" in row["message"]
    assert "peak_score" in row["message"]


@pytest.mark.integration
def test_failures_of_different_artifacts_are_two_rows(bq):
    """Two render failures of one video with different artifacts: two rows, also on rerun."""
    client, dataset, factory = bq
    rows = [
        failure("gs://archive/a.mp4", stage="render", artifact="ladder"),
        failure("gs://archive/a.mp4", stage="render", artifact="preview"),
        failure("gs://archive/a.mp4", stage="detect", chunk_index=3),
    ]
    for _ in range(2):
        run_catalog(rows, dataset, factory, transaction=False)
        got = rows_of(client, dataset, "failures", "stage, artifact")
        assert [(r["stage"], r["chunk_index"], r["artifact"]) for r in got] == [
            ("detect", 3, None),
            ("render", None, "ladder"),
            ("render", None, "preview"),
        ]
