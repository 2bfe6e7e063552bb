"""``BigQueryStore`` on a fake client: what it asks BigQuery, keys, retries, staging."""

from __future__ import annotations

import json

from tests.helpers.catalog_rows import failure, segment, video
from tests.helpers.runs import fixed_clock

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
