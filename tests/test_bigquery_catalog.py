"""The BigQuery catalog: tables from the models, MERGE upserts, replace scope, bad rows, preflight.

The integration tests run ``WriteCatalogToBigQuery`` in a DirectRunner pipeline against
the local-bigquery emulator (``scripts/emulators.sh install``); the rest need nothing.
"""

from __future__ import annotations

import json
import time

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import FIXED_NOW, fixed_clock
from tests.emulators import bigquery_emulator  # noqa: F401  (a pytest fixture)
from transforms.catalog.bigquery_client import BigQueryClientFactory, check_credentials
from transforms.catalog.bigquery_sql import merge_statement, parse_dataset, upsert_script
from transforms.catalog.write_catalog import WriteCatalogToBigQuery
from transforms.errors import classify
from transforms.io.retry import call_with_retries
from transforms.schemas import (
    TABLES,
    AssetRow,
    CatalogRow,
    FailureRow,
    SegmentRow,
    VideoRow,
    bigquery_schema,
)

# ---------------------------------------------------------------- row builders


def video(video_id: str, **changes) -> VideoRow:
    fields = dict(
        video_id=video_id,
        source_uri=f"gs://archive/{video_id}.mp4",
        file_name=f"{video_id}.mp4",
        file_size_bytes=1000,
        source_mtime=FIXED_NOW,
        container="mov,mp4,m4a,3gp,3g2,mj2",
        duration_s=13.0,
        width=720,
        height=1280,
        display_width=720,
        display_height=1280,
        rotation_deg=0,
        sample_aspect_ratio="1:1",
        codec="h264",
        pix_fmt="yuv420p",
        bitrate_kbps=512.5,
        fps=5.0,
        is_vfr=False,
        frame_count=65,
        has_audio=False,
        audio_codec=None,
        audio_channels=None,
        audio_sample_rate=None,
        path_fields={"event": "gym", "day": "day1"},
        segment_count=2,
        motion_s_total=4.5,
        failed_chunks=0,
        proxy_uri=None,
        proxy_size_bytes=None,
        highlights_uri=None,
        highlights_duration_s=None,
        scanned_at=FIXED_NOW,
        indexed_at=FIXED_NOW,
        pipeline_version="test",
    )
    fields.update(changes)
    return VideoRow(**fields)


def segment(video_id: str, index: int, **changes) -> SegmentRow:
    fields = dict(
        video_id=video_id,
        segment_index=index,
        start_s=2.0 * index,
        end_s=2.0 * index + 1.5,
        duration_s=1.5,
        peak_score=0.9,
        mean_score=0.4,
        max_people=1,
    )
    fields.update(changes)
    return SegmentRow(**fields)


def asset(video_id: str, asset_type: str, name: str) -> AssetRow:
    return AssetRow(
        video_id=video_id,
        asset_type=asset_type,
        uri=f"gs://out/videos/{video_id}/{name}",
        width=320,
        height=180,
        duration_s=None,
        bitrate_kbps=None,
        size_bytes=1234,
        md5="0" * 32,
        codec="jpeg",
    )


def failure(
    input_uri: str,
    stage: str = "probe",
    chunk_index: int | None = None,
    artifact: str | None = None,
) -> FailureRow:
    return FailureRow(
        input_uri=input_uri,
        video_id=None,
        stage=stage,
        error_type="CorruptMediaError",
        message="moov atom not found",
        permanent=True,
        chunk_index=chunk_index,
        artifact=artifact,
        failed_at=FIXED_NOW,
        pipeline_version="test",
    )


def first_run() -> list[CatalogRow]:
    return [
        video("a"),
        video("b"),
        *(segment("a", i) for i in range(3)),
        segment("b", 0),
        asset("a", "thumbnail", "thumbs/000.jpg"),
        asset("a", "proxy", "proxy_720p.mp4"),
        asset("b", "thumbnail", "thumbs/000.jpg"),
        failure("gs://archive/broken.mp4"),
        failure("gs://archive/a.mp4", stage="detect", chunk_index=3),
    ]


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


# -------------------------------------------------------------- unit tests


def test_parse_dataset():
    assert parse_dataset("my-proj:catalog_1") == ("my-proj", "catalog_1")
    assert parse_dataset("my-proj.catalog") == ("my-proj", "catalog")
    for bad in ("catalog", "p:", ":d", "p:d.x", "p:d-x"):
        with pytest.raises(ValueError, match="PROJECT:DATASET|letters"):
            parse_dataset(bad)


def test_merge_matches_nullable_keys_null_safe():
    sql = merge_statement("`p.d.failures`", "`p.d.s`", FailureRow)
    assert "T.input_uri = S.input_uri AND T.stage = S.stage" in sql
    assert (
        "(T.chunk_index = S.chunk_index OR (T.chunk_index IS NULL AND S.chunk_index IS NULL))"
        in sql
    )
    assert "UPDATE SET video_id = S.video_id" in sql and "input_uri = S.input_uri," not in sql
    assert "(T.artifact = S.artifact OR (T.artifact IS NULL AND S.artifact IS NULL))" in sql
    assert "artifact = S.artifact," not in sql.split("UPDATE SET", 1)[1].split("\n")[0]


def test_upsert_script_is_one_atomic_merge_that_deletes_the_replaced_scope():
    sql = upsert_script("`p.d.segments`", "`p.d.s`", SegmentRow, "video_id", ["scope_0"])
    assert sql.count(";") == 1 and "TRANSACTION" not in sql
    assert sql.startswith("MERGE `p.d.segments` T USING `p.d.s` S")
    assert "WHEN NOT MATCHED BY SOURCE AND (T.video_id IN UNNEST(@scope_0)) THEN DELETE" in sql
    two = upsert_script("`t`", "`s`", SegmentRow, "video_id", ["s0", "s1"])
    assert "(T.video_id IN UNNEST(@s0) OR T.video_id IN UNNEST(@s1))" in two
    alone = upsert_script("`p.d.videos`", "`p.d.s`", VideoRow, None, [], transaction=True)
    assert "TRANSACTION" not in alone and "NOT MATCHED BY SOURCE" not in alone
    assert upsert_script("`t`", None, SegmentRow, "video_id", ["s0"]).startswith("DELETE")


def test_classify_tells_bigquery_transient_errors_apart():
    """The cases BigQuery's own ``is_transient`` covered, now decided by ``classify``."""
    from google.api_core import exceptions as api

    def transient(exc: BaseException) -> bool:
        return not classify(exc)[1]

    assert transient(api.ServiceUnavailable("x"))
    assert transient(api.TooManyRequests("x"))
    assert transient(api.InternalServerError("x"))
    assert transient(api.BadGateway("x"))
    assert transient(api.GatewayTimeout("x"))
    assert transient(api.DeadlineExceeded("x"))
    assert transient(api.Forbidden("x", errors=[{"reason": "rateLimitExceeded"}]))
    assert transient(api.BadRequest("x", errors=[{"reason": "jobBackendError"}]))
    assert transient(api.BadRequest("Transaction is aborted due to concurrent update"))
    assert transient(api.BadRequest("could not serialize access due to concurrent update"))
    assert transient(ConnectionResetError())
    assert transient(TimeoutError())
    assert not transient(api.BadRequest("Syntax error"))
    assert not transient(api.Forbidden("x", errors=[{"reason": "accessDenied"}]))
    assert not transient(api.NotFound("no such table"))
    assert not transient(ValueError("x"))


def test_classify_takes_requests_network_errors_as_transient():
    import requests

    assert not classify(requests.ConnectionError("reset"))[1]
    assert not classify(requests.Timeout("slow"))[1]


BIGQUERY_RETRY = dict(what="BigQuery merge", attempts=6, base_delay_s=1.0, max_delay_s=32.0)


def test_backoff_retries_transient_then_raises_permanent():
    from google.api_core import exceptions as api

    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise api.InternalServerError("boom")
        return "ok"

    assert call_with_retries(flaky, **BIGQUERY_RETRY, sleep=sleeps.append) == "ok"
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[1] <= 2

    def bad():
        raise api.BadRequest("no such column")

    with pytest.raises(api.BadRequest):
        call_with_retries(bad, **BIGQUERY_RETRY, sleep=sleeps.append)
    assert len(sleeps) == 2


def test_client_factory_is_picklable_and_points_at_the_endpoint():
    import pickle

    factory = pickle.loads(
        pickle.dumps(BigQueryClientFactory(api_endpoint="http://127.0.0.1:1", anonymous=True))
    )
    client = factory("p")
    assert client.project == "p"
    assert client._connection.API_BASE_URL == "http://127.0.0.1:1"


@pytest.fixture
def no_adc(tmp_path, monkeypatch):
    """An environment with no Application Default Credentials anywhere."""
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))  # no ADC file there
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    return tmp_path


def test_check_credentials_missing_key_file_is_one_line_fast(no_adc, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(no_adc / "nothing.json"))
    start = time.monotonic()
    message = check_credentials("proj")
    assert time.monotonic() - start < 3
    assert message and "\n" not in message
    assert "nothing.json does not exist" in message and "gcloud auth application-default" in message


def test_check_credentials_without_any_adc(no_adc):
    start = time.monotonic()
    message = check_credentials("proj")
    assert time.monotonic() - start < 5
    assert message and message.startswith("BigQuery: no Application Default Credentials")


def test_check_credentials_accepts_a_credentials_file(no_adc, monkeypatch):
    key = no_adc / "adc.json"
    key.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "id.apps.googleusercontent.com",
                "client_secret": "secret",
                "refresh_token": "token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    assert check_credentials("proj") is None


# ------------------------------------------------- the store on a fake client


class FakeJob:
    def result(self):
        return self


class FakeBigQueryClient:
    """Records what ``BigQueryStore`` asks of BigQuery; the first ``unavailable`` queries 503."""

    def __init__(self, unavailable: int = 0):
        self.tables: dict[str, object] = {}
        self.loaded: dict[str, list[dict]] = {}
        self.queries: list[tuple[str, dict]] = []
        self.deleted: list[str] = []
        self.unavailable = unavailable

    def get_dataset(self, dataset_id):
        return dataset_id

    def get_table(self, table_id):
        from google.api_core.exceptions import NotFound

        if table_id not in self.tables:
            raise NotFound(table_id)
        return self.tables[table_id]

    def create_table(self, resource, exists_ok=False):
        self.tables[f"{resource.project}.{resource.dataset_id}.{resource.table_id}"] = resource
        return resource

    def load_table_from_file(self, handle, staging_id, job_config=None, job_id_prefix=None):
        self.loaded[staging_id] = [json.loads(line) for line in handle.read().splitlines()]
        return FakeJob()

    def query(self, sql, job_config=None, job_id_prefix=None):
        from google.api_core.exceptions import ServiceUnavailable

        if self.unavailable > 0:
            self.unavailable -= 1
            raise ServiceUnavailable("backend is unavailable (injected)")
        params = {p.name: p.values for p in job_config.query_parameters}
        self.queries.append((sql, params))
        return FakeJob()

    def delete_table(self, table_id, not_found_ok=False):
        self.deleted.append(table_id)


def test_store_merges_every_table_on_its_key_and_retries_transient_errors(caplog):
    from transforms.catalog.bigquery_store import BigQueryStore
    from transforms.catalog.tables import group_tables

    client = FakeBigQueryClient(unavailable=2)
    store = BigQueryStore("p", "d", client, fixed_clock, retry_base_delay_s=0.001)
    batch = group_tables(
        [
            video("a"),
            segment("a", 0),
            failure("gs://archive/a.mp4", stage="render", artifact="ladder"),
            failure("gs://archive/a.mp4", stage="render", artifact="preview"),
            failure("gs://archive/a.mp4", stage="render", artifact="preview"),  # same key
        ]
    )
    with caplog.at_level("WARNING"):
        results = store.upsert_tables(batch)
    assert {t: n for t, (n, _) in results.items()} == {
        "videos": 1,
        "segments": 1,
        "assets": 0,
        "failures": 2,
    }
    assert "BigQuery merge" in caplog.text and "ServiceUnavailable" in caplog.text
    merges = {sql.split()[1]: (sql, params) for sql, params in client.queries}
    sql, params = merges["`p.d.failures`"]
    assert "(T.artifact = S.artifact OR (T.artifact IS NULL AND S.artifact IS NULL))" in sql
    assert params == {"scope_0": ["gs://archive/a.mp4"]}
    (staged,) = [rows for table, rows in client.loaded.items() if "failures_staging" in table]
    assert [r["artifact"] for r in staged] == ["ladder", "preview"]
    assert sorted(client.deleted) == sorted(client.loaded), "staging tables are dropped"
