"""The BigQuery emulator (local-bigquery) and the ``bigquery_emulator`` session fixture."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
import shutil
from collections.abc import Iterator

import pytest

from tests.helpers.emulators.process import (
    HOST,
    REPO,
    Emulator,
    free_port,
    http_get,
    start_emulator,
)

BQ_PROJECT = "reelbeam-test"


def _bigquery_emulator_command() -> tuple[list[str], dict[str, str]] | str:
    """argv prefix and env of local-bigquery, or why it cannot run here."""
    venv = pathlib.Path(os.environ.get("BQ_VENV", REPO / ".venv-bq"))
    if not venv.is_absolute():
        venv = REPO / venv
    exe = venv / "bin" / "local-bigquery"
    env = dict(os.environ, NO_GCE_CHECK="true")
    env.pop("STORAGE_EMULATOR_HOST", None)
    if exe.exists():
        duckdb_home = venv / "duckdb-home"
        if duckdb_home.is_dir():  # DuckDB finds its extensions under $HOME/.duckdb
            env["HOME"] = str(duckdb_home)
        return [str(exe)], env
    on_path = shutil.which("local-bigquery")
    if on_path:
        return [on_path], env
    return (
        f"BigQuery emulator missing: run `scripts/emulators.sh install` (local-bigquery in "
        f"{venv.name}; needs Python 3.13, e.g. from pyenv)"
    )


@dataclasses.dataclass
class BigQueryEmulator:
    """The BigQuery emulator as the tests see it."""

    server: Emulator
    grpc_port: int
    project: str = BQ_PROJECT

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``: the client's ``client_options={"api_endpoint": ...}``."""
        return self.server.url

    def client_factory(self):
        """A picklable ``factory(project) -> bigquery.Client`` for ``WriteCatalogToBigQuery``."""
        from transforms.catalog.bigquery_client import BigQueryClientFactory

        return BigQueryClientFactory(api_endpoint=self.endpoint, anonymous=True)

    def client(self):
        """A google-cloud-bigquery client on the emulator (anonymous)."""
        return self.client_factory()(self.project)

    def new_dataset(self, prefix: str = "test") -> str:
        """A new, empty dataset; returns ``PROJECT:DATASET``."""
        name = f"{prefix}_{hashlib.sha1(os.urandom(8)).hexdigest()[:10]}"
        self.client().create_dataset(f"{self.project}.{name}")
        return f"{self.project}:{name}"


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory) -> Iterator[BigQueryEmulator]:
    """local-bigquery on 127.0.0.1 (REST and Storage gRPC), one per test session."""
    found = _bigquery_emulator_command()
    if isinstance(found, str):
        pytest.skip(found)
    command, env = found
    port, grpc_port = free_port(), free_port()
    data_dir = tmp_path_factory.mktemp("bigquery-emulator")

    def ready(emulator: Emulator) -> str | None:
        status, body = http_get(f"{emulator.url}/bigquery/v2/projects/{BQ_PROJECT}/datasets")
        if status == 200:
            return None
        if "extension" in body and ("download" in body or "autoload" in body):
            pytest.skip(
                "BigQuery emulator lacks DuckDB extensions (DuckDB would download them): "
                f"run `scripts/emulators.sh install`: {body[:300]}"
            )
        return f"HTTP {status}: {body[:200]}"

    server = start_emulator(
        "bigquery",
        [
            *command,
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--grpc-port",
            str(grpc_port),
            "--project",
            BQ_PROJECT,
            "--data-dir",
            str(data_dir / "data"),
        ],
        port=port,
        ready=ready,
        log_dir=data_dir,
        env=env,
    )
    try:
        yield BigQueryEmulator(server, grpc_port)
    finally:
        server.stop()
