"""The catalog in BigQuery: the four tables of ``PROJECT:DATASET``, upserted by key.

Same semantics as the NDJSON catalog (``transforms.catalog.tables``): each table gets
a run's rows by key and loses the rows the run supersedes. Per table:

1. create the table if missing, with the schema from ``bigquery_schema()``
   (``videos`` partitioned by DAY on ``indexed_at`` and clustered by ``video_id``,
   the others clustered by their first key column); columns the model gained since
   are added (as NULLABLE);
2. load this run's rows (deduplicated by key, last wins) into a staging table with
   a load job from NDJSON, the same bytes as the local catalog files;
3. one atomic ``MERGE`` (``bigquery_sql.upsert_script``);
4. drop the staging table (it also expires after a day, should a worker die first).

Rerunning the same rows leaves the same rows. Errors that ``transforms.errors.classify``
calls transient (rate limits, 5xx, connection errors, transaction conflicts) are
retried by ``transforms.io.retry.call_with_retries``; every step is idempotent, so a
retry repeats it whole. A row BigQuery cannot take (a NaN or infinite float, or a row
the load rejects) becomes a ``failures`` row of stage ``write`` instead of failing
the run. Plain Python: the Beam DoFn in ``write_catalog`` drives it.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import io
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from transforms.catalog.bigquery_sql import (
    PARTITIONING,
    STAGING_TTL,
    invalid_reason,
    quote_table,
    upsert_script,
)
from transforms.catalog.tables import Scope, dedupe_by_key, replace_scope
from transforms.errors import ReelbeamError
from transforms.io.deadletter import Clock, failure_row
from transforms.io.retry import call_with_retries
from transforms.schemas import TABLES, CatalogRow, FailureRow, VideoRow, bigquery_schema

T = TypeVar("T")

SCOPE_CHUNK = 10_000
"""Values per array parameter of the replace-scope condition."""
INSERT_CHUNK = 500
"""Rows per streaming insert request (the fallback for rejected loads)."""

Rejected = list[tuple[CatalogRow, str]]
"""Rows BigQuery would not take, each with why."""


class InvalidRowError(ReelbeamError):
    """BigQuery cannot take this catalog row (e.g. a NaN float): recorded, not retried."""


class BigQueryStore:
    """Upserts runs of catalog rows into the four tables of one dataset.

    Args:
        project, dataset: where the tables live (created if missing).
        client: a ``google.cloud.bigquery.Client``.
        clock: stamps ``failed_at`` of rejected rows.
        transaction: wrap two statements of one table in a transaction (off for
            emulators without multi-statement transactions).
        retry_attempts, retry_base_delay_s: the retry policy for transient errors.
    """

    def __init__(
        self,
        project: str,
        dataset: str,
        client,
        clock: Clock,
        *,
        transaction: bool = True,
        retry_attempts: int = 6,
        retry_base_delay_s: float = 1.0,
        retry_max_delay_s: float = 32.0,
    ):
        self._project = project
        self._dataset = dataset
        self._client = client
        self._clock = clock
        self._transaction = transaction
        self._retry_attempts = retry_attempts
        self._retry_base_delay_s = retry_base_delay_s
        self._retry_max_delay_s = retry_max_delay_s
        self._ready: set[str] = set()  # dataset ("") and tables known to exist

    def table_id(self, table: str) -> str:
        """``project.dataset.table``."""
        return f"{self._project}.{self._dataset}.{table}"

    def _retry(self, fn: Callable[[], T], what: str) -> T:
        return call_with_retries(
            fn,
            what=f"BigQuery {what}",
            attempts=self._retry_attempts,
            base_delay_s=self._retry_base_delay_s,
            max_delay_s=self._retry_max_delay_s,
        )

    # -- tables

    def _ensure_dataset(self) -> None:
        from google.api_core.exceptions import NotFound

        if "" in self._ready:
            return
        dataset_id = f"{self._project}.{self._dataset}"
        try:
            self._retry(lambda: self._client.get_dataset(dataset_id), "get dataset")
        except NotFound:
            logging.info("creating BigQuery dataset %s", dataset_id)
            self._retry(lambda: self._client.create_dataset(dataset_id, exists_ok=True), "create")
        self._ready.add("")

    def _ensure_table(self, table: str) -> None:
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        if table in self._ready:
            return
        model = TABLES[table]
        schema = [bigquery.SchemaField.from_api_repr(f) for f in bigquery_schema(model)]
        table_id = self.table_id(table)
        try:
            existing = self._retry(lambda: self._client.get_table(table_id), "get table")
        except NotFound:
            resource = bigquery.Table(table_id, schema=schema)
            if table in PARTITIONING:
                kind, column = PARTITIONING[table]
                resource.time_partitioning = bigquery.TimePartitioning(type_=kind, field=column)
            resource.clustering_fields = [model.KEY[0]]
            resource.description = (model.__doc__ or "").strip().splitlines()[0]
            logging.info("creating BigQuery table %s", table_id)
            self._retry(lambda: self._client.create_table(resource, exists_ok=True), "create")
        else:
            have = {field.name for field in existing.schema}
            missing = [f for f in schema if f.name not in have]
            if missing:
                added = [
                    bigquery.SchemaField(f.name, f.field_type, "NULLABLE", f.description)
                    for f in missing
                ]
                logging.warning(
                    "adding columns to %s: %s", table_id, ", ".join(f.name for f in added)
                )
                existing.schema = [*existing.schema, *added]
                self._retry(lambda: self._client.update_table(existing, ["schema"]), "update")
        self._ready.add(table)

    # -- one table

    def _create_staging(self, table: str) -> str:
        from google.cloud import bigquery

        staging_id = self.table_id(f"{table}_staging_{uuid.uuid4().hex[:12]}")
        resource = bigquery.Table(
            staging_id,
            schema=[bigquery.SchemaField.from_api_repr(f) for f in bigquery_schema(TABLES[table])],
        )
        resource.expires = dt.datetime.now(dt.UTC) + STAGING_TTL
        self._retry(lambda: self._client.create_table(resource, exists_ok=True), "create staging")
        return staging_id

    def _load(self, staging_id: str, table: str, rows: list[CatalogRow]) -> Rejected:
        """Rows into the staging table; returns the rows BigQuery rejected, with why."""
        from google.api_core.exceptions import BadRequest
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            schema=[bigquery.SchemaField.from_api_repr(f) for f in bigquery_schema(TABLES[table])],
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
        )
        body = "".join(row.to_json() + "\n" for row in rows).encode("utf-8")

        def load():
            job = self._client.load_table_from_file(
                io.BytesIO(body), staging_id, job_config=config, job_id_prefix=f"reelbeam_{table}_"
            )
            return job.result()

        try:
            self._retry(load, f"load {table}")
            return []
        except BadRequest as exc:
            reasons = {e.get("reason") for e in (exc.errors or []) if isinstance(e, dict)}
            if reasons - {"invalid", None}:  # not bad data: access, quota, schema, ...
                raise
            logging.warning(
                "BigQuery rejected the load of %d %s rows (%s); streaming them instead "
                "to find the bad ones",
                len(rows),
                table,
                " ".join(str(exc).split())[:300],
            )
        return self._insert_finding_bad_rows(staging_id, table, rows)

    def _insert_finding_bad_rows(
        self, staging_id: str, table: str, rows: list[CatalogRow]
    ) -> Rejected:
        # Streaming inserts report errors per row; skip_invalid_rows keeps the good ones.
        rejected = []
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            payload = [row.model_dump(mode="json") for row in chunk]
            errors = self._retry(
                lambda payload=payload: self._client.insert_rows_json(
                    staging_id, payload, skip_invalid_rows=True, row_ids=[None] * len(payload)
                ),
                f"insert {table}",
            )
            for entry in errors:
                reasons = [e for e in entry.get("errors", []) if e.get("reason") != "stopped"]
                if reasons:
                    detail = "; ".join(
                        f"{e.get('location') or 'row'}: {e.get('message') or e.get('reason')}"
                        for e in reasons
                    )
                    rejected.append((chunk[entry["index"]], detail))
        return rejected

    def _merge(
        self, table: str, staging_id: str | None, scope_values: list[str], column: str | None
    ) -> None:
        """One MERGE of the staged rows (or a DELETE of the scope when none were staged)."""
        from google.cloud import bigquery

        chunks = [
            scope_values[i : i + SCOPE_CHUNK] for i in range(0, len(scope_values), SCOPE_CHUNK)
        ]
        params = [
            bigquery.ArrayQueryParameter(f"scope_{i}", "STRING", chunk)
            for i, chunk in enumerate(chunks)
        ]
        sql = upsert_script(
            quote_table(self._project, self._dataset, table),
            f"`{staging_id}`" if staging_id else None,
            TABLES[table],
            column,
            [p.name for p in params],
            self._transaction,
        )
        config = bigquery.QueryJobConfig(query_parameters=params)

        def run():
            return self._client.query(
                sql, job_config=config, job_id_prefix=f"reelbeam_merge_{table}_"
            ).result()

        self._retry(run, f"merge {table}")

    def upsert_table(
        self, table: str, rows: Sequence[CatalogRow], scope: Scope | None
    ) -> tuple[int, Rejected]:
        """This run's rows into one table. Returns ``(rows written, [(bad row, why)])``."""
        self._ensure_dataset()
        self._ensure_table(table)
        rejected: Rejected = []
        load_rejected: Rejected = []
        good = []
        for row in dedupe_by_key(rows):
            why = invalid_reason(row)
            if why:
                rejected.append((row, why))
            else:
                good.append(row)
        column, values = scope if scope else (None, set())
        scope_values = sorted(v for v in values if v is not None)
        if not good and not scope_values:
            return 0, rejected
        staging_id = None
        try:
            if good:
                staging_id = self._create_staging(table)
                load_rejected = self._load(staging_id, table, good)
            self._merge(table, staging_id, scope_values, column)
        finally:
            if staging_id:
                try:
                    self._retry(
                        lambda: self._client.delete_table(staging_id, not_found_ok=True),
                        "drop staging",
                    )
                except Exception as exc:  # it expires by itself
                    logging.warning("could not drop %s: %s", staging_id, exc)
        return len(good) - len(load_rejected), rejected + load_rejected

    # -- a run

    def _failure_for(
        self, table: str, row: CatalogRow, why: str, sources: Mapping[str, str]
    ) -> FailureRow:
        video_id = getattr(row, "video_id", None)
        if isinstance(row, VideoRow):
            uri = row.source_uri
        else:
            uri = sources.get(video_id) or getattr(row, "uri", None) or str(video_id)
        key = ", ".join(f"{k}={getattr(row, k)}" for k in row.KEY)
        error = InvalidRowError(f"BigQuery rejected the {table} row ({key}): {why}")
        return failure_row(
            error, input_uri=uri, stage="write", video_id=video_id, clock=self._clock
        )

    def upsert_tables(
        self, batch: Mapping[str, Sequence[CatalogRow]]
    ) -> dict[str, tuple[int, Rejected]]:
        """A run's rows (``{table: [rows]}``) into the four tables.

        Returns:
            ``{table: (rows written, [(rejected row, why)])}`` in table order; rows the
            other tables rejected are written as ``failures`` rows (stage ``write``).
        """
        self._ensure_dataset()
        # videos, segments and assets are independent: their jobs run side by side (each
        # BigQuery job takes seconds); failures goes last, as it also takes the rows that
        # the others rejected.
        first = [table for table in TABLES if table != "failures"]
        with concurrent.futures.ThreadPoolExecutor(len(first)) as pool:
            futures = {
                table: pool.submit(
                    self.upsert_table,
                    table,
                    list(batch.get(table, [])),
                    replace_scope(table, batch),
                )
                for table in first
            }
            results = {table: future.result() for table, future in futures.items()}
        sources = {v.video_id: v.source_uri for v in batch.get("videos", [])}  # type: ignore[attr-defined]
        new_failures = [
            self._failure_for(table, row, why, sources)
            for table in first
            for row, why in results[table][1]
        ]
        scope = replace_scope("failures", batch)
        if scope is not None:
            scope = (scope[0], scope[1] | {f.input_uri for f in new_failures})
        results["failures"] = self.upsert_table(
            "failures", [*batch.get("failures", []), *new_failures], scope
        )
        for table in TABLES:
            written, rejected = results[table]
            for _, why in rejected:
                logging.warning("BigQuery %s row rejected: %s", table, why)
            logging.info("merged %d rows into %s", written, self.table_id(table))
        return {table: results[table] for table in TABLES}
