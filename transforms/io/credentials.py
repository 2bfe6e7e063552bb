"""Cloud credentials as reelbeam needs them: none at all for the local emulators."""

from __future__ import annotations

import os


def use_emulator_credentials() -> None:
    """With ``STORAGE_EMULATOR_HOST`` set, talk to the GCS emulator without credentials.

    google-cloud-storage does the same for emulators; without this Beam first spends
    about 25 s retrying to find cloud credentials that an emulator does not need.
    Beam has no public switch for this, so this small adapter sets the cached
    credentials of ``apache_beam.internal.gcp.auth`` to "none" (its private state):
    the one place reelbeam touches Beam internals for it.
    """
    if not os.environ.get("STORAGE_EMULATOR_HOST"):
        return
    from apache_beam.internal.gcp import auth

    auth._Credentials._credentials_init = True
    auth._Credentials._credentials = None


CLOUD_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_HINT = (
    "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
    "to a service account key file"
)


def credentials_problem(service: str, scopes: list[str], timeout_s: float = 5.0) -> str | None:
    """Preflight: are there Application Default Credentials? One line naming the fix, or None.

    Never logs in interactively and never waits longer than ``timeout_s``: where
    ``NO_GCE_CHECK`` is unset, google-auth asks the GCE metadata server, which off
    Google Cloud may take longer than that; the lookup then runs on in a daemon thread.

    Args:
        service: what needs them, for the message (``BigQuery``, ``gs://``).
        scopes: OAuth scopes to ask for.
        timeout_s: how long to wait for the lookup.
    """
    import threading

    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if path and not os.path.isfile(path):
        return f"{service}: GOOGLE_APPLICATION_CREDENTIALS={path} does not exist; {_HINT}"
    outcome: dict = {}

    def lookup() -> None:
        try:
            import google.auth

            outcome["found"] = google.auth.default(scopes=scopes)
        except Exception as exc:  # DefaultCredentialsError, a bad key file, ...
            outcome["error"] = exc

    thread = threading.Thread(target=lookup, name="check-credentials", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        return (
            f"{service}: no Application Default Credentials found within {timeout_s:g} s "
            f"(the GCE metadata server did not answer); {_HINT}"
        )
    if "error" in outcome:
        first = " ".join(str(outcome["error"]).split()).split(". ")[0]
        return f"{service}: no usable Application Default Credentials ({first}); {_HINT}"
    return None


def gcs_credentials_problem(uris: list[str], timeout_s: float = 5.0) -> str | None:
    """For ``gs://`` inputs or outputs: one line when there are no credentials, else None.

    Against the storage emulator (``STORAGE_EMULATOR_HOST``) none are needed.
    """
    if not any(u.startswith("gs://") for u in uris) or os.environ.get("STORAGE_EMULATOR_HOST"):
        return None
    return credentials_problem("gs://", [CLOUD_SCOPE], timeout_s)
