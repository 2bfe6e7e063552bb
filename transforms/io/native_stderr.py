"""Native libraries' chatter on file descriptor 2, filtered in the processes that load them.

MediaPipe, TFLite and absl print from C++ straight into fd 2 ("Feedback manager
requires a model with a single signature inference", "Created TensorFlow Lite
XNNPACK delegate"). absl's log ignores ``GLOG_minloglevel`` and Python's logging
never sees these lines, so the only place to stop them is the descriptor itself.
``filter_native_stderr()`` points fd 2 at a pipe whose reader forwards every line
except info and warning chatter (``I``/``W`` absl lines, TFLite's ``INFO:``);
Python's own ``sys.stderr`` keeps the original descriptor, so tracebacks and
logging are untouched and native errors (``E``/``F`` lines) still reach the
worker's log.

Pure: no Beam.
"""

from __future__ import annotations

import os
import re
import sys
import threading

LOG_LEVEL_ENV = "REELBEAM_LOG_LEVEL"
"""The launcher's log level, inherited by workers and isolated children (``pipelines.logs``)."""

# absl/glog prefixes (I0000 00:00:..., W1202 ...) and TFLite's minimal logger.
_CHATTER = re.compile(
    rb"^([IW]\d{4} |INFO: |WARNING: Logging before InitGoogle\(\)|WARNING: All log messages before)"
)
_installed = False


def is_chatter(line: bytes) -> bool:
    """Whether a native stderr line is info or warning chatter (not an error)."""
    return bool(_CHATTER.match(line))


def verbose_logging() -> bool:
    """True when the run asked for everything (``--verbose`` or ``--log_level`` INFO/DEBUG)."""
    return os.environ.get(LOG_LEVEL_ENV, "").upper() in ("DEBUG", "INFO")


def filter_native_stderr() -> bool:
    """Filter this process's fd 2 (once; not when verbose); returns whether it is filtered."""
    global _installed
    if _installed or verbose_logging():
        return _installed
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    # Python's stderr keeps writing to the real descriptor, unfiltered.
    sys.stderr = os.fdopen(os.dup(original), "w", buffering=1, encoding="utf-8", errors="replace")
    thread = threading.Thread(
        target=_forward, args=(read_end, original), name="reelbeam-stderr", daemon=True
    )
    thread.start()
    _installed = True
    return True


def _forward(read_end: int, original: int) -> None:
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        pending = b""
        while True:
            data = pipe.read(65536)
            if not data:
                break
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not is_chatter(line):
                    os.write(original, line + b"\n")
        if pending and not is_chatter(pending):
            os.write(original, pending)
