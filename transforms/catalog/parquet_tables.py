"""The catalog as Parquet: each table's Arrow schema from its row model, and its file bytes.

``catalog/<table>.parquet`` is written beside ``catalog/<table>.jsonl`` from the same
rows, typed from the same pydantic models as the BigQuery schemas: timestamps are
``timestamp[us, UTC]``, ``dict`` fields (``path_fields``, and any per-kind counts) are
Arrow maps, required fields are non-nullable. pyarrow, pandas, DuckDB and BigQuery
external tables read the files as they are. Pure: no Beam, no IO.
"""

from __future__ import annotations

import datetime as dt
import io
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.schemas import CatalogRow

PARQUET_MIME = "application/vnd.apache.parquet"

_SCALARS: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    dt.datetime: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(annotation: Any) -> tuple[pa.DataType, bool]:
    """``(Arrow type, nullable)`` of one model field's annotation."""
    nullable = False
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        nullable = True
        (annotation,) = [a for a in args if a is not type(None)]
    if typing.get_origin(annotation) is dict:
        key, value = typing.get_args(annotation)
        return pa.map_(_SCALARS[key], _SCALARS[value]), nullable
    return _SCALARS[annotation], nullable


def arrow_schema(model: type[CatalogRow]) -> pa.Schema:
    """The Arrow schema of one table, field for field from its row model (with descriptions)."""
    fields = []
    for name, info in model.model_fields.items():
        arrow_type, nullable = _arrow_type(info.annotation)
        metadata = {"description": info.description or ""}
        fields.append(pa.field(name, arrow_type, nullable=nullable, metadata=metadata))
    return pa.schema(fields, metadata={"table": model.TABLE, "key": ",".join(model.KEY)})


def _value(value: Any, arrow_type: pa.DataType) -> Any:
    """A value of a row read back from NDJSON as the Arrow type wants it."""
    if value is None:
        return None
    if pa.types.is_timestamp(arrow_type) and isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if pa.types.is_map(arrow_type):
        return sorted(dict(value).items())
    return value


def arrow_table(model: type[CatalogRow], rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts as stored in NDJSON, or as ``model_dump(mode="json")`` gives) as a table.

    Columns missing from a row (rows written before the column existed) are null.
    """
    schema = arrow_schema(model)
    rows = list(rows)
    columns = [
        pa.array([_value(row.get(f.name), f.type) for row in rows], type=f.type) for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def parquet_bytes(model: type[CatalogRow], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """One table as the bytes of a Parquet file (zstd, deterministic for the same rows)."""
    sink = io.BytesIO()
    pq.write_table(arrow_table(model, rows), sink, compression="zstd")
    return sink.getvalue()
