"""rerun: a nightly rerun over an unchanged archive vs the first run over it.

The archive is 200 tiny generated clips (1 s, 64x64, 5 fps H.264, each a different
moving square; cached under ``.bench/media``). The first run catalogs them into an empty
output; the rerun, with the same inputs and settings, must decode nothing (its counters
say ``files_probed == 0`` and ``chunks_analysed == 0``) and take under 5% of the first
run's CPU time (user + system of the run's process and all its children, getrusage and
sampled over the process tree, see ``run_pipeline``). Both run the real launcher on
DirectRunner, each in a child process; an unchanged rerun ends at launch, before any
pipeline or child process (the least CPU of three reruns counts). The notes split the rerun's CPU into its floor (the
interpreter, Beam's import, the launcher's) and the rest.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np

from benchmarks import media_cache
from benchmarks.common import (
    Context,
    ProcessTreeSampler,
    Result,
    Run,
    python_module_cmd,
    repo_env,
)
from pipelines import launcher
from transforms.io.atomic import local_target

NAME = "rerun"
TARGET = "ratio <= 0.05 (rerun CPU s / first run CPU s), nothing decoded"
FILES = 200
RERUNS = 3
RECIPE = 1  # bump when the clips change: cached files get new names


def tiny_clip(path: Path, seed: int) -> Path:
    """A 1 s 64x64 5 fps H.264 clip of a square moving along a seed-dependent path."""
    if path.is_file():
        return path
    rng = np.random.default_rng(seed)
    colour = rng.integers(64, 256, size=3, dtype=np.uint8)
    dx, dy = rng.integers(-6, 7, size=2)
    with local_target(str(path)) as tmp, av.open(tmp, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=5)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for index in range(5):
            image = np.zeros((64, 64, 3), np.uint8)
            x, y = 24 + dx * index, 24 + dy * index
            image[max(y, 0) : y + 16, max(x, 0) : x + 16] = colour
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def archive(count: int) -> Path:
    """A folder of ``count`` distinct tiny clips (generated once, then cached)."""
    folder = media_cache.cache_dir() / f"rerun_r{RECIPE}"
    for index in range(count):
        tiny_clip(folder / f"day{index % 4}" / f"clip_{index:04d}.mp4", seed=index)
    return folder


def pipeline_main(argv: list[str]) -> int:
    """The child: one launcher run; prints its exit code and reelbeam counters as JSON."""
    seen: dict[str, int] = {}
    real = launcher.summary_line

    def spy(totals, *args, **kwargs):
        seen.update(totals or {})
        return real(totals, *args, **kwargs)

    # The counts the summary line is made of (the runner's counters, or the launcher's
    # own when a rerun has nothing to do and starts no pipeline), kept for the checks.
    launcher.summary_line = spy
    code = launcher.run(argv)
    print(json.dumps({"exit_code": code, "counters": seen}))
    return 0


def run_pipeline(argv: list[str]) -> Run:
    """One launcher run in a child; CPU of the whole process tree, counters as the value.

    CPU is the larger of the sampled process tree's (it sees DirectRunner's workers, which
    nobody reaps) and ``getrusage`` of the reaped children: each alone misses some.
    """
    cmd = python_module_cmd("benchmarks.bench_rerun", "--pipeline", *argv)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=repo_env(),
    )  # fmt: skip
    with ProcessTreeSampler(proc.pid) as sampler:
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = (kids.ru_utime + kids.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    lines = out.strip().splitlines()
    report = json.loads(lines[-1]) if proc.returncode == 0 and lines else {}
    if report.get("exit_code") != 0:
        raise RuntimeError(f"reelbeam exited with {proc.returncode}: {err.strip()[-2000:]}")
    return Run(wall, max(sampler.cpu_s, reaped), report["counters"])


def import_cpu_s(module: str, repeat: int = 3) -> float:
    """CPU seconds of a child that only imports ``module`` (the least of ``repeat`` tries)."""
    times = []
    for _ in range(repeat):
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=repo_env())
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append((kids.ru_utime + kids.ru_stime) - (kids0.ru_utime + kids0.ru_stime))
    return min(times)


def run(ctx: Context) -> Result:
    folder = archive(FILES)
    out = ctx.scratch(NAME) / "out"
    argv = [f"--input={folder}", f"--output={out}", "--runner=DirectRunner"]
    first = run_pipeline(argv)
    # Reruns are cheap: the least of three, like the floor below, so the two compare.
    again = min((run_pipeline(argv) for _ in range(RERUNS)), key=lambda r: r.cpu_s)
    python = import_cpu_s("sys")  # the interpreter alone
    beam = import_cpu_s("apache_beam")  # the interpreter and Beam
    startup = import_cpu_s("pipelines.launcher")  # a rerun's floor before any work
    work = again.cpu_s - startup
    counts = again.value
    decoded = counts.get("files_probed", 0) + counts.get("chunks_analysed", 0)
    skipped = counts.get("inputs_skipped", 0)
    ratio = again.cpu_s / first.cpu_s if first.cpu_s else None
    met = ratio is not None and ratio <= 0.05 and decoded == 0 and skipped == FILES
    ended = set(counts) <= {"files_found", "inputs_skipped"}  # the launcher's own counts
    started = "no pipeline started" if ended else "a pipeline ran"
    share = (lambda cpu_s: 100 * cpu_s / first.cpu_s) if first.cpu_s else (lambda _: 0.0)
    notes = (
        f"{FILES} clips of 1 s 64x64 (all settings default). First run {first.wall_s:.1f} s "
        f"wall, {first.cpu_s:.1f} s CPU ({first.value.get('files_probed', 0)} probed, "
        f"{first.value.get('chunks_analysed', 0)} chunks analysed); rerun {again.wall_s:.1f} s "
        f"wall, {again.cpu_s:.2f} s CPU (least of {RERUNS}): {skipped} skipped unchanged, "
        f"{counts.get('files_probed', 0)} probed, {counts.get('chunks_analysed', 0)} chunks "
        f"analysed, {started}. Its floor, a child that only imports the launcher: "
        f"{startup:.2f} s CPU ({share(startup):.1f}% of the first run), of which the "
        f"interpreter {python:.2f} s and Beam's import {beam - python:.2f} s "
        f"({share(beam - python):.1f}%); the rest, {work:.2f} s (noise near zero), is "
        "parsing the options, preflight, the models' MD5 for the fingerprints, matching the "
        f"files, reading the catalog and planning each file ({1000 * work / FILES:.1f} ms "
        "CPU per file)."
    )
    if share(beam - python) > 5:
        notes += " Beam's import alone is over 5% of this first run: no rerun can meet the target."
    elif share(startup) > 5:
        notes += " The floor alone is over 5% of this first run: no rerun can meet the target."
    notes += (
        " The first run's CPU varies with the machine's load (49-137 s seen on 2 shared "
        "cores), the rerun's hardly: the ratio moves with it."
    )
    details = {
        "files": FILES,
        "first": {"wall_s": first.wall_s, "cpu_s": first.cpu_s, "counters": first.value},
        "rerun": {"wall_s": again.wall_s, "cpu_s": again.cpu_s, "counters": counts},
        "startup_cpu_s": startup,
        "interpreter_cpu_s": python,
        "beam_import_cpu_s": beam - python,
        "work_cpu_s": work,
    }
    return Result(
        NAME,
        again.cpu_s,
        first.cpu_s,
        ratio,
        TARGET,
        "CPU s",
        notes + ctx.busy_note(),
        met,
        details,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pipeline"]:
        sys.exit(pipeline_main(sys.argv[2:]))
    sys.exit("usage: python -m benchmarks.bench_rerun --pipeline REELBEAM_ARGS")
