"""end_to_end: the whole pipeline on 2 DirectRunner workers vs its stages alone.

Ours runs ``pipelines.launcher.run([...])`` (in a child process, as ``reelbeam`` would run)
over a mixed corpus with ``--runner=DirectRunner --direct_num_workers=2`` (the launcher's
default running mode: worker threads, each waiting on its isolated decode, inference and
encode children) into a fresh output folder. The baseline runs the same work stage
by stage in ONE process pinned to ONE core (``python -m benchmarks.end_to_end_runs
--serial``, render chunks sized for the same 2 workers), calling the functions under each stage: ``probe_video``, ``chunks_of`` +
``analyse_in_child`` (the pose model and the person detector, as a detect child runs
them), ``merge_chunks`` + ``write_motion``, and the renderers
(``render_ladder_whole`` or chunked ``encode_chunk_in_child`` + ``join_in_child``,
``render_thumbnails``, ``render_preview``, ``render_reel``) with the options' defaults.
Finding files and writing catalog rows and the report are Beam glue of milliseconds and are
not in the sum.

The pipeline child (``benchmarks.end_to_end_runs --pipeline``) wraps a few FnApiRunner
methods with timers, which gives the profile behind the wall time: imports, graph build,
time per fused stage, shutdown.

Parallel efficiency = serial time on one core / (2 cores x pipeline wall time). Pinning the
serial run to one core matters: its encoders and decoders would otherwise use both cores,
and the sum would no longer be the one-core work that 2 workers should split.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from benchmarks.common import (
    Context,
    ProcessTreeSampler,
    Result,
    Run,
    child_json,
    med_cpu,
    med_wall,
    median,
    python_module_cmd,
    repo_env,
    samples,
)

NAME = "end_to_end"
TARGET = (
    "ratio >= 0.45 quick, >= 0.85 full (parallel efficiency: serial 1-core s / (2 x pipeline s))"
)
GOAL = {"quick": 0.45, "full": 0.85}  # 0.45: what 3 s of fixed cost leaves at the quick size
WORKERS = 2


def pipeline_args(corpus: Path, output: Path, render_chunk_s: str) -> list[str]:
    return [
        "--input",
        str(corpus),
        "--output",
        str(output),
        "--render_chunk_s",
        render_chunk_s,
        "--runner=DirectRunner",
        f"--direct_num_workers={WORKERS}",
    ]


def run_pipeline(corpus: Path, output: Path, render_chunk_s: str) -> Run:
    """One pipeline run in a child (``--pipeline``), sampled for CPU and memory."""
    cmd = python_module_cmd(
        "benchmarks.end_to_end_runs", "--pipeline", *pipeline_args(corpus, output, render_chunk_s)
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=repo_env(),
    )
    with ProcessTreeSampler(proc.pid) as sampler:
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    lines = out.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"pipeline exited with {proc.returncode}: {err.strip()[-2000:]}")
    report = json.loads(lines[-1])
    if report["exit_code"] != 0:
        raise RuntimeError(f"pipeline exit code {report['exit_code']}: {err.strip()[-2000:]}")
    report.update(
        summary=lines[-2] if len(lines) > 1 else "",
        peak_tree_rss=sampler.peak_tree_rss,
        peak_process_rss=sampler.peak_process_rss,
        processes=sampler.max_processes,
    )
    return Run(wall, sampler.cpu_s, report)


def short_stage_name(fused: str) -> str:
    """A readable name for a fused stage: its DoFns (``ProbeFileFn+DetectChunkFn``), else its
    first transform (``FindVideos``)."""
    fns = re.findall(r"ParDo-(_?[A-Za-z]+?Fn)[-_)]", fused)
    if fns:
        return "+".join(dict.fromkeys(fns))
    first = re.search(r"ref_AppliedPTransform_([A-Za-z]+)|\(+([A-Za-z]+)/", fused)
    return next(g for g in first.groups() if g) if first else fused[:40]


# Fused pipeline stages (by their DoFns) -> the serial stages doing the same work.
SERIAL_OF = {
    "_MatchFn": (),
    "ProbeFileFn": ("probe",),
    "DetectChunkFn": ("detect",),
    "SafeMapFn": ("merge",),
    "RenderVideoFn": ("render_ladder", "thumbnails", "preview", "highlights"),
    "EncodeChunkFn": ("render_chunks",),
    "JoinFn": ("join",),
}


# Serial stages of one video's whole-video kinds (one RenderVideoFn element each).
RENDER_JOB = ("render_ladder", "thumbnails", "preview", "highlights")


def _serial_of(label: str, stage_sums: dict[str, float]) -> float:
    return sum(stage_sums.get(key, 0.0) for key in SERIAL_OF[label])


def stage_profile(stages: dict[str, float]) -> list[tuple[str, float]]:
    """Seconds per fused stage under its short name, largest first."""
    merged: dict[str, float] = {}
    for name, secs in stages.items():
        label = short_stage_name(name)
        merged[label] = merged.get(label, 0.0) + secs
    return sorted(merged.items(), key=lambda kv: -kv[1])


def run(ctx: Context) -> Result:
    from benchmarks import media_cache

    corpus = media_cache.mixed_corpus(ctx.suite)
    render_chunk_s = "auto"  # sized for the WORKERS workers, as a user's run would be
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and not p.name.startswith("."))
    video_s = sum(media_cache.media_seconds(p) for p in files)
    repeats = 1 if ctx.quick else ctx.repeats
    fixed = None
    if not ctx.quick:
        empty = ctx.scratch(f"{NAME}_empty_input")
        fixed = run_pipeline(empty, ctx.scratch(f"{NAME}_empty_output"), render_chunk_s)

    pipe_runs: list[Run] = []
    serial_runs: list[Run] = []
    serial_reports: list[dict] = []

    def pipe(index: int) -> None:
        out = ctx.scratch(f"{NAME}_pipeline_{index}")
        pipe_runs.append(run_pipeline(corpus, out, render_chunk_s))

    def serial(index: int) -> None:
        out = ctx.scratch(f"{NAME}_serial_{index}")
        cmd = python_module_cmd(
            "benchmarks.end_to_end_runs",
            "--serial",
            "--input",
            str(corpus),
            "--output",
            str(out),
            "--render_chunk_s",
            render_chunk_s,
            "--workers",
            str(WORKERS),
        )
        report, run_ = child_json(cmd, env=repo_env())
        serial_reports.append(report)
        serial_runs.append(run_)

    for index in range(repeats):
        for fn in (pipe, serial) if index % 2 == 0 else (serial, pipe):
            fn(index)

    ours_s = med_wall(pipe_runs)
    stage_sums = {
        key: median([r["stages"].get(key, 0.0) for r in serial_reports])
        for key in serial_reports[0]["stages"]
    }
    serial_s = sum(stage_sums.values())
    efficiency = serial_s / (WORKERS * ours_s)
    met = efficiency >= GOAL[ctx.suite]
    last = pipe_runs[-1].value
    top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(stage_sums.items(), key=lambda kv: -kv[1]))
    by_fn = stage_profile(last["stages"])
    side = ", ".join(
        f"{label} {secs:.1f}"
        + (f" (serial {_serial_of(label, stage_sums):.1f})" if label in SERIAL_OF else "")
        for label, secs in by_fn
        if secs >= 0.5
    )
    small = [secs for _, secs in by_fn if secs < 0.5]
    work = sum(secs for label, secs in by_fn if label in SERIAL_OF and label != "_MatchFn")
    notes = [
        f"Corpus: {len(files)} files, {video_s:.0f} s of video "
        + (
            "(quick: 2 files of the make-run sample; full: the whole sample + 2 min 720p30 "
            "+ 1 min 1080p30)"
            if ctx.quick
            else "(the make-run sample + 2 min 720p30 + 1 min 1080p30)"
        )
        + f"; --render_chunk_s {render_chunk_s} ({WORKERS} workers); '{last['summary'].split(';')[0]}'.",
        f"Serial stages on 1 core, s: {top} (sum {serial_s:.1f}).",
        f"Pipeline profile, s (last run, wall {pipe_runs[-1].wall_s:.1f}): import "
        f"{last['import_s']:.1f}, graph build {last['build_s']:.1f}, fused stages: {side}, "
        f"{len(small)} others {sum(small):.1f}; worker shutdown {last['close_s']:.1f}. "
        f"CPU {pipe_runs[-1].cpu_s:.0f} s over {last['processes']} processes (serial: "
        f"{med_cpu(serial_runs):.0f} s); peak RSS of the process tree "
        f"{last['peak_tree_rss'] / 2**30:.2f} GiB.",
    ]
    if fixed is not None:
        net = serial_s / (WORKERS * max(ours_s - fixed.wall_s, 1e-6))
        notes.append(
            f"A run with no input takes {fixed.wall_s:.1f} s (the fixed cost); efficiency net "
            f"of it {net:.2f}."
        )
    # One element per whole-video kind of one video: the largest bounds the render stages.
    elements = {
        f"{name} {key}": secs
        for name, per_stage in serial_reports[-1]["per_file"].items()
        for key, secs in per_stage.items()
        if key in RENDER_JOB
    }
    biggest = max(elements, key=elements.get) if elements else None
    render_wall = dict(by_fn).get("RenderVideoFn", 0.0)
    if biggest is not None:
        notes.append(
            f"The largest render element ({biggest}, one whole-video kind of one video) is "
            f"{elements[biggest]:.1f} s of 1-core work, and all of them "
            f"{sum(elements.values()):.1f} s, against {render_wall:.1f} s of wall for the "
            f"render stages on {WORKERS} workers."
        )
    if not met:
        fixed_s = (
            last["import_s"] + last["build_s"] + last["close_s"] + dict(by_fn).get("_MatchFn", 0.0)
        )
        probe_stage = dict(by_fn).get("ProbeFileFn", 0.0)
        notes.append(
            f"Target missed. What bounds it: ~{fixed_s:.0f} s that do not grow with the corpus "
            "(imports, graph, the first stage (_MatchFn), shutdown) and "
            f"{probe_stage:.1f} s in the probe stage for milliseconds of probing: the "
            "workers' isolated DoFns wait for the fork server, which the launcher starts "
            "before it imports Beam and which imports Beam (FileSystems), PyAV and MediaPipe "
            "once so that every child after it starts in milliseconds; the detect child "
            "loads the pose model in setup() (the startup row breaks this down). Two Beam "
            f"imports in all (the launcher and its fork server) on 2 cores. Work stages: "
            f"{work:.1f} s of wall for {serial_s:.1f} s of 1-core work (below 2x speed-up: "
            "the workers' encoders and the other processes on this machine share its 2 "
            "cores). What moves the fixed part: more video per run (start-up amortised)."
        )
    details = {
        "files": [str(p.relative_to(corpus)) for p in files],
        "video_s": video_s,
        "fixed_cost_s": fixed.wall_s if fixed else None,
        "serial_stage_s": stage_sums,
        "serial_per_file_s": serial_reports[-1]["per_file"],
        "pipeline_profile": last,
        "serial": samples(serial_runs),
        "pipeline": samples(pipe_runs),
        "throughput": {
            "end_to_end pipeline (2 workers)": [video_s, med_cpu(pipe_runs)],
            "end_to_end stages (1 core)": [video_s, med_cpu(serial_runs)],
        },
    }
    note = ctx.busy_note()
    return Result(
        NAME, ours_s, serial_s, efficiency, TARGET, "s", " ".join(notes) + note, met, details
    )
