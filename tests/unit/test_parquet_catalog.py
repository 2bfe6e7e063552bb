"""The Parquet catalog: typed from the row models, and row for row the NDJSON's rows."""

from __future__ import annotations

import datetime as dt
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.helpers.catalog_rows import first_run, video
from transforms.catalog.ndjson_store import catalog_path, parquet_path, upsert_tables
from transforms.catalog.parquet_tables import arrow_schema, parquet_bytes
from transforms.catalog.tables import group_tables
from transforms.schemas import TABLES, bigquery_schema

_ARROW_FOR_BQ = {
    "STRING": pa.string(),
    "INTEGER": pa.int64(),
    "FLOAT": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}


@pytest.mark.parametrize("table", list(TABLES))
def test_parquet_schema_follows_the_model_and_the_bigquery_schema(table):
    model = TABLES[table]
    schema = arrow_schema(model)
    assert schema.names == list(model.model_fields)
    for bq in bigquery_schema(model):
        field = schema.field(bq["name"])
        if bq["type"] == "JSON":  # a dict field: a map in Parquet, JSON in BigQuery
            assert pa.types.is_map(field.type)
            continue
        assert field.type == _ARROW_FOR_BQ[bq["type"]], bq["name"]
        assert field.nullable == (bq["mode"] == "NULLABLE"), bq["name"]
        assert field.metadata[b"description"].decode() == bq["description"]


def test_path_fields_is_a_string_map_and_times_are_utc_timestamps():
    schema = arrow_schema(TABLES["videos"])
    assert schema.field("path_fields").type == pa.map_(pa.string(), pa.string())
    assert schema.field("indexed_at").type == pa.timestamp("us", tz="UTC")
    assert not schema.field("indexed_at").nullable and schema.field("source_mtime").nullable


def _as_ndjson(row: dict, schema: pa.Schema) -> dict:
    """A row read from Parquet, in the NDJSON's JSON form."""
    out = {}
    for name, value in row.items():
        arrow_type = schema.field(name).type
        if value is not None and pa.types.is_timestamp(arrow_type):
            value = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        elif value is not None and pa.types.is_map(arrow_type):
            value = dict(value)
        out[name] = value
    return out


def test_parquet_tables_load_in_pyarrow_and_match_the_ndjson_row_for_row(tmp_path):
    out = str(tmp_path)
    upsert_tables(out, group_tables(first_run()))
    upsert_tables(out, group_tables([video("c", path_fields={})]))
    for table, model in TABLES.items():
        ndjson = [
            json.loads(line)
            for line in pathlib.Path(catalog_path(out, table)).read_text().splitlines()
        ]
        parquet = pq.read_table(parquet_path(out, table))
        assert parquet.schema.equals(arrow_schema(model), check_metadata=False)
        rows = [_as_ndjson(r, parquet.schema) for r in parquet.to_pylist()]
        assert rows == ndjson, table
        assert len(rows) == {"videos": 3, "segments": 4, "assets": 3, "failures": 2}[table]


def test_rows_without_newer_columns_are_null_and_bytes_are_deterministic():
    model = TABLES["failures"]
    row = json.loads(first_run()[-1].to_json())
    del row["artifact"]  # written before the column existed
    table = pq.read_table(pa.BufferReader(parquet_bytes(model, [row])))
    assert table.column("artifact").to_pylist() == [None]
    assert parquet_bytes(model, [row]) == parquet_bytes(model, [row])
