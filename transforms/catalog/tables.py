"""Pure table logic shared by every catalog sink: grouping, keys, upserts, replace scope.

The NDJSON files and the BigQuery tables take the same rows with the same meaning:
one row per key (the newest wins), and the rows a run supersedes (``replace_scope``)
dropped even without a new row of the same key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from transforms.schemas import TABLES, CatalogRow, FailureRow, VideoRow

Batch = dict[str, list[CatalogRow]]
"""All rows of a run (or a streaming window) by table: ``{table: [rows]}``."""

Scope = tuple[str, set[str]]
"""``(column, values)``: existing rows whose column holds one of the values are replaced."""


def group_tables(rows: Iterable[CatalogRow]) -> Batch:
    """All rows of a run -> ``{table: [rows]}`` with every table present."""
    batch: Batch = {table: [] for table in TABLES}
    for row in rows:
        batch[row.TABLE].append(row)
    return batch


def dict_key(row: Mapping[str, Any], key: Sequence[str]) -> tuple:
    """The key of a row read back as a dict, ordered as ``CatalogRow.key()`` orders it.

    A missing column counts as NULL (rows written before the column existed, such as
    ``failures.artifact``), and NULL sorts first.
    """
    return tuple(
        (row.get(name) is not None, row.get(name) if row.get(name) is not None else 0)
        for name in key
    )


def upsert_rows(
    existing: Iterable[Mapping[str, Any]],
    new_rows: Iterable[CatalogRow],
    key: Sequence[str],
    replace: Scope | None = None,
) -> list[dict]:
    """Merge new rows into a table: same key replaced, rows in the replaced scope dropped.

    Args:
        existing: the table as it is (dicts, as read from NDJSON).
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
        merged[dict_key(row, key)] = dict(row)
    for row in new_rows:
        data = row.model_dump(mode="json")
        merged[dict_key(data, key)] = data
    return [merged[k] for k in sorted(merged)]


def dedupe_by_key(rows: Iterable[CatalogRow]) -> list[CatalogRow]:
    """One row per key, the last one winning (as ``upsert_rows`` does), in key order."""
    latest: dict[tuple, CatalogRow] = {}
    for row in rows:
        latest[row.key()] = row
    return [latest[key] for key in sorted(latest)]


def replace_scope(table: str, batch: Mapping[str, Sequence[CatalogRow]]) -> Scope | None:
    """Which existing rows this run's rows supersede, beyond equal keys.

    Segments and assets of every video with a new ``videos`` row are replaced as a
    set; failures of every input this run processed are replaced, so a file that
    now succeeds loses its old failure rows.
    """
    videos: Sequence[VideoRow] = batch.get("videos", [])  # type: ignore[assignment]
    if table in ("segments", "assets"):
        return "video_id", {v.video_id for v in videos}
    if table == "failures":
        failures: Sequence[FailureRow] = batch.get("failures", [])  # type: ignore[assignment]
        return "input_uri", {v.source_uri for v in videos} | {f.input_uri for f in failures}
    return None


def failed_inputs(batch: Mapping[str, Sequence[CatalogRow]]) -> set[str]:
    """Inputs of this run with failure rows and no ``videos`` row (the inputs that failed)."""
    videos = {v.source_uri for v in batch.get("videos", [])}  # type: ignore[attr-defined]
    return {f.input_uri for f in batch.get("failures", [])} - videos  # type: ignore[attr-defined]
