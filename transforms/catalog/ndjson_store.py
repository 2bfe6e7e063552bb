"""The catalog on the embedded default: NDJSON tables under ``<output>/catalog/``, upserted by key.

Each table is also written as ``<table>.parquet`` beside its NDJSON, from the same rows
(``parquet_tables``), so the two always hold the same rows.

A run reads each existing table, replaces the rows it has new versions of, and
writes the whole table through the one atomic writer (``transforms.io.atomic``), so
a reader (or an interrupted run) never sees a half-written file. Rows are sorted
by key, so a rerun over the same inputs writes the same bytes apart from the
timestamps ``scanned_at``, ``indexed_at`` and ``failed_at``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence

from transforms.catalog.parquet_tables import PARQUET_MIME, parquet_bytes
from transforms.catalog.tables import replace_scope, upsert_rows
from transforms.io.atomic import write_bytes, write_text
from transforms.io.filesystems import file_systems, read_bytes
from transforms.io.uris import join_uri
from transforms.schemas import TABLES, CatalogRow

NDJSON_MIME = "application/x-ndjson"


def catalog_path(output: str, table: str) -> str:
    """``<output>/catalog/<table>.jsonl``."""
    return join_uri(output, "catalog", f"{table}.jsonl")


def parquet_path(output: str, table: str) -> str:
    """``<output>/catalog/<table>.parquet``."""
    return join_uri(output, "catalog", f"{table}.parquet")


def read_table(output: str, table: str) -> list[dict]:
    """Rows of one catalog table as dicts (``[]`` when it does not exist yet)."""
    path = catalog_path(output, table)
    if not file_systems().exists(path):
        return []
    text = read_bytes(path).decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_table_atomically(output: str, table: str, rows: Sequence[Mapping]) -> str:
    """Write rows as NDJSON and as Parquet, each atomically. Returns the NDJSON path.

    The Parquet file is written first: a run killed between the two leaves the NDJSON
    (which the next run reads and rewrites) as it was.
    """
    path = catalog_path(output, table)
    body = "".join(
        json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows
    )
    write_bytes(parquet_path(output, table), parquet_bytes(TABLES[table], rows), PARQUET_MIME)
    write_text(path, body, NDJSON_MIME)
    return path


def upsert_tables(output: str, batch: Mapping[str, Sequence[CatalogRow]]) -> dict[str, int]:
    """Upsert a run's rows (``{table: [rows]}``) into all four NDJSON tables.

    Returns:
        ``{table: rows written this run}`` in table order.
    """
    written = {}
    for table, model in TABLES.items():
        new_rows = batch.get(table, [])
        rows = upsert_rows(
            read_table(output, table), new_rows, model.KEY, replace_scope(table, batch)
        )
        path = write_table_atomically(output, table, rows)
        logging.info("wrote %s (%d rows)", path, len(rows))
        written[table] = len(new_rows)
    return written
