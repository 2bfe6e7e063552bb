"""The logging policy: quiet by default, everything with ``--verbose`` or ``--log_level``.

At the default level a run prints its progress line, warnings that need the user's
attention and the summary: reelbeam's per-file INFO lines and third-party chatter
(Beam, Google clients, absl, gRPC, MediaPipe, TFLite) stay out. The level travels to
the SDK workers and isolated children through the environment they inherit
(``REELBEAM_LOG_LEVEL``), set here before any of them starts; native libraries read
their own variables when they load, so those are set here too. On Dataflow the
workers keep the service's logging: real warnings and errors reach the worker logs.
"""

from __future__ import annotations

import logging
import os

from transforms.io.native_stderr import LOG_LEVEL_ENV

DEFAULT_LEVEL = "WARNING"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Python libraries that log at INFO about their own workings (hundreds of lines a run):
# WARNING and above from them unless DEBUG is asked for.
THIRD_PARTY = ("apache_beam", "google", "urllib3", "absl", "grpc", "fsspec", "matplotlib")
# Read by the native libraries when they load (gRPC core, TensorFlow/TFLite, glog).
NATIVE_QUIET_ENV = {
    "GRPC_VERBOSITY": "ERROR",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "GLOG_minloglevel": "2",
}

# Warnings every SDK worker sends about its own start-up; the local job service relays
# them into this process (with real worker warnings, which stay).
WORKER_START_NOISE = ("Discarding unparseable args", "No semi_persistent_directory")
RELAY_LOGGER = "apache_beam.runners.portability.local_job_service"


class DropWorkerStartNoise(logging.Filter):
    """Drops the SDK workers' start-up warnings relayed by the local job service."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(noise in message for noise in WORKER_START_NOISE)


def log_level(verbose: bool, level: str | None) -> str:
    """The run's level name: ``--log_level`` if given, INFO for ``--verbose``, else WARNING."""
    if level:
        return level.upper()
    return "INFO" if verbose else DEFAULT_LEVEL


def configure(level: str = DEFAULT_LEVEL) -> None:
    """Set up this process's logging and the environment its workers and children inherit.

    Args:
        level: ``DEBUG``, ``INFO``, ``WARNING`` or ``ERROR``. INFO and DEBUG show
            reelbeam's per-file lines and native libraries' chatter (DEBUG also
            third-party Python libraries' INFO lines); WARNING and above silence
            native chatter in the workers' isolated children.
    """
    level = level.upper()
    verbose = level in ("DEBUG", "INFO")
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s")
    root.setLevel(level)
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(level if level in ("DEBUG", "ERROR") else "WARNING")
    relay = logging.getLogger(RELAY_LOGGER)
    relay.filters = [f for f in relay.filters if not isinstance(f, DropWorkerStartNoise)]
    if not verbose:
        relay.addFilter(DropWorkerStartNoise())
    os.environ[LOG_LEVEL_ENV] = level
    if not verbose:
        for key, value in NATIVE_QUIET_ENV.items():
            os.environ.setdefault(key, value)
