"""BigQuery clients for the catalog: a picklable client factory and the credentials preflight."""

from __future__ import annotations

import dataclasses

from transforms.io.credentials import credentials_problem

BIGQUERY_SCOPE = "https://www.googleapis.com/auth/bigquery"


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


def check_credentials(project: str | None, timeout_s: float = 5.0) -> str | None:
    """Preflight: are there Application Default Credentials for BigQuery?

    The lookup is ``transforms.io.credentials.credentials_problem`` (bounded by
    ``timeout_s``, never interactive), the one used for ``gs://`` too.

    Args:
        project: the project the catalog goes to (from ``--bigquery_dataset``).
        timeout_s: how long to wait for the lookup.

    Returns:
        None when credentials were found, else one line that says what to do.
    """
    if not project:
        return "BigQuery: no Google Cloud project: use --bigquery_dataset PROJECT:DATASET"
    return credentials_problem("BigQuery", [BIGQUERY_SCOPE], timeout_s)


def read_rows(client, project: str, dataset: str, table: str, columns: str = "*") -> list[dict]:
    """Rows of one catalog table as dicts (``[]`` when the table does not exist yet).

    Args:
        client: a ``google.cloud.bigquery.Client``.
        project, dataset, table: which table.
        columns: the SELECT list (``*``: every column).
    """
    from google.api_core.exceptions import NotFound

    query = f"SELECT {columns} FROM `{project}.{dataset}.{table}`"
    try:
        return [dict(row.items()) for row in client.query(query).result()]
    except NotFound:  # no such table yet: no rows
        return []
