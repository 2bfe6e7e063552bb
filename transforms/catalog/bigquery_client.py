"""BigQuery clients for the catalog: a picklable client factory and the credentials preflight."""

from __future__ import annotations

import dataclasses
import os
import threading

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
