"""The catalog on the embedded default: NDJSON tables under ``<output>/catalog/``, upserted by key.

A run reads each existing table, replaces the rows it has new versions of, and
writes the whole table to a temporary name that is then renamed into place, so
a reader (or an interrupted run) never sees a half-written file. Rows are sorted
by key, so a rerun over the same inputs writes the same bytes apart from the
timestamps ``scanned_at``, ``indexed_at`` and ``failed_at``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from transforms.schemas import TABLES, CatalogRow, FailureRow, VideoRow


def catalog_path(output: str, table: str) -> str:
    """``<output>/catalog/<table>.jsonl``."""
    return FileSystems.join(output, "catalog", f"{table}.jsonl")


def _key(row: dict, key: tuple[str, ...]) -> tuple:
    return tuple((row.get(name) is not None, row.get(name) or 0) for name in key)


def read_table(output: str, table: str) -> list[dict]:
    """Rows of one catalog table as dicts (``[]`` when it does not exist yet)."""
    path = catalog_path(output, table)
    if not FileSystems.exists(path):
        return []
    with FileSystems.open(path) as handle:
        text = handle.read().decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def upsert_rows(
    existing: list[dict],
    new_rows: Iterable[CatalogRow],
    key: tuple[str, ...],
    replace: tuple[str, set[str]] | None = None,
) -> list[dict]:
    """Merge new rows into a table: same key replaced, rows in the replaced scope dropped.

    Args:
        existing: the table as it is.
        new_rows: this run's rows.
        key: the table's key columns.
        replace: ``(column, values)``: existing rows whose column is in ``values``
            are dropped even without a new row of the same key (a video that now
            has fewer segments loses the old extra ones).

    Returns:
        The table's rows sorted by key, one per key (the newest wins).
    """
    merged: dict[tuple, dict] = {}
    column, values = replace if replace else ("", set())
    for row in existing:
        if column and row.get(column) in values:
            continue
        merged[_key(row, key)] = row
    for row in new_rows:
        data = row.model_dump(mode="json")
        merged[_key(data, key)] = data
    return [merged[k] for k in sorted(merged)]


def write_table_atomically(output: str, table: str, rows: list[dict]) -> str:
    """Write rows as NDJSON to a temporary name, then rename into place. Returns the path."""
    path = catalog_path(output, table)
    tmp = f"{path}.tmp-{uuid.uuid4().hex}"
    body = "".join(
        json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows
    )
    with FileSystems.create(tmp, mime_type="application/x-ndjson") as handle:
        handle.write(body.encode("utf-8"))
    try:
        FileSystems.rename([tmp], [path])
    except Exception:
        FileSystems.delete([tmp])
        raise
    return path


def replace_scope(table: str, batch: dict[str, list[CatalogRow]]) -> tuple[str, set[str]] | None:
    """Which existing rows this run's rows supersede, beyond equal keys.

    Segments and assets of every video with a new ``videos`` row are replaced as a
    set; failures of every input this run processed are replaced, so a file that
    now succeeds loses its old failure rows.
    """
    videos: list[VideoRow] = batch.get("videos", [])  # type: ignore[assignment]
    if table in ("segments", "assets"):
        return "video_id", {v.video_id for v in videos}
    if table == "failures":
        failures: list[FailureRow] = batch.get("failures", [])  # type: ignore[assignment]
        return "input_uri", {v.source_uri for v in videos} | {f.input_uri for f in failures}
    return None


class _WriteTablesFn(beam.DoFn):
    """All rows of the run (one element: ``{table: [rows]}``) -> the four catalog files.

    Stateful on a single key: a runner processes one key at a time, so when a stream's
    windows fire together their read-merge-rename cycles cannot interleave and lose rows.
    """

    WRITES = ReadModifyWriteStateSpec("writes", VarIntCoder())

    def __init__(self, output: str):
        self._output = output

    def process(self, element, writes=beam.DoFn.StateParam(WRITES)):  # noqa: B008 (Beam API)
        _, batch = element
        writes.write((writes.read() or 0) + 1)
        videos = {v.source_uri for v in batch["videos"]}
        failed_inputs = {f.input_uri for f in batch["failures"]} - videos
        beam.metrics.Metrics.counter("reelbeam", "inputs_failed").inc(len(failed_inputs))
        for table, model in TABLES.items():
            beam.metrics.Metrics.counter("reelbeam", f"rows_{table}").inc(len(batch[table]))
            rows = upsert_rows(
                read_table(self._output, table),
                batch.get(table, []),
                model.KEY,
                replace_scope(table, batch),
            )
            path = write_table_atomically(self._output, table, rows)
            logging.info("wrote %s (%d rows)", path, len(rows))
            yield table, len(batch.get(table, []))


def gather_rows(rows: beam.PCollection) -> beam.PTransform:
    """All rows as one list: per run in batch, per window that has rows when streaming."""
    gather = beam.combiners.ToList()
    if rows.windowing.windowfn != beam.window.GlobalWindows():
        gather = gather.without_defaults()
    return gather


def _group_tables(rows: list[CatalogRow]) -> dict[str, list[CatalogRow]]:
    batch: dict[str, list[CatalogRow]] = {table: [] for table in TABLES}
    for row in rows:
        batch[row.TABLE].append(row)
    return batch


class WriteCatalog(beam.PTransform):
    """Upsert catalog rows into ``<output>/catalog/*.jsonl`` (the embedded default).

    Takes one PCollection of catalog rows of any table (``VideoRow``,
    ``SegmentRow``, ``AssetRow``, ``FailureRow``); the four tables are written
    together once all rows are in, so the catalog is always consistent.

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
            | "ByTable" >> beam.Map(_group_tables)
            | "OneWriter" >> beam.Map(lambda batch: ("catalog", batch))
            | "Upsert" >> beam.ParDo(_WriteTablesFn(self._output))
        )
