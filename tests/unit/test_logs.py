"""The quiet logging policy and the filter that keeps native chatter out of stderr."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from pipelines import logs
from transforms.io.native_stderr import LOG_LEVEL_ENV, is_chatter

CHATTER = [
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    b"WARNING: Logging before InitGoogle() is written to STDERR",
    b"W0000 00:00:1796188331.611175     814 inference_feedback_manager.cc:121] Feedback "
    b"manager requires a model with a single signature inference.",
    b"I1202 05:12:09.385000  12 gl_context.cc:357] GL version: 3.2",
]
KEPT = [
    b"E0000 00:00:1796188331.611175     814 calculator_graph.cc:887] model failed",
    b"F0000 00:00:1.0 1 check.cc:1] Check failed",
    b"Traceback (most recent call last):",
    b"reelbeam: 4 videos catalogued",
]


@pytest.mark.parametrize("line", CHATTER)
def test_native_chatter_is_recognised(line):
    assert is_chatter(line)


@pytest.mark.parametrize("line", KEPT)
def test_native_errors_and_other_lines_are_kept(line):
    assert not is_chatter(line)


@pytest.mark.parametrize(
    ("verbose", "level", "expected"),
    [
        (False, None, "WARNING"),
        (True, None, "INFO"),
        (False, "debug", "DEBUG"),
        (True, "ERROR", "ERROR"),
    ],
)
def test_log_level(verbose, level, expected):
    assert logs.log_level(verbose, level) == expected


@pytest.fixture
def restore_logging(monkeypatch):
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *logs.THIRD_PARTY)}
    for key in (LOG_LEVEL_ENV, *logs.NATIVE_QUIET_ENV):
        monkeypatch.delenv(key, raising=False)
    yield
    for name, level in levels.items():
        (logging.getLogger(name) if name else root).setLevel(level)


def test_quiet_by_default(restore_logging):
    logs.configure()
    assert logging.getLogger().level == logging.WARNING
    assert logging.getLogger("apache_beam").level == logging.WARNING
    assert os.environ[LOG_LEVEL_ENV] == "WARNING"
    assert os.environ["GRPC_VERBOSITY"] == "ERROR"


def test_verbose_shows_reelbeam_info_and_leaves_native_levels(restore_logging):
    logs.configure("INFO")
    assert logging.getLogger().level == logging.INFO
    assert os.environ[LOG_LEVEL_ENV] == "INFO"
    assert "GRPC_VERBOSITY" not in os.environ


CHILD = """
import os, sys
from transforms.io.native_stderr import filter_native_stderr
filter_native_stderr()
for line in {lines!r}:
    os.write(2, line + b"\\n")
print("python stderr", file=sys.stderr, flush=True)
import time; time.sleep(0.3)
"""


@pytest.mark.parametrize("level", ["WARNING", "INFO"])
def test_filter_drops_chatter_written_to_fd_2(level):
    env = {**os.environ, LOG_LEVEL_ENV: level}
    code = CHILD.format(lines=CHATTER + KEPT)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=env, timeout=60, check=True
    )
    err = proc.stderr.splitlines()
    assert b"python stderr" in err
    assert all(line in err for line in KEPT)
    if level == "WARNING":
        assert not any(line in err for line in CHATTER)
    else:  # verbose: nothing is filtered
        assert all(line in err for line in CHATTER)


def test_worker_start_noise_is_dropped_and_real_worker_warnings_kept(restore_logging):
    logs.configure()
    relay = logging.getLogger(logs.RELAY_LOGGER)

    def shown(message: str) -> bool:
        record = relay.makeRecord(relay.name, logging.WARNING, "x", 1, message, (), None)
        return relay.filter(record)

    assert not shown('Worker: message: "Discarding unparseable args: [...]"')
    assert not shown('Worker: message: "No semi_persistent_directory found"')
    assert shown('Worker: message: "detect failed (chunk 3): /a.mp4: CorruptMediaError"')
    logs.configure("INFO")
    assert shown('Worker: message: "Discarding unparseable args: [...]"')
