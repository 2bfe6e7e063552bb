"""Headless Chromium for page tests: find or install it, start it, drive it over DevTools."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import time
from collections.abc import Iterator

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The Chromium binary, installing Debian's package with scripts/apt_install.sh."""
    env = os.environ.get("CHROMIUM")
    for candidate in ((env,) if env else ()) + CHROMIUM_CANDIDATES:
        path = shutil.which(candidate) if candidate else None
        if path:
            return path
    script = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "apt_install.sh"
    if script.is_file() and shutil.which("apt-get"):
        command = ["bash", str(script), "chromium", "chromium"]
        subprocess.run(command, check=False, timeout=600, capture_output=True)
        return shutil.which("chromium")
    return None


class DevTools:
    """A minimal Chrome DevTools Protocol client over the browser's websocket."""

    def __init__(self, websocket, version: str = ""):
        self._ws = websocket
        self._next = 0
        self.events: list[dict] = []
        self.version = version

    def _recv(self, deadline: float) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer from Chromium")
        return json.loads(self._ws.recv(timeout=remaining))

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout=20):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            data = self._recv(deadline)
            if data.get("id") == self._next:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
            if "method" in data:
                self.events.append(data)

    def wait_for(self, method: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["method"] == method:
                    self.events.remove(event)
                    return event
            data = self._recv(deadline)
            if "method" in data:
                self.events.append(data)

    def evaluate(self, session: str, expression: str, await_promise: bool = False):
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
            session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")


def console_errors(events: list[dict]) -> list[str]:
    errors = []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append("console: " + " ".join(str(a.get("value")) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            errors.append("exception: " + str(details.get("exception", {}).get("description")))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            errors.append(f"log: {entry.get('text')} {entry.get('url', '')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            errors.append(f"network: {params.get('errorText')} ({params.get('type')})")
    return errors


class ChromiumDidNotStart(RuntimeError):
    """Chromium exited or did not open its DevTools endpoint in time (message: its log tail)."""


@contextlib.contextmanager
def headless_chromium(binary: str, workdir: pathlib.Path) -> Iterator[DevTools]:
    """A headless Chromium with remote debugging on a free port; yields a DevTools client.

    Args:
        binary: the Chromium executable (:func:`find_chromium`).
        workdir: a fresh folder for the profile and the browser's log.

    Raises:
        ChromiumDidNotStart: with the tail of the browser's log.
    """
    profile = workdir / "chromium-profile"
    profile.mkdir()
    log = open(workdir / "chromium.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--mute-audio",
            "--hide-scrollbars",
            "--autoplay-policy=no-user-gesture-required",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            tail = (workdir / "chromium.log").read_text(errors="replace")[-2000:]
            raise ChromiumDidNotStart(f"Chromium did not start its DevTools endpoint:\n{tail}")
        time.sleep(0.05)
    port, path = port_file.read_text().splitlines()[:2]
    from websockets.sync.client import connect

    try:
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=10) as ws:
            client = DevTools(ws)
            client.version = client.call("Browser.getVersion")["product"]
            yield client
            with contextlib.suppress(Exception):
                client.call("Browser.close", timeout=5)
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
