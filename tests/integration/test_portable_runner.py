"""The batch pipeline on Beam's portable runner with external SDK workers.

A ``worker_pool_main`` (the ``beam_worker_pool`` sidecar of a Flink or Spark
deployment, here a local process) starts SDK worker processes on request; the job
runs through Beam's Job API (``--runner=PortableRunner``) with
``--environment_type=EXTERNAL``. Its catalog must equal a DirectRunner run of the
same inputs.

Compared: every catalog row, with the output folder written as ``<out>`` (artifact
URIs name it) and without the timestamps ``scanned_at``, ``indexed_at`` and
``failed_at`` (stamped when each run does its work). Nothing else is ignored: the
runs use ``--render=none``, so the only artifacts are ``motion.json`` files, whose
bytes do not depend on an encoder, and their ``md5`` and ``size_bytes`` must match.

Workers log with their pid (a ``sitecustomize`` on the pool's ``PYTHONPATH``), so
the two-worker test can see which SDK worker process did which work.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pipelines.launcher import run
from tests.helpers.media import write_synthetic_clip
from tests.helpers.runs import DIRECT, REPO, fixed_clock

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TABLES = ("videos", "segments", "assets", "failures")
TIMESTAMPS = ("scanned_at", "indexed_at", "failed_at")
KEYS = {
    "videos": ("video_id",),
    "segments": ("video_id", "segment_index"),
    "assets": ("video_id", "asset_type", "uri"),
    "failures": ("input_uri", "stage", "chunk_index", "artifact"),
}
# Each SDK worker process logs "<pid> <logger>: <message>" to the pool's log file.
WORKER_LOGGING = """\
import logging

logging.basicConfig(level=logging.INFO, format="pid=%(process)d %(name)s: %(message)s")
"""
WORK_MESSAGE = re.compile(r"^pid=(\d+) root: (found|catalogued) ", re.MULTILINE)


@dataclass(frozen=True)
class WorkerPool:
    """A running ``worker_pool_main``: its address and the log its workers write."""

    address: str
    log: pathlib.Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: pathlib.Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"worker_pool_main exited ({process.returncode}):\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("localhost", port), 1):
            return
        time.sleep(0.2)
    pytest.fail(f"worker_pool_main did not listen on {port} within 60 s:\n{log.read_text()}")


def _stop_group(process: subprocess.Popen) -> None:
    """Stop the pool and every SDK worker (and their children) it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)
    # Workers may outlive the pool by a moment; whatever is left in the group goes.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@pytest.fixture(scope="module")
def worker_pool(tmp_path_factory) -> Iterator[WorkerPool]:
    """A ``worker_pool_main`` on a free port, in a process group of its own.

    Its workers run ``python`` from ``PATH``: the venv's ``bin`` comes first and the
    repository root is on ``PYTHONPATH``, so they import this checkout.
    """
    folder = tmp_path_factory.mktemp("worker-pool")
    site = folder / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(WORKER_LOGGING)
    log = folder / "pool.log"
    port = _free_port()
    venv_bin = pathlib.Path(sys.executable).parent
    env = dict(
        os.environ,
        PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONPATH=f"{REPO}{os.pathsep}{site}",
    )
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apache_beam.runners.worker.worker_pool_main",
                f"--service_port={port}",
            ],
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_port(port, process, log)
        yield WorkerPool(f"localhost:{port}", log)
    finally:
        _stop_group(process)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> pathlib.Path:
    """Two generated clips (a moving box, no people).

    Truth: day1/a.mp4 is 320x240, 10 fps, 30 frames, 3.0 s; day1/b.mp4 is 160x120,
    10 fps, 20 frames, 2.0 s; neither has audio.
    """
    root = tmp_path_factory.mktemp("clips")
    (root / "day1").mkdir()
    write_synthetic_clip(root / "day1" / "a.mp4", duration_s=3.0, fps=10)
    write_synthetic_clip(root / "day1" / "b.mp4", duration_s=2.0, fps=10, width=160, height=120)
    return root


def _argv(clips: pathlib.Path, out: pathlib.Path, *runner: str) -> list[str]:
    return [f"--input={clips}", f"--output={out}", "--render=none", *runner]


def _catalog(out: pathlib.Path) -> dict[str, list[dict]]:
    """The four tables, rows sorted by key, output folder as ``<out>``, no timestamps."""
    tables = {}
    for table in TABLES:
        path = out / "catalog" / f"{table}.jsonl"
        text = path.read_text().replace(str(out), "<out>") if path.exists() else ""
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        for row in rows:
            for name in TIMESTAMPS:
                row.pop(name, None)
        tables[table] = sorted(rows, key=lambda r, t=table: [str(r.get(k)) for k in KEYS[t]])
    return tables


@pytest.fixture(scope="module")
def direct_catalog(clips, tmp_path_factory) -> dict[str, list[dict]]:
    """The catalog of a DirectRunner run over ``clips``: what every runner must write."""
    out = tmp_path_factory.mktemp("direct") / "out"
    assert run(_argv(clips, out, *DIRECT), clock=fixed_clock) == 0
    catalog = _catalog(out)
    assert len(catalog["videos"]) == 2 and catalog["failures"] == []
    return catalog


def _last_line(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_portable_runner_writes_the_direct_runners_catalog(
    worker_pool, clips, direct_catalog, tmp_path, capsys, caplog
):
    out = tmp_path / "out"
    caplog.set_level(logging.WARNING)
    code = run(
        _argv(
            clips,
            out,
            "--runner=PortableRunner",
            "--job_endpoint=embed",
            "--environment_type=EXTERNAL",
            f"--environment_config={worker_pool.address}",
        ),
        clock=fixed_clock,
    )
    assert code == 0
    assert _catalog(out) == direct_catalog
    assert _last_line(capsys).startswith("reelbeam: 2 videos catalogued, 0 failed, 0 segments,")
    # The work ran in the pool's worker processes, not in this one.
    pids = {int(pid) for pid, _ in WORK_MESSAGE.findall(worker_pool.log.read_text())}
    assert pids and os.getpid() not in pids
    # Its workers need not be on this machine: the launcher said where output must be.
    assert f"--output {out} is a local path: on the PortableRunner it must be visible" in (
        caplog.text
    )


def _two_worker_job_type():
    """A Python job service job that runs its bundles on two SDK workers.

    Beam's Python job service (``--job_endpoint=embed`` or ``local_job_service_main``)
    always asks the worker pool for one SDK worker per environment; Flink and Spark
    ask for one per task slot. To see work spread over SDK worker processes without
    a cluster, this job gives its ``FnApiRunner`` two workers, as the DirectRunner
    does for ``--direct_num_workers=2``. It touches Beam internals (pinned Beam
    2.77): test code only, never the launcher.
    """
    from apache_beam.portability.api import beam_job_api_pb2
    from apache_beam.runners.portability import local_job_service
    from apache_beam.runners.portability.fn_api_runner import fn_runner

    class TwoWorkerJob(local_job_service.BeamJob):
        def _invoke_runner(self):
            self.set_state(beam_job_api_pb2.JobState.RUNNING)
            runner = fn_runner.FnApiRunner(provision_info=self._provision_info)
            runner._num_workers = 2
            return runner.run_via_runner_api(self._pipeline_proto, self.pipeline_options())

    return TwoWorkerJob


@pytest.fixture
def two_worker_job_service() -> Iterator[str]:
    """A Python job service on a free port whose jobs use two SDK workers."""
    from apache_beam.runners.portability import local_job_service

    servicer = local_job_service.LocalJobServicer(beam_job_type=_two_worker_job_type())
    port = servicer.start_grpc_server(0)
    try:
        yield f"localhost:{port}"
    finally:
        servicer.stop()


def test_two_sdk_worker_processes_share_the_work(
    worker_pool, two_worker_job_service, clips, direct_catalog, tmp_path, capsys
):
    before = len(worker_pool.log.read_text())
    out = tmp_path / "out"
    code = run(
        _argv(
            clips,
            out,
            "--runner=PortableRunner",
            f"--job_endpoint={two_worker_job_service}",
            "--environment_type=EXTERNAL",
            f"--environment_config={worker_pool.address}",
        ),
        clock=fixed_clock,
    )
    assert code == 0
    assert _catalog(out) == direct_catalog
    assert _last_line(capsys).startswith("reelbeam: 2 videos catalogued, 0 failed,")
    log = worker_pool.log.read_text()[before:]
    assert len(re.findall(r"Starting worker with command", log)) == 2, log
    by_pid: dict[int, set[str]] = {}
    for pid, what in WORK_MESSAGE.findall(log):
        by_pid.setdefault(int(pid), set()).add(what)
    assert len(by_pid) == 2, f"work by worker pid: {by_pid}\n{log}"
