"""Pure BigQuery catalog helpers: the dataset spec, table layout, and the upsert SQL.

Each table's upsert is one atomic ``MERGE`` on the table's KEY (NULL-safe for
nullable key columns, such as ``failures.chunk_index`` and ``failures.artifact``)
that updates matched rows, inserts the rest, and deletes the replaced scope's stale
rows (``WHEN NOT MATCHED BY SOURCE``), so no multi-statement transaction is needed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from transforms.schemas import CatalogRow, bigquery_schema

PARTITIONING: dict[str, tuple[str, str]] = {"videos": ("DAY", "indexed_at")}
"""``table -> (type, column)`` of time partitioning."""

STAGING_TTL = dt.timedelta(days=1)
"""Staging tables expire by themselves after this long, should a worker die first."""


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


def quote_table(project: str, dataset: str, table: str) -> str:
    """```project.dataset.table``` for SQL."""
    return f"`{project}.{dataset}.{table}`"


def key_condition(model: type[CatalogRow]) -> str:
    """``T`` and ``S`` rows have the same key; NULL matches NULL in nullable key columns.

    The local catalog's keys treat NULL as a value too, so both sinks keep one row
    per ``(input_uri, stage, chunk_index, artifact)`` failure.
    """
    nullable = {f["name"] for f in bigquery_schema(model) if f["mode"] == "NULLABLE"}
    return " AND ".join(
        f"(T.{c} = S.{c} OR (T.{c} IS NULL AND S.{c} IS NULL))"
        if c in nullable
        else f"T.{c} = S.{c}"
        for c in model.KEY
    )


def merge_statement(
    target: str, staging: str, model: type[CatalogRow], delete_when: str | None = None
) -> str:
    """``MERGE`` staging into target on the model's KEY: update matched, insert the rest.

    ``delete_when`` (a condition on ``T``) deletes target rows of the replaced scope
    that this run has no new version of, in the same atomic statement.
    """
    columns = list(model.model_fields)
    updates = ", ".join(f"{c} = S.{c}" for c in columns if c not in model.KEY)
    merge = (
        f"MERGE {target} T USING {staging} S ON {key_condition(model)}\n"
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


def invalid_reason(row: CatalogRow) -> str | None:
    """Why BigQuery would reject a (schema-valid) row, or None: NaN and infinite floats."""
    for name, value in row:
        if isinstance(value, float) and not math.isfinite(value):
            return f"{name} is {value}, which BigQuery cannot store"
    return None
