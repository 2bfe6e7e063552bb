"""The Pub/Sub emulator of the Google Cloud CLI and the ``pubsub_emulator`` session fixture."""

from __future__ import annotations

import os
import pathlib
import shutil
from collections.abc import Iterator

import pytest

from tests.helpers.emulators.process import (
    HOST,
    Emulator,
    free_port,
    http_get,
    quiet_google_auth,
    start_emulator,
)


def _pubsub_emulator_dir() -> pathlib.Path | None:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    sdk = pathlib.Path(os.path.realpath(gcloud)).parents[1]
    path = sdk / "platform" / "pubsub-emulator"
    return path if path.is_dir() else None


def start_pubsub(data_dir: pathlib.Path) -> Emulator:
    """Start the gcloud Pub/Sub emulator on a free port and wait until it answers."""
    port = free_port()

    def ready(emulator: Emulator) -> str | None:
        status, body = http_get(emulator.url + "/")
        return None if status == 200 else f"HTTP {status}: {body[:200]}"

    env = dict(os.environ, CLOUDSDK_CORE_DISABLE_PROMPTS="1", NO_GCE_CHECK="true")
    return start_emulator(
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
    server = start_pubsub(tmp_path_factory.mktemp("pubsub-emulator"))
    try:
        with pytest.MonkeyPatch.context() as mp:
            quiet_google_auth(mp)
            mp.setenv("PUBSUB_EMULATOR_HOST", server.host)
            yield server.host
    finally:
        server.stop()
