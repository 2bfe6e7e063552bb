"""Running untrusted decoding in a child process, so a crash or a hang is a failure row.

A decoder that segfaults on a hostile file would take the Beam worker down with
it and the runner would retry the bundle forever (a crash loop); one that spins
would stall the stage. ``IsolatedWorker`` runs calls in a long-lived child
process (started once per DoFn instance, keeping its own state such as a loaded
pose model): a call that outlives its timeout gets the child killed and raises
``DecodeTimeoutError``; a child that dies raises ``DecoderCrashedError``. The
next call starts a fresh child.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from typing import Any

from transforms.errors import DecodeTimeoutError, MediaError
from transforms.io.credentials import use_emulator_credentials
from transforms.io.native_stderr import filter_native_stderr


class DecoderCrashedError(MediaError):
    """The decoding process died (a native crash such as a segfault)."""


class _RemoteError(Exception):
    """An exception from the child that could not be pickled back as it was."""


def _child_main(conn) -> None:
    state: dict[str, Any] = {}
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        fn, args, env = message
        if env != dict(os.environ):
            # The child runs in its caller's environment (emulator hosts, credentials path),
            # not in the one the fork server was started with.
            os.environ.clear()
            os.environ.update(env)
            use_emulator_credentials()
        # The model and decoders print from C++ into fd 2: keep only their errors, unless
        # the caller's run is verbose (its environment says so; the fork server may have
        # started before the launcher knew).
        filter_native_stderr()
        try:
            conn.send(("ok", fn(state, *args)))
        except BaseException as exc:  # every error goes back to the parent
            try:
                conn.send(("error", exc))
            except Exception:
                conn.send(("error", _RemoteError(f"{type(exc).__name__}: {exc}")))


class IsolatedWorker:
    """A child process that runs ``fn(state, *args)`` calls one at a time.

    Children fork from a ``forkserver`` that has imported reelbeam's decoding
    modules once, so a fresh child costs milliseconds, not the seconds that
    importing Beam, PyAV and NumPy take; the server is single-threaded, so forking
    it is safe even when the Beam worker itself runs gRPC threads.

    Args:
        name: shown in process listings and logs.
    """

    def __init__(self, name: str = "reelbeam-decoder"):
        self._name = name
        self._ctx = _context()
        self._process = None
        self._conn = None

    def start(self) -> None:
        """Start the child now (``setup()``), so the first element does not wait for it."""
        if self._process is None or not self._process.is_alive():
            self._start()

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._process = self._ctx.Process(
            target=_child_main, args=(child,), name=self._name, daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent

    def call(self, fn: Callable[..., Any], args: tuple, timeout_s: float) -> Any:
        """Run ``fn(state, *args)`` in the child and return its result.

        Raises:
            DecodeTimeoutError: no answer within ``timeout_s`` (the child is killed).
            DecoderCrashedError: the child died while working.
            Whatever ``fn`` raised, re-raised here.
        """
        self.start()
        assert self._conn is not None and self._process is not None
        self._conn.send((fn, args, dict(os.environ)))
        try:
            ready = self._conn.poll(timeout_s)
        except (EOFError, OSError):
            ready = True
        if not ready:
            self._kill()
            raise DecodeTimeoutError(f"decoding took longer than {timeout_s:.0f} s")
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            code = self._process.exitcode
            self._process.join(timeout=5)
            code = self._process.exitcode if code is None else code
            self._discard()
            raise DecoderCrashedError(f"the decoder process died ({_describe_exit(code)})") from exc
        if status == "error":
            raise value
        return value

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=5)
        self._discard()

    def _discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._process = None

    def close(self) -> None:
        """Stop the child (politely, then by force)."""
        if self._process is None:
            return
        try:
            assert self._conn is not None
            self._conn.send(None)
            self._process.join(timeout=5)
        except Exception as exc:  # the child is going away either way
            logging.debug("closing %s: %s", self._name, exc)
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)
        self._discard()


# What every isolated child needs, imported once by the fork server so that no child
# pays for it: the decoders, NumPy, the MediaPipe Tasks API (the detect children load
# the pose model into it) and the modules holding the functions the children run
# (``IsolatedFn.call_isolated``). None of them imports Beam (``test_child_imports``):
# the server is ready in about 1.8 s on 2 cores, beside the launcher's own Beam import,
# where Beam's 2-3 s would otherwise come first.
FORKSERVER_PRELOAD = (
    "av",
    "numpy",
    "mediapipe.tasks.python.vision",
    "transforms.media.probe",
    "transforms.chunk_analysis",
    "transforms.render.work",
)
# Beam's FileSystems, for children that read or write remote URIs (``gs://``): preloaded
# when the run names one, or when a remote runner's worker starts the server.
REMOTE_IO_PRELOAD = ("apache_beam.io.filesystems",)


def prestart_fork_server(remote_io: bool) -> bool:
    """Start this process's fork server now, without waiting for its imports.

    The launcher calls it when the workers run in its own process (the in-memory
    DirectRunner): the server's imports then overlap building the graph and starting
    the runner instead of delaying the first probe. ``remote_io``: the run reads or
    writes remote URIs, so the children need Beam's FileSystems. Returns False where
    there is no fork server (the children are spawned).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    _context(remote_io)
    from multiprocessing import forkserver

    forkserver.ensure_running()  # spawns the server and returns; it imports on its own
    return True


def _context(remote_io: bool = True):
    """The start method of isolated children; the first call fixes the server's preload.

    A fork server not started by ``prestart_fork_server`` is started by the first
    worker's ``setup()``, on a remote runner's worker or in SDK worker processes, where
    inputs and outputs are usually remote: it preloads Beam's FileSystems too.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        if not _SERVER_PRELOAD:
            _SERVER_PRELOAD.extend(FORKSERVER_PRELOAD + (REMOTE_IO_PRELOAD if remote_io else ()))
            ctx.set_forkserver_preload(_SERVER_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


_SERVER_PRELOAD: list[str] = []  # fixed by the first ``_context`` call


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit code"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"
