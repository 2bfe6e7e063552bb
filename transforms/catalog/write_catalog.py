"""The catalog sinks as composites: ``WriteCatalog`` (NDJSON) and ``WriteCatalogToBigQuery``.

Both take one PCollection of catalog rows of any table (``VideoRow``, ``SegmentRow``,
``AssetRow``, ``FailureRow``), gather all rows of the run (of each window, when
streaming), and upsert the four tables together, so the catalog is always consistent.
The table logic lives in ``tables``; the stores in ``ndjson_store`` and ``bigquery_store``;
the DoFns here only drive them and count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from transforms.catalog.bigquery_client import BigQueryClientFactory
from transforms.catalog.bigquery_sql import parse_dataset
from transforms.catalog.bigquery_store import BigQueryStore
from transforms.catalog.ndjson_store import upsert_tables
from transforms.catalog.tables import failed_inputs, group_tables
from transforms.io.deadletter import Clock, utc_now
from transforms.schemas import CatalogRow


def gather_rows(rows: beam.PCollection) -> beam.PTransform:
    """All rows as one list: per run in batch, per window that has rows when streaming."""
    gather = beam.combiners.ToList()
    if rows.windowing.windowfn != beam.window.GlobalWindows():
        gather = gather.without_defaults()
    return gather


def _count_run(batch: Mapping[str, Sequence[CatalogRow]], written: Mapping[str, int]) -> None:
    counter = beam.metrics.Metrics.counter
    counter("reelbeam", "inputs_failed").inc(len(failed_inputs(batch)))
    for table, count in written.items():
        counter("reelbeam", f"rows_{table}").inc(count)


class _WriteTablesFn(beam.DoFn):
    """All rows of the run (one element: ``(key, {table: [rows]})``) -> the four catalog files.

    Stateful on a single key: a runner processes one key at a time, so when a stream's
    windows fire together their read-merge-rename cycles cannot interleave and lose rows.
    """

    WRITES = ReadModifyWriteStateSpec("writes", VarIntCoder())

    def __init__(self, output: str):
        self._output = output

    def process(self, element, writes=beam.DoFn.StateParam(WRITES)):  # noqa: B008 (Beam API)
        _, batch = element
        writes.write((writes.read() or 0) + 1)
        written = upsert_tables(self._output, batch)
        _count_run(batch, written)
        yield from written.items()


class WriteCatalog(beam.PTransform):
    """Upsert catalog rows into ``<output>/catalog/*.jsonl`` (the embedded default).

    Returns:
        A PCollection of ``(table, rows written this run)``.
    """

    def __init__(self, output: str):
        super().__init__()
        self._output = output

    def expand(self, rows: beam.PCollection[CatalogRow]):
        return (
            rows
            | "Gather" >> gather_rows(rows)
            | "ByTable" >> beam.Map(group_tables)
            | "OneWriter" >> beam.Map(lambda batch: ("catalog", batch))
            | "Upsert" >> beam.ParDo(_WriteTablesFn(self._output))
        )


class _MergeTablesFn(beam.DoFn):
    """All rows of the run (one element: ``{table: [rows]}``) -> the four BigQuery tables."""

    def __init__(
        self,
        project: str,
        dataset: str,
        client_factory: Callable[[str], object],
        clock: Clock,
        store_options: dict,
    ):
        self._project = project
        self._dataset = dataset
        self._client_factory = client_factory
        self._clock = clock
        self._store_options = store_options
        self._client = None
        self._store: BigQueryStore | None = None

    def setup(self):
        self._client = self._client_factory(self._project)
        self._store = BigQueryStore(
            self._project, self._dataset, self._client, self._clock, **self._store_options
        )

    def teardown(self):
        if self._client is not None and hasattr(self._client, "close"):
            self._client.close()
        self._client = None
        self._store = None

    def process(self, batch: dict[str, list[CatalogRow]]):
        results = self._store.upsert_tables(batch)
        rejected = sum(len(bad) for _, bad in results.values())
        # Metrics are counted here, on the DoFn's thread: Beam's are per thread.
        beam.metrics.Metrics.counter("reelbeam", "rows_rejected").inc(rejected)
        written = {table: count for table, (count, _) in results.items()}
        _count_run(batch, written)
        yield from written.items()


class WriteCatalogToBigQuery(beam.PTransform):
    """Upsert catalog rows into the four BigQuery tables of ``PROJECT:DATASET``.

    Takes one PCollection of catalog rows of any table, like ``WriteCatalog``; the
    tables are written once all rows are in (``bigquery_store`` says how).

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
        self._store_options = {
            "transaction": transaction,
            "retry_attempts": retry_attempts,
            "retry_base_delay_s": retry_base_delay_s,
        }

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
                    self._store_options,
                )
            )
        )
