"""``--retry_failures``: which inputs of earlier failure rows to run again.

Rows refused for trust reasons (an input outside the allowed roots) are never
retried: retrying would turn a refusal into a catalogued file. The failure rows
are read from where the run writes them: BigQuery with ``--bigquery_dataset``,
else the local NDJSON catalog.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.run_config import SinkConfig
from transforms.catalog.ndjson_store import read_table
from transforms.errors import trust_error_types


def retryable_inputs(rows: Iterable[dict]) -> list[str]:
    """Distinct ``input_uri`` of the failure rows that may be retried, sorted."""
    refused = trust_error_types()
    return sorted({r["input_uri"] for r in rows if r.get("error_type") not in refused})


def failure_rows(sink: SinkConfig) -> list[dict]:
    """The ``input_uri`` and ``error_type`` of every failure row in the run's catalog."""
    if not sink.bigquery_dataset:
        return read_table(sink.output, "failures")
    from transforms.catalog.bigquery_client import BigQueryClientFactory, read_rows
    from transforms.catalog.bigquery_sql import parse_dataset

    project, dataset = parse_dataset(sink.bigquery_dataset)
    client = BigQueryClientFactory(
        api_endpoint=sink.bigquery_endpoint, anonymous=sink.bigquery_anonymous
    )(project)
    return read_rows(client, project, dataset, "failures", "input_uri, error_type")


def failed_inputs(sink: SinkConfig) -> list[str]:
    """The inputs ``--retry_failures`` runs again."""
    return retryable_inputs(failure_rows(sink))
