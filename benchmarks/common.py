"""What every benchmark shares: results, the run context, timing, CLI baselines, profiles.

Timing is wall clock (``time.perf_counter``) and CPU time (user + system of this process and
of the children it has waited for). Ours and the baseline are interleaved (ours first on even
repeats, the baseline first on odd ones) so that both see the same machine; the median of
the repeats is reported.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GIB = 1024**3


@dataclass
class Result:
    """One row of ``results.json``.

    Attributes:
        name: benchmark name (``probe``, ``proxy_encode``, ...).
        ours_s: our median (seconds, or ``unit``).
        baseline_s: the baseline's median in the same run (None: no baseline or skipped).
        ratio: the benchmark's figure of merit, as ``target`` states it.
        target: the goal, e.g. ``ratio >= 0.95 (baseline/ours)``.
        unit: unit of ``ours_s`` and ``baseline_s``.
        notes: inputs, checks and, where a target is missed, what bounds it.
        met: whether the target was met (None: could not be judged).
        details: per-repeat samples, CPU times, throughput and stage breakdowns.
    """

    name: str
    ours_s: float | None
    baseline_s: float | None
    ratio: float | None
    target: str
    unit: str = "s"
    notes: str = ""
    met: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    """What a benchmark module gets from the runner.

    Attributes:
        suite: ``quick`` (small inputs, fewer repeats) or ``full`` (the issue's sizes).
        out: results folder (``out/bench``).
        work: scratch folder for outputs, emptied by the runner.
        repeats: timed repeats per side.
        ffmpeg: path of the ffmpeg CLI, or None when it is missing.
        ffprobe: path of the ffprobe CLI, or None when it is missing.
        metrics: per-chunk timings shared with the 10-hour projection.
    """

    suite: str
    out: Path
    work: Path
    repeats: int
    ffmpeg: str | None
    ffprobe: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    share: MachineShare | None = None

    @property
    def quick(self) -> bool:
        return self.suite == "quick"

    def busy_note(self) -> str:
        """A sentence when other processes competed for the cores (empty otherwise)."""
        return self.share.note() if self.share is not None else ""

    def others_cores(self) -> float:
        return self.share.others_cores() if self.share is not None else 0.0

    def scratch(self, name: str) -> Path:
        """An empty folder ``work/name``."""
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path


@dataclass
class Run:
    """One timed call: wall and CPU seconds, and what it returned."""

    wall_s: float
    cpu_s: float
    value: Any = None


def cpu_now() -> float:
    """CPU seconds (user + system) of this process, all threads, and its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any]) -> Run:
    """Call ``fn`` and time it."""
    cpu0, t0 = cpu_now(), time.perf_counter()
    value = fn()
    return Run(time.perf_counter() - t0, cpu_now() - cpu0, value)


def interleaved(
    ours: Callable[[], Any], baseline: Callable[[], Any] | None, repeats: int
) -> tuple[list[Run], list[Run]]:
    """``repeats`` timed runs of each, alternating which goes first."""
    mine: list[Run] = []
    theirs: list[Run] = []
    for index in range(repeats):
        if baseline is not None and index % 2:
            theirs.append(timed(baseline))
            mine.append(timed(ours))
        else:
            mine.append(timed(ours))
            if baseline is not None:
                theirs.append(timed(baseline))
    return mine, theirs


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def med_wall(runs: Sequence[Run]) -> float | None:
    return median([r.wall_s for r in runs])


def med_cpu(runs: Sequence[Run]) -> float | None:
    return median([r.cpu_s for r in runs])


def samples(runs: Sequence[Run]) -> dict[str, list[float]]:
    return {
        "wall_s": [round(r.wall_s, 4) for r in runs],
        "cpu_s": [round(r.cpu_s, 4) for r in runs],
    }


def run_cmd(cmd: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command; raise with the tail of its stderr when it fails."""
    proc = subprocess.run(
        [str(c) for c in cmd], stdin=subprocess.DEVNULL, capture_output=True, text=True, **kwargs
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout or "").strip()[-2000:]
        raise RuntimeError(f"{Path(str(cmd[0])).name} exited with {proc.returncode}: {tail}")
    return proc


def tool_version(tool: str | None) -> str:
    """First line of ``tool -version``, or ``missing``."""
    if not tool:
        return "missing"
    try:
        return run_cmd([tool, "-version"]).stdout.splitlines()[0]
    except Exception as exc:  # a broken install is reported, not fatal
        return f"unusable ({exc})"


def child_json(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[dict, Run]:
    """Run a Python child that prints one JSON object on its last stdout line."""
    holder: dict[str, Any] = {}

    def go() -> None:
        proc = run_cmd(cmd, env=env)
        holder["out"] = json.loads(proc.stdout.strip().splitlines()[-1])

    run = timed(go)
    return holder["out"], run


def python_module_cmd(module: str, *args: str) -> list[str]:
    """``python -m module args`` with this interpreter, from the repository root."""
    return [sys.executable, "-m", module, *args]


def repo_env() -> dict[str, str]:
    """The environment for children: the repository root on ``PYTHONPATH``."""
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("NO_GCE_CHECK", "true")
    return env


def peak_rss_bytes() -> int:
    """This process's peak resident set size (``VmHWM``), in bytes."""
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def profile_top(fn: Callable[[], Any], dest: Path, top: int = 6) -> tuple[Any, list[str]]:
    """Run ``fn`` under cProfile; write the full table to ``dest``; return the top entries.

    cProfile sees the calling thread only: time inside C calls that wait on other threads
    (x264's frame threads, a decode thread) shows as the C call's own time.
    """
    profiler = cProfile.Profile()
    value = profiler.runcall(fn)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).sort_stats("tottime")
    stats.print_stats(40)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text.getvalue(), encoding="utf-8")
    total = sum(row[2] for row in stats.stats.values()) or 1.0
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    lines = []
    for (filename, line, func), (_, _, tottime, _, _) in rows:
        where = Path(filename).name if filename != "~" else ""
        label = f"{where}:{line}({func})" if where else func
        lines.append(f"{label} {tottime:.2f}s ({100 * tottime / total:.0f}%)")
    return value, lines


class ProcessTreeSampler:
    """Polls ``/proc`` for a process and its descendants: CPU time and resident memory.

    Children that are not reaped by their parents (Beam SDK workers, forkserver children)
    never reach ``RUSAGE_CHILDREN``; sampling sees them. CPU time of a process that lives
    less than one period is missed.
    """

    def __init__(self, root_pid: int, period_s: float = 0.1):
        self._root = root_pid
        self._period = period_s
        self._cpu: dict[int, float] = {}
        self._base: dict[int, float] | None = None  # CPU of processes alive at the start
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)
        self.peak_tree_rss = 0
        self.peak_process_rss = 0
        self.max_processes = 0
        self._tick = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> ProcessTreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_s(self) -> float:
        """CPU seconds the tree used since the sampler started."""
        with self._lock:
            base = self._base or {}
            return sum(cpu - base.get(pid, 0.0) for pid, cpu in self._cpu.items())

    def sample_now(self) -> None:
        self._sample()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._period)
        self._sample()

    def _sample(self) -> None:
        with self._lock:
            self._sample_locked()

    def _sample_locked(self) -> None:
        table: dict[int, tuple[int, float, int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                continue
            fields = text[text.rfind(")") + 2 :].split()
            ppid = int(fields[1])
            cpu = (int(fields[11]) + int(fields[12])) / self._tick
            rss = int(fields[21]) * self._page
            table[int(entry)] = (ppid, cpu, rss)
        tree = {self._root} if self._root in table else set()
        grew = True
        while grew:
            grew = False
            for pid, (ppid, _, _) in table.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        if self._base is None:
            self._base = {pid: table[pid][1] for pid in tree}
        total_rss = 0
        for pid in tree:
            _, cpu, rss = table[pid]
            self._cpu[pid] = max(cpu, self._cpu.get(pid, 0.0))
            total_rss += rss
            self.peak_process_rss = max(self.peak_process_rss, rss)
        self.peak_tree_rss = max(self.peak_tree_rss, total_rss)
        self.max_processes = max(self.max_processes, len(tree))


def _system_busy_s() -> float:
    """CPU seconds all processes on this machine have used since boot (``/proc/stat``)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10])  # already counted in user and nice
    return (sum(fields) - idle - guest) / os.sysconf("SC_CLK_TCK")


class MachineShare:
    """How many cores OTHER processes used while a benchmark ran.

    The machine's busy CPU time (``/proc/stat``) minus this process tree's (sampled, and
    from ``getrusage`` for reaped children): other users' work competes for the same cores
    and makes timings noisy, whatever the load average says about our own work.
    """

    def __init__(self) -> None:
        self._t0 = time.perf_counter()
        self._busy0 = _system_busy_s()
        self._own0 = cpu_now()
        self._sampler = ProcessTreeSampler(os.getpid(), period_s=0.5)
        self._sampler.__enter__()

    def others_cores(self) -> float:
        self._sampler.sample_now()
        wall = max(time.perf_counter() - self._t0, 1e-3)
        own = max(self._sampler.cpu_s, cpu_now() - self._own0)
        return max(0.0, (_system_busy_s() - self._busy0 - own) / wall)

    def note(self) -> str:
        others = self.others_cores()
        if others < 0.25:
            return ""
        return (
            f" Other processes used ~{others:.1f} of the {os.cpu_count()} cores while this ran: "
            "timings are noisy, ratios less so (both sides shared the machine alike)."
        )

    def close(self) -> float:
        others = self.others_cores()
        self._sampler.__exit__(None, None, None)
        return others


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    return f"{value:.3g} {unit}"
