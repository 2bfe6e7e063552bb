"""Local Google Cloud emulators for the integration tests: GCS, Pub/Sub and BigQuery.

Each emulator is a subprocess on a free port of 127.0.0.1, started once per test
session and stopped at its end. A fixture that cannot start its emulator (package,
binary or Python missing) skips the tests that use it, with the reason and the fix.

Use them by importing the fixtures into a test module::

    from tests.emulators import gcs_emulator  # noqa: F401  (a pytest fixture)

    @pytest.mark.integration
    def test_x(gcs_emulator):
        bucket = gcs_emulator.create_bucket("media")
        ...FileSystems.open("gs://media/...")

All three are session-scoped: the first test that asks starts the emulator, and the
environment they set stays until the session ends.

* ``gcs_emulator``: gcp-storage-emulator (pure Python; has the rewrite API that
  ``FileSystems.rename`` uses). ``STORAGE_EMULATOR_HOST`` points google-cloud-storage, and
  Beam's GCS IO built on it, at the emulator, and Beam's cached credentials are made
  anonymous, so ``FileSystems.match/open/create/rename/delete`` on ``gs://`` work in this
  process and in an in-process ``DirectRunner`` pipeline. Buckets: ``create_bucket``.
* ``pubsub_emulator``: the official emulator of the Google Cloud CLI (Java); yields
  ``host:port`` and sets ``PUBSUB_EMULATOR_HOST`` (google-cloud-pubsub and Beam's
  ``ReadFromPubSub`` honour it).
* ``bigquery_emulator``: local-bigquery (DuckDB) from ``.venv-bq``
  (``scripts/emulators.sh install``: it needs Python 3.13); yields the endpoint, a
  picklable ``client_factory()`` for ``WriteCatalogToBigQuery`` and ``new_dataset()``.

Pitfalls these fixtures take care of:

* Without ``NO_GCE_CHECK=true`` google-auth probes the GCE metadata server (seconds).
* Beam caches credentials once per process (``apache_beam.internal.gcp.auth._Credentials``)
  and, when none exist, first retries ``google.auth.default()`` with backoff for about
  25 s before falling back to anonymous. Its GCS IO makes a new ``storage.Client`` for
  every call (nothing else to reset), so the env var and that cache are all it takes.
* Workers of ``--direct_running_mode=multi_processing`` are new processes: they inherit
  the env vars but not the credentials cache, so each pays the 25 s once. Use the
  in-process DirectRunner with the GCS emulator.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
BQ_PROJECT = "reelbeam-test"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _http_get(url: str, timeout_s: float = 2.0) -> tuple[int, str]:
    """``(status, body)`` of a GET; ``(0, error)`` when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        return 0, str(exc)


@dataclasses.dataclass
class Emulator:
    """A running emulator process (its own process group) and where it listens."""

    name: str
    process: subprocess.Popen
    port: int
    log_path: pathlib.Path

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}"

    def log_tail(self, lines: int = 15) -> str:
        """The last lines the emulator printed (for skip and failure messages)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the emulator and every process it started (its process group)."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout_s)


def start_emulator(
    name: str,
    command: list[str],
    *,
    port: int,
    ready: Callable[[Emulator], str | None],
    log_dir: pathlib.Path,
    env: dict[str, str] | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> Emulator:
    """Start ``command`` in its own process group and wait until ``ready`` says so.

    Args:
        name: for messages.
        command: the argv; it must listen on ``port``.
        port: where it listens.
        ready: returns None when the emulator serves, else why not yet; raising
            ``pytest.skip.Exception`` gives up at once.
        log_dir: stdout and stderr go to ``<log_dir>/<name>.log``.
        env: the process environment (this one's if None).
        timeout_s: how long to wait before skipping.

    Raises:
        pytest.skip.Exception: the emulator exited or did not get ready in time.
    """
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    emulator = Emulator(name, process, port, log_path)
    deadline = time.monotonic() + timeout_s
    why = "it did not answer"
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.skip(
                    f"{name} emulator exited with {process.returncode} at start:\n"
                    f"{emulator.log_tail()}"
                )
            why = ready(emulator)
            if why is None:
                return emulator
            time.sleep(0.1)
    except BaseException:
        emulator.stop()
        raise
    emulator.stop()
    pytest.skip(
        f"{name} emulator not ready after {timeout_s:.0f} s ({why}):\n{emulator.log_tail()}"
    )


def _quiet_google_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GCE metadata server probes (each costs seconds) in this process and its children."""
    monkeypatch.setenv("NO_GCE_CHECK", "true")


def use_anonymous_beam_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make Beam's process-wide credentials cache say "anonymous" (undone with monkeypatch).

    Beam resolves credentials once per process and, when there are none, spends about
    25 s in retries first; with this its GCS IO uses ``storage.Client.create_anonymous_client()``
    at once, which honours ``STORAGE_EMULATOR_HOST``.
    """
    from apache_beam.internal.gcp import auth

    monkeypatch.setattr(auth._Credentials, "_credentials_init", True)
    monkeypatch.setattr(auth._Credentials, "_credentials", None)


# --------------------------------------------------------------------------- GCS


@dataclasses.dataclass
class GcsEmulator:
    """The GCS emulator as the tests see it."""

    server: Emulator
    project: str = "reelbeam-test"

    @property
    def url(self) -> str:
        """What ``STORAGE_EMULATOR_HOST`` is set to."""
        return self.server.url

    def client(self):
        """A google-cloud-storage client on the emulator (anonymous)."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.url},
        )

    def create_bucket(self, name: str):
        """A bucket (created if missing)."""
        client = self.client()
        bucket = client.lookup_bucket(name)
        return bucket if bucket is not None else client.create_bucket(name)

    def upload(self, bucket: str, name: str, source: pathlib.Path | bytes) -> str:
        """Upload a local file or bytes; returns the ``gs://`` URI."""
        blob = self.create_bucket(bucket).blob(name)
        if isinstance(source, bytes):
            blob.upload_from_string(source)
        else:
            blob.upload_from_filename(str(source))
        return f"gs://{bucket}/{name}"

    def md5_hex(self, uri: str) -> str:
        """The hex MD5 the emulator stores for an object (GCS keeps it base64)."""
        import base64

        bucket, _, name = uri.removeprefix("gs://").partition("/")
        blob = self.client().bucket(bucket).get_blob(name)
        if blob is None:
            raise FileNotFoundError(uri)
        return base64.b64decode(blob.md5_hash).hex()


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory) -> Iterator[GcsEmulator]:
    """The GCS emulator; Beam ``FileSystems`` on ``gs://`` point at it until the session ends."""
    if importlib.util.find_spec("gcp_storage_emulator") is None:
        pytest.skip(
            "GCS emulator missing: pip install gcp-storage-emulator (in the dev extra) "
            f"into {sys.prefix}"
        )
    port = free_port()

    def ready(emulator: Emulator) -> str | None:
        status, body = _http_get(f"{emulator.url}/storage/v1/b?project=x")
        return None if status == 200 else f"HTTP {status}: {body[:200]}"

    server = start_emulator(
        "gcs",
        [
            sys.executable,
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            HOST,
            "--port",
            str(port),
            "--in-memory",
            "--quiet",
        ],
        port=port,
        ready=ready,
        log_dir=tmp_path_factory.mktemp("gcs-emulator"),
    )
    try:
        with pytest.MonkeyPatch.context() as mp:
            _quiet_google_auth(mp)
            mp.setenv("STORAGE_EMULATOR_HOST", server.url)
            use_anonymous_beam_credentials(mp)
            yield GcsEmulator(server)
    finally:
        server.stop()


# ----------------------------------------------------------------------- Pub/Sub


def _pubsub_emulator_dir() -> pathlib.Path | None:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    sdk = pathlib.Path(os.path.realpath(gcloud)).parents[1]
    path = sdk / "platform" / "pubsub-emulator"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory) -> Iterator[str]:
    """``127.0.0.1:PORT`` of the Pub/Sub emulator; ``PUBSUB_EMULATOR_HOST`` is set to it."""
    if shutil.which("gcloud") is None:
        pytest.skip("Pub/Sub emulator missing: the Google Cloud CLI (gcloud) is not installed")
    if _pubsub_emulator_dir() is None:
        pytest.skip(
            "Pub/Sub emulator missing: gcloud components install pubsub-emulator "
            "(or apt-get install google-cloud-cli-pubsub-emulator)"
        )
    if shutil.which("java") is None:
        pytest.skip("Pub/Sub emulator needs Java (11 or newer) on PATH")
    port = free_port()
    data_dir = tmp_path_factory.mktemp("pubsub-emulator")

    def ready(emulator: Emulator) -> str | None:
        status, body = _http_get(emulator.url + "/")
        return None if status == 200 else f"HTTP {status}: {body[:200]}"

    env = dict(os.environ, CLOUDSDK_CORE_DISABLE_PROMPTS="1", NO_GCE_CHECK="true")
    server = start_emulator(
        "pubsub",
        [
            "gcloud",
            "beta",
            "emulators",
            "pubsub",
            "start",
            f"--host-port={HOST}:{port}",
            f"--data-dir={data_dir}",
            "--quiet",
        ],
        port=port,
        ready=ready,
        log_dir=data_dir,
        env=env,
    )
    try:
        with pytest.MonkeyPatch.context() as mp:
            _quiet_google_auth(mp)
            mp.setenv("PUBSUB_EMULATOR_HOST", server.host)
            yield server.host
    finally:
        server.stop()


# ---------------------------------------------------------------------- BigQuery


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
        status, body = _http_get(f"{emulator.url}/bigquery/v2/projects/{BQ_PROJECT}/datasets")
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
