"""The catalog in BigQuery (``--bigquery_dataset PROJECT:DATASET``): the four tables, upserted by key.

Same input and semantics as ``transforms.catalog.WriteCatalog``: once all rows of
the run are in, each table gets this run's rows by key (update matched, insert not
matched) and loses the rows this run supersedes (``replace_scope``: segments and
assets of re-catalogued videos, failures of re-processed inputs). Per table:

1. create the table if missing, with the schema from ``bigquery_schema()``
   (``videos`` partitioned by DAY on ``indexed_at`` and clustered by ``video_id``,
   the others clustered by their first key column); columns the model gained since
   are added (as NULLABLE);
2. load this run's rows (deduplicated by key, last wins) into a staging table with
   a load job from NDJSON, the same bytes as the local catalog files;
3. one atomic ``MERGE`` on the table's KEY (NULL-safe for nullable key columns) that
   updates, inserts, and deletes the replaced scope's stale rows (``WHEN NOT MATCHED BY
   SOURCE``), so no multi-statement transaction is needed;
4. drop the staging table (it also expires after a day, should a worker die first).

Rerunning the same rows leaves the same rows. Transient errors (rate limits, 5xx,
connection errors, transaction conflicts) are retried with exponential backoff;
every step is idempotent, so a retry repeats it whole. A row BigQuery cannot take
(a NaN or infinite float, or a row the load rejects) becomes a ``failures`` row of
stage ``write`` instead of failing the run.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import io
import logging
import math
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable

import apache_beam as beam

from transforms.catalog import gather_rows, replace_scope
from transforms.errors import ReelbeamError
from transforms.io.deadletter import Clock, failure_row, utc_now
from transforms.schemas import TABLES, CatalogRow, VideoRow, bigquery_schema

PARTITIONING: dict[str, tuple[str, str]] = {"videos": ("DAY", "indexed_at")}
"""``table -> (type, column)`` of time partitioning."""

STAGING_TTL = dt.timedelta(days=1)
_SCOPE_CHUNK = 10_000  # values per array parameter of the replace-scope DELETE
_INSERT_CHUNK = 500  # rows per streaming insert request (the fallback for rejected loads)
_TRANSIENT_REASONS = {
    "backendError",
    "internalError",
    "rateLimitExceeded",
    "jobBackendError",
    "jobInternalError",
    "jobRateLimitExceeded",
}
_TRANSIENT_MESSAGES = ("concurrent update", "could not serialize access", "retry the transaction")
BIGQUERY_SCOPE = "https://www.googleapis.com/auth/bigquery"


class InvalidRowError(ReelbeamError):
    """BigQuery cannot take this catalog row (e.g. a NaN float): recorded, not retried."""


def parse_dataset(spec: str) -> tuple[str, str]:
    """``PROJECT:DATASET`` (or ``PROJECT.DATASET``) -> ``(project, dataset)``.

    Raises:
        ValueError: with one line that says what is wrong.
    """
    project, sep, dataset = spec.strip().replace(":", ".", 1).partition(".")
    if not sep or not project or not dataset or "." in dataset or ":" in dataset:
        raise ValueError(f"--bigquery_dataset {spec!r}: expected PROJECT:DATASET")
    if not dataset.replace("_", "").isalnum():
        raise ValueError(
            f"--bigquery_dataset {spec!r}: a dataset name has only letters, digits and _"
        )
    return project, dataset


@dataclasses.dataclass(frozen=True)
class BigQueryClientFactory:
    """``factory(project) -> bigquery.Client``; picklable, so DoFns build clients in ``setup()``.

    Args:
        api_endpoint: another endpoint (an emulator: ``http://127.0.0.1:9050``).
        anonymous: no credentials (emulators); otherwise Application Default Credentials.
        location: default location of jobs and new datasets.
    """

    api_endpoint: str | None = None
    anonymous: bool = False
    location: str | None = None

    def __call__(self, project: str):
        from google.cloud import bigquery

        kwargs: dict = {}
        if self.api_endpoint:
            kwargs["client_options"] = {"api_endpoint": self.api_endpoint}
        if self.anonymous:
            from google.auth.credentials import AnonymousCredentials

            kwargs["credentials"] = AnonymousCredentials()
        return bigquery.Client(project=project, location=self.location, **kwargs)


# ------------------------------------------------------------------ credentials


def check_credentials(project: str | None = None, timeout_s: float = 5.0) -> str | None:
    """Preflight: are there Application Default Credentials for BigQuery?

    Never logs in interactively and never waits longer than ``timeout_s``: where
    ``NO_GCE_CHECK`` is unset, google-auth asks the GCE metadata server, which off
    Google Cloud may take longer than that; the lookup then runs on in a daemon thread.

    Args:
        project: the project the catalog goes to (from ``--bigquery_dataset``).
        timeout_s: how long to wait for the lookup.

    Returns:
        None when credentials were found, else one line that says what to do.
    """
    hint = (
        "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
        "to a service account key file"
    )
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if path and not os.path.isfile(path):
        return f"BigQuery: GOOGLE_APPLICATION_CREDENTIALS={path} does not exist; {hint}"
    outcome: dict = {}

    def lookup() -> None:
        try:
            import google.auth

            outcome["found"] = google.auth.default(scopes=[BIGQUERY_SCOPE])
        except Exception as exc:  # DefaultCredentialsError, a bad key file, ...
            outcome["error"] = exc

    thread = threading.Thread(target=lookup, name="check-credentials", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        return (
            f"BigQuery: no Application Default Credentials found within {timeout_s:g} s "
            f"(the GCE metadata server did not answer); {hint}"
        )
    if "error" in outcome:
        exc = outcome["error"]
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        return f"BigQuery: no Application Default Credentials ({detail}); {hint}"
    _, adc_project = outcome["found"]
    if not (project or adc_project):
        return "BigQuery: no Google Cloud project: use --bigquery_dataset PROJECT:DATASET"
    return None


# ------------------------------------------------------------------------- SQL


def quote_table(project: str, dataset: str, table: str) -> str:
    """```project.dataset.table``` for SQL."""
    return f"`{project}.{dataset}.{table}`"


def merge_statement(
    target: str, staging: str, model: type[CatalogRow], delete_when: str | None = None
) -> str:
    """``MERGE`` staging into target on the model's KEY: update matched, insert the rest.

    Nullable key columns (``failures.chunk_index``) match NULL to NULL, as the local
    catalog's keys do. ``delete_when`` (a condition on ``T``) deletes target rows of the
    replaced scope that this run has no new version of, in the same atomic statement.
    """
    columns = list(model.model_fields)
    nullable = {f["name"] for f in bigquery_schema(model) if f["mode"] == "NULLABLE"}
    on = " AND ".join(
        f"(T.{c} = S.{c} OR (T.{c} IS NULL AND S.{c} IS NULL))"
        if c in nullable
        else f"T.{c} = S.{c}"
        for c in model.KEY
    )
    updates = ", ".join(f"{c} = S.{c}" for c in columns if c not in model.KEY)
    merge = (
        f"MERGE {target} T USING {staging} S ON {on}\n"
        f"WHEN MATCHED THEN UPDATE SET {updates}\n"
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(columns)}) "
        f"VALUES ({', '.join('S.' + c for c in columns)})"
    )
    if delete_when:
        merge += f"\nWHEN NOT MATCHED BY SOURCE AND ({delete_when}) THEN DELETE"
    return merge


def upsert_script(
    target: str,
    staging: str | None,
    model: type[CatalogRow],
    scope_column: str | None,
    scope_params: Iterable[str] = (),
    transaction: bool = True,
) -> str:
    """The SQL of one table's upsert: one atomic ``MERGE`` (or ``DELETE`` with no new rows).

    With new rows, the replaced scope is deleted by the MERGE's ``WHEN NOT MATCHED BY
    SOURCE`` clause, so readers never see the scope deleted but not yet merged, and no
    multi-statement transaction is needed.

    Args:
        target: the quoted table.
        staging: the quoted staging table, or None when this run has no rows for it.
        model: the table's row model.
        scope_column: the column ``replace_scope`` names, or None.
        scope_params: names of ``ARRAY<STRING>`` query parameters with its values.
        transaction: wrap two statements in ``BEGIN TRANSACTION ... COMMIT TRANSACTION``
            so readers never see the scope deleted but not yet merged.
    """
    conditions = [f"{scope_column} IN UNNEST(@{p})" for p in scope_params if scope_column]
    if staging:
        delete_when = " OR ".join(f"T.{c}" for c in conditions) or None
        statements = [merge_statement(target, staging, model, delete_when)]
    else:
        statements = [f"DELETE FROM {target} WHERE {c}" for c in conditions]
    if transaction and len(statements) > 1:
        statements = ["BEGIN TRANSACTION", *statements, "COMMIT TRANSACTION"]
    return "".join(statement + ";\n" for statement in statements)


# ------------------------------------------------------------------- retries


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may cure: rate limits, 5xx, timeouts, transaction conflicts."""
    from google.api_core import exceptions as api

    if isinstance(
        exc,
        (
            api.TooManyRequests,
            api.InternalServerError,
            api.BadGateway,
            api.ServiceUnavailable,
            api.GatewayTimeout,
            api.DeadlineExceeded,
        ),
    ):
        return True
    if isinstance(exc, api.GoogleAPICallError):
        reasons = {e.get("reason") for e in (exc.errors or []) if isinstance(e, dict)}
        if reasons & _TRANSIENT_REASONS:
            return True
        message = str(exc.message).lower()
        return any(text in message for text in _TRANSIENT_MESSAGES)
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    try:
        import requests
    except ImportError:  # pragma: no cover - requests comes with google-cloud-bigquery
        return False
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def call_with_backoff(
    fn: Callable[[], object],
    what: str,
    *,
    attempts: int = 6,
    base_delay_s: float = 1.0,
    max_delay_s: float = 32.0,
    sleep: Callable[[float], None] = time.sleep,
):
    """Call ``fn``, retrying transient errors with exponential backoff and jitter."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            delay = min(max_delay_s, base_delay_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1)
            logging.warning(
                "BigQuery %s: transient %s (try %d/%d), retrying in %.1f s",
                what,
                " ".join(str(exc).split())[:300],
                attempt,
                attempts,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")


# ----------------------------------------------------------------- the DoFn


def invalid_reason(row: CatalogRow) -> str | None:
    """Why BigQuery would reject a (schema-valid) row, or None: NaN and infinite floats."""
    for name, value in row:
        if isinstance(value, float) and not math.isfinite(value):
            return f"{name} is {value}, which BigQuery cannot store"
    return None


def dedupe_by_key(rows: Iterable[CatalogRow]) -> list[CatalogRow]:
    """One row per key, the last one winning (as ``upsert_rows`` does), in key order."""
    latest: dict[tuple, CatalogRow] = {}
    for row in rows:
        latest[row.key()] = row
    return [latest[key] for key in sorted(latest)]


def group_tables(rows: Iterable[CatalogRow]) -> dict[str, list[CatalogRow]]:
    """All rows of a run -> ``{table: [rows]}`` with every table present."""
    batch: dict[str, list[CatalogRow]] = {table: [] for table in TABLES}
    for row in rows:
        batch[row.TABLE].append(row)
    return batch


class _MergeTablesFn(beam.DoFn):
    """All rows of the run (one element: ``{table: [rows]}``) -> the four BigQuery tables."""

    def __init__(
        self,
        project: str,
        dataset: str,
        client_factory: Callable[[str], object],
        clock: Clock,
        transaction: bool,
        retry_attempts: int,
        retry_base_delay_s: float,
    ):
        self._project = project
        self._dataset = dataset
        self._client_factory = client_factory
        self._clock = clock
        self._transaction = transaction
        self._retry_attempts = retry_attempts
        self._retry_base_delay_s = retry_base_delay_s
        self._client = None
        self._ready: set[str] = set()  # dataset and tables known to exist

    def setup(self):
        self._client = self._client_factory(self._project)
        self._ready = set()

    def teardown(self):
        if self._client is not None and hasattr(self._client, "close"):
            self._client.close()
        self._client = None

    def _retry(self, fn: Callable[[], object], what: str):
        return call_with_backoff(
            fn, what, attempts=self._retry_attempts, base_delay_s=self._retry_base_delay_s
        )

    def _table_id(self, table: str) -> str:
        return f"{self._project}.{self._dataset}.{table}"

    # -- tables

    def _ensure_dataset(self) -> None:
        from google.api_core.exceptions import NotFound

        dataset_id = f"{self._project}.{self._dataset}"
        try:
            self._retry(lambda: self._client.get_dataset(dataset_id), "get dataset")
        except NotFound:
            logging.info("creating BigQuery dataset %s", dataset_id)
            self._retry(lambda: self._client.create_dataset(dataset_id, exists_ok=True), "create")

    def _ensure_table(self, table: str) -> None:
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        if table in self._ready:
            return
        model = TABLES[table]
        schema = [bigquery.SchemaField.from_api_repr(f) for f in bigquery_schema(model)]
        table_id = self._table_id(table)
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

        staging_id = self._table_id(f"{table}_staging_{uuid.uuid4().hex[:12]}")
        resource = bigquery.Table(
            staging_id,
            schema=[bigquery.SchemaField.from_api_repr(f) for f in bigquery_schema(TABLES[table])],
        )
        resource.expires = dt.datetime.now(dt.UTC) + STAGING_TTL
        self._retry(lambda: self._client.create_table(resource, exists_ok=True), "create staging")
        return staging_id

    def _load(
        self, staging_id: str, table: str, rows: list[CatalogRow]
    ) -> list[tuple[CatalogRow, str]]:
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
        # Streaming inserts report errors per row; skip_invalid_rows keeps the good ones.
        rejected = []
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = rows[start : start + _INSERT_CHUNK]
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

    def _upsert(
        self, table: str, rows: list[CatalogRow], scope: tuple[str, set[str]] | None
    ) -> tuple[int, list[tuple[CatalogRow, str]]]:
        """This run's rows into one table. Returns ``(rows written, [(bad row, why)])``."""
        from google.cloud import bigquery

        model = TABLES[table]
        rejected: list[tuple[CatalogRow, str]] = []
        load_rejected: list[tuple[CatalogRow, str]] = []
        good = []
        for row in dedupe_by_key(rows):
            why = invalid_reason(row)
            if why:
                rejected.append((row, why))
            else:
                good.append(row)
        column, values = scope if scope else (None, set())
        values = sorted(v for v in values if v is not None)
        if not good and not values:
            return 0, rejected
        staging_id = None
        try:
            if good:
                staging_id = self._create_staging(table)
                load_rejected = self._load(staging_id, table, good)
            chunks = [values[i : i + _SCOPE_CHUNK] for i in range(0, len(values), _SCOPE_CHUNK)]
            params = [
                bigquery.ArrayQueryParameter(f"scope_{i}", "STRING", chunk)
                for i, chunk in enumerate(chunks)
            ]
            sql = upsert_script(
                quote_table(self._project, self._dataset, table),
                f"`{staging_id}`" if staging_id else None,
                model,
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

    # -- the run

    def _failure_for(
        self, table: str, row: CatalogRow, why: str, sources: dict[str, str]
    ) -> CatalogRow:
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

    def _write_table(self, table: str, rows: list[CatalogRow], scope):
        self._ensure_table(table)
        return self._upsert(table, rows, scope)

    def process(self, batch: dict[str, list[CatalogRow]]):
        if "" not in self._ready:
            self._ensure_dataset()
            self._ready.add("")
        # videos, segments and assets are independent: their jobs run side by side (each
        # BigQuery job takes seconds); failures goes last, as it also takes the rows that
        # the others rejected. Metrics are counted here: Beam's are per thread.
        first = [table for table in TABLES if table != "failures"]
        with concurrent.futures.ThreadPoolExecutor(len(first)) as pool:
            futures = {
                table: pool.submit(
                    self._write_table,
                    table,
                    list(batch.get(table, [])),
                    replace_scope(table, batch),
                )
                for table in first
            }
            results = {table: future.result() for table, future in futures.items()}
        sources = {v.video_id: v.source_uri for v in batch.get("videos", [])}
        new_failures = [
            self._failure_for(table, row, why, sources)
            for table in first
            for row, why in results[table][1]
        ]
        scope = replace_scope("failures", batch)
        if scope is not None:
            scope = (scope[0], scope[1] | {f.input_uri for f in new_failures})
        results["failures"] = self._write_table(
            "failures", [*batch.get("failures", []), *new_failures], scope
        )
        counter = beam.metrics.Metrics.counter
        for table in TABLES:
            written, rejected = results[table]
            for _, why in rejected:
                logging.warning("BigQuery %s row rejected: %s", table, why)
            counter("reelbeam", "rows_rejected").inc(len(rejected))
            counter("reelbeam", f"rows_{table}").inc(written)
            logging.info("merged %d rows into %s", written, self._table_id(table))
            yield table, written
        videos = {v.source_uri for v in batch.get("videos", [])}
        failed_inputs = {f.input_uri for f in batch.get("failures", [])} - videos
        counter("reelbeam", "inputs_failed").inc(len(failed_inputs))


class WriteCatalogToBigQuery(beam.PTransform):
    """Upsert catalog rows into the four BigQuery tables of ``PROJECT:DATASET``.

    Takes one PCollection of catalog rows of any table, like ``WriteCatalog``; the
    tables are written once all rows are in.

    Args:
        dataset: ``PROJECT:DATASET`` (created if missing, tables too).
        client_factory: ``factory(project) -> google.cloud.bigquery.Client``, called in
            the DoFn's ``setup()``; picklable (``BigQueryClientFactory`` is). Default:
            ``bigquery.Client(project=PROJECT)`` with Application Default Credentials.
        clock: stamps ``failed_at`` of rejected rows.
        transaction: run each table's DELETE and MERGE in one transaction (set False
            for emulators without multi-statement transactions).
        retry_attempts / retry_base_delay_s: backoff for transient errors.

    Returns:
        A PCollection of ``(table, rows written this run)``.
    """

    def __init__(
        self,
        dataset: str,
        client_factory: Callable[[str], object] | None = None,
        *,
        clock: Clock = utc_now,
        transaction: bool = True,
        retry_attempts: int = 6,
        retry_base_delay_s: float = 1.0,
    ):
        super().__init__()
        self._project, self._dataset = parse_dataset(dataset)
        self._client_factory = client_factory or BigQueryClientFactory()
        self._clock = clock
        self._transaction = transaction
        self._retry_attempts = retry_attempts
        self._retry_base_delay_s = retry_base_delay_s

    def expand(self, rows: beam.PCollection[CatalogRow]):
        return (
            rows
            | "Gather" >> gather_rows(rows)
            | "ByTable" >> beam.Map(group_tables)
            | "Merge"
            >> beam.ParDo(
                _MergeTablesFn(
                    self._project,
                    self._dataset,
                    self._client_factory,
                    self._clock,
                    self._transaction,
                    self._retry_attempts,
                    self._retry_base_delay_s,
                )
            )
        )
