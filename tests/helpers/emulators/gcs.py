"""The GCS emulator (gcp-storage-emulator) and the ``gcs_emulator`` session fixture."""

from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
import sys
from collections.abc import Iterator

import pytest

from tests.helpers.emulators.process import (
    HOST,
    Emulator,
    free_port,
    http_get,
    quiet_google_auth,
    start_emulator,
    use_anonymous_beam_credentials,
)


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


def start_gcs(log_dir: pathlib.Path) -> Emulator:
    """Start gcp-storage-emulator (in memory) on a free port and wait until it answers."""
    port = free_port()

    def ready(emulator: Emulator) -> str | None:
        status, body = http_get(f"{emulator.url}/storage/v1/b?project=x")
        return None if status == 200 else f"HTTP {status}: {body[:200]}"

    return start_emulator(
        "gcs",
        [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", HOST,
         "--port", str(port), "--in-memory", "--quiet"],
        port=port,
        ready=ready,
        log_dir=log_dir,
    )  # fmt: skip


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory) -> Iterator[GcsEmulator]:
    """The GCS emulator; Beam ``FileSystems`` on ``gs://`` point at it until the session ends."""
    if importlib.util.find_spec("gcp_storage_emulator") is None:
        pytest.skip(
            "GCS emulator missing: pip install gcp-storage-emulator (in the dev extra) "
            f"into {sys.prefix}"
        )
    server = start_gcs(tmp_path_factory.mktemp("gcs-emulator"))
    try:
        with pytest.MonkeyPatch.context() as mp:
            quiet_google_auth(mp)
            mp.setenv("STORAGE_EMULATOR_HOST", server.url)
            use_anonymous_beam_credentials(mp)
            yield GcsEmulator(server)
    finally:
        server.stop()
