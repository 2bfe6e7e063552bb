"""startup: the fixed cost of a run, measured from launch to its first results, broken down.

Fixed start-up is what a run pays before its first element's result, whatever the input.
It is measured on the real command, ``python -m pipelines.main`` over one clip with the
defaults (the DirectRunner's worker threads, the fork server started before Beam is
imported): the time from launch until the first probe and the first analysed chunk are
reported (the workers' progress file, ``transforms.progress``), less the work of that probe
and that chunk measured alone. The parts behind it, each in a fresh process:

- **imports**: ``import pipelines.launcher`` (Beam is most of it);
- **worker start**: a one-element pipeline on the default ``--direct_running_mode``
  (threads), and on ``multi_processing --direct_num_workers=2`` for comparison (SDK
  worker processes, each importing Beam);
- **child + model**: ``setup()`` of the probe and detect DoFns: the fork server with its
  preload (``transforms.io.isolation.FORKSERVER_PRELOAD``, no Beam in it, plus Beam's
  FileSystems as a remote runner's worker preloads them), one isolated child each, and
  the pose model loaded into the detect child (``warm_call``).

The parts overlap in a run (the fork server imports beside the launcher), so they add up
to more than the measured start-up. The work itself, probing the clip and analysing its
first chunk, is measured after ``setup()``; the first chunk costs what the same chunk costs
again, which shows the model is loaded before the first element. Target: 3 s or less.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import media_cache
from benchmarks.common import Context, Result, child_json, median, python_module_cmd, repo_env

NAME = "startup"
TARGET = "fixed start-up <= 3 s (imports + worker start + child + model)"
LIMIT_S = 3.0


def _imports() -> dict:
    t0 = time.perf_counter()
    import pipelines.launcher  # noqa: F401

    return {"imports_s": time.perf_counter() - t0}


def _one_element_pipeline(argv: list[str]) -> float:
    import apache_beam as beam

    from pipelines.launcher import parse

    options = parse(["--runner=DirectRunner", *argv])
    t0 = time.perf_counter()
    with beam.Pipeline(options=options) as p:
        _ = p | beam.Create([0]) | beam.Map(lambda x: x + 1)
    return time.perf_counter() - t0


def _worker_start() -> dict:
    return {"worker_start_s": _one_element_pipeline([])}


def _worker_processes() -> dict:
    argv = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    return {"worker_processes_s": _one_element_pipeline(argv)}


def _child_and_model() -> dict:
    from transforms.chunk_analysis import DetectParams
    from transforms.chunks import chunks_of
    from transforms.detect_motion import DetectChunkFn
    from transforms.paths import make_video_id
    from transforms.pose_backends import default_model_path
    from transforms.probe_videos import ProbeFileFn
    from transforms.records import FoundFile

    clip = str(media_cache.shared_clip("dance.mp4"))
    found = FoundFile(clip, 0, 0.0, make_video_id(clip, {}, None))
    probe_fn = ProbeFileFn()
    detect_fn = DetectChunkFn(default_model_path(), "mediapipe-cpu", DetectParams())
    t0 = time.perf_counter()
    probe_fn.setup()
    t1 = time.perf_counter()
    detect_fn.setup()
    t2 = time.perf_counter()
    try:
        probe = next(iter(probe_fn.process(found)))
        t3 = time.perf_counter()
        chunk = chunks_of(probe, 60.0, 3.0)[0]
        first = next(iter(detect_fn.process(chunk)))
        t4 = time.perf_counter()
        next(iter(detect_fn.process(chunk)))
        t5 = time.perf_counter()
    finally:
        probe_fn.teardown()
        detect_fn.teardown()
    return {
        "probe_setup_s": t1 - t0,
        "detect_setup_s": t2 - t1,
        "probe_first_s": t3 - t2,
        "detect_first_s": t4 - t3,
        "detect_second_s": t5 - t4,
        "media_s": chunk.end_s - chunk.start_s,
        "samples": len(getattr(first, "times_s", ())),
    }


PARTS = {
    "imports": _imports,
    "worker_start": _worker_start,
    "worker_processes": _worker_processes,
    "child_and_model": _child_and_model,
}


def launch_to_first_results(clip: Path, output: Path) -> dict:
    """Seconds from launching ``python -m pipelines.main`` on ``clip`` to its first probe and
    first analysed chunk (polled from the progress file every 10 ms), and to its exit."""
    from transforms.progress import PROGRESS_ENV, read_totals  # not in the --child parts

    progress = output.parent / f"{output.name}-progress.jsonl"
    progress.unlink(missing_ok=True)
    env = repo_env()
    env[PROGRESS_ENV] = str(progress)
    cmd = python_module_cmd("pipelines.main", "--input", str(clip), "--output", str(output))
    firsts: dict[str, float] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while proc.poll() is None and len(firsts) < 2:
        totals = read_totals(str(progress))
        for name in ("files_probed", "chunks_analysed"):
            if totals[name] and name not in firsts:
                firsts[name] = time.perf_counter() - t0
        time.sleep(0.01)
    _, err = proc.communicate()
    if proc.returncode != 0 or len(firsts) < 2:
        raise RuntimeError(f"the run exited {proc.returncode}: {err.decode()[-2000:]}")
    return {
        "to_first_probe_s": firsts["files_probed"],
        "to_first_chunk_s": firsts["chunks_analysed"],
        "to_exit_s": time.perf_counter() - t0,
    }


def measure(part: str, ctx: Context) -> dict:
    """One fresh child process measuring ``part``, repeated; the median of each figure."""
    reports = [
        child_json(python_module_cmd("benchmarks.bench_startup", "--child", part), repo_env())[0]
        for _ in range(ctx.repeats)
    ]
    return {key: median([r[key] for r in reports]) for key in reports[0]}


def run(ctx: Context) -> Result:
    figures: dict[str, float] = {}
    for part in PARTS:
        figures.update(measure(part, ctx))
    clip = media_cache.shared_clip("dance.mp4")
    launches = [
        launch_to_first_results(clip, ctx.scratch("startup") / "out") for _ in range(ctx.repeats)
    ]
    figures.update({key: median([r[key] for r in launches]) for key in launches[0]})
    child_model = figures["probe_setup_s"] + figures["detect_setup_s"]
    work = figures["probe_first_s"] + figures["detect_first_s"]
    fixed = figures["to_first_chunk_s"] - work
    ctx.metrics["startup_fixed_s"] = fixed
    notes = (
        f"Fixed start-up {fixed:.2f} s: launch to the first analysed chunk "
        f"{figures['to_first_chunk_s']:.2f} s (first probe at {figures['to_first_probe_s']:.2f} "
        f"s) less that probe and chunk's own work {work:.2f} s. Its parts, each alone in a "
        f"fresh process (they overlap in a run): imports {figures['imports_s']:.2f} s, worker "
        f"start {figures['worker_start_s']:.2f} s on threads (SDK worker processes would take "
        f"{figures['worker_processes_s']:.2f} s), child and model {child_model:.2f} s (probe "
        f"setup: fork server and child {figures['probe_setup_s']:.2f}, detect setup: child and "
        f"pose model {figures['detect_setup_s']:.2f}). The work next "
        f"to it: probing the clip {figures['probe_first_s']:.2f} s, its first "
        f"{figures['media_s']:.1f}-s chunk {figures['detect_first_s']:.2f} s and the same "
        f"chunk again {figures['detect_second_s']:.2f} s (equal: the model was loaded in "
        "setup(), before the first element)."
    )
    met = fixed <= LIMIT_S
    if not met:
        notes += (
            f" Target missed by {fixed - LIMIT_S:.2f} s: importing apache_beam alone is "
            f"{figures['imports_s']:.2f} s of it here, and the fork server's imports (PyAV, "
            "MediaPipe, the children's modules) run beside it; on a machine whose other "
            "processes hold its cores (see the load note) every part stretches alike."
        )
    details = {"figures": figures, "fixed_s": fixed, "work_s": work}
    return Result(NAME, fixed, work, None, TARGET, "s", notes + ctx.busy_note(), met, details)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2 or argv[0] != "--child" or argv[1] not in PARTS:
        print(f"usage: python -m benchmarks.bench_startup --child {'|'.join(PARTS)}")
        return 2
    print(json.dumps(PARTS[argv[1]]()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
