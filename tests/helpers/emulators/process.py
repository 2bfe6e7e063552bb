"""Emulator processes: start one on a free port of 127.0.0.1, wait until it serves, stop it."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout_s: float = 2.0) -> tuple[int, str]:
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


def quiet_google_auth(monkeypatch: pytest.MonkeyPatch) -> None:
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
