"""Progress: Beam counters (visible on Dataflow) mirrored to a local file a terminal can show.

``report(name, n)`` increments the counter ``reelbeam/<name>``. When the launcher
runs interactively on this machine it sets ``REELBEAM_PROGRESS_FILE``; workers (also
DirectRunner's worker processes, which inherit it) then append one short line per
event, and the launcher draws a status line from the totals.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter

import apache_beam as beam

PROGRESS_ENV = "REELBEAM_PROGRESS_FILE"
_lock = threading.Lock()


def report(name: str, n: int = 1) -> None:
    """Count ``n`` more of ``name`` (a counter, and the local progress file when enabled)."""
    if n <= 0:
        return
    beam.metrics.Metrics.counter("reelbeam", name).inc(n)
    path = os.environ.get(PROGRESS_ENV)
    if path:
        line = json.dumps({"n": name, "v": n}) + "\n"
        with _lock, open(path, "a", encoding="utf-8") as handle:
            handle.write(line)  # one short append: atomic between processes on POSIX


def read_totals(path: str) -> Counter:
    """Totals so far from a progress file (missing file: nothing yet)."""
    totals: Counter = Counter()
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a line still being written
                totals[event["n"]] += event["v"]
    except FileNotFoundError:
        pass
    return totals


def status_line(totals: Counter) -> str:
    """``found 12 · probed 12 · chunks 40/120 · encoded 300/900 s · failed 1``."""
    parts = [f"found {totals['files_found']}", f"probed {totals['files_probed']}"]
    chunks_done = totals["chunks_analysed"] + totals["chunks_failed"]
    parts.append(f"chunks {chunks_done}/{totals['chunks_total']}")
    parts.append(f"encoded {totals['seconds_encoded']}/{totals['seconds_to_encode']} s")
    failed = totals["probe_failures"] + totals["chunks_failed"]
    if failed:
        parts.append(f"failed {failed}")
    return "reelbeam: " + " · ".join(parts)


class _ClearLineFormatter(logging.Formatter):
    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self._inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return "\r\x1b[2K" + self._inner.format(record)


class ProgressDisplay:
    """Redraws the status line on a terminal until stopped."""

    def __init__(self, path: str, stream, interval_s: float = 0.5):
        self._path = path
        self._stream = stream
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="reelbeam-progress", daemon=True)

    def __enter__(self) -> ProgressDisplay:
        # Log lines first clear the status line, which is redrawn below them.
        self._formatters = []
        for handler in logging.getLogger().handlers:
            self._formatters.append((handler, handler.formatter))
            handler.setFormatter(_ClearLineFormatter(handler.formatter))
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        for handler, formatter in self._formatters:
            handler.setFormatter(formatter)
        self._stop.set()
        self._thread.join(timeout=2)
        self._draw()
        self._stream.write("\n")
        self._stream.flush()

    def _draw(self) -> None:
        self._stream.write("\r\x1b[2K" + status_line(read_totals(self._path)))
        self._stream.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._draw()
