"""The end_to_end benchmark's child processes: the instrumented pipeline and the serial baseline.

``python -m benchmarks.end_to_end_runs --pipeline ARGS`` runs ``pipelines.launcher.run(ARGS)``
with timers around FnApiRunner methods; ``python -m benchmarks.end_to_end_runs --serial ...``
runs every stage's functions one after another on one core. Each prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# --------------------------------------------------------------------------------------------
# The pipeline, instrumented (a child process)
# --------------------------------------------------------------------------------------------


def instrumented_pipeline(argv: list[str]) -> dict:
    """``pipelines.launcher.run(argv)``, timing imports, graph build, bundles and shutdown.

    The timing wraps FnApiRunner methods in this child only (no production code changes):
    ``_execute_bundle`` per fused stage and ``close_all`` (worker shutdown).
    """
    t0 = time.perf_counter()
    from pipelines.cli import start_fork_server_early

    start_fork_server_early(argv)  # as ``reelbeam`` does, before Beam is imported
    from apache_beam.runners.portability.fn_api_runner import fn_runner, worker_handlers

    from pipelines import builder, launcher

    report: dict = {"import_s": time.perf_counter() - t0, "stages": {}, "bundles": 0}

    def timed_method(owner, name: str, record):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                record(args, time.perf_counter() - start)

        setattr(owner, name, wrapper)

    def on_bundle(args, secs: float) -> None:
        stage = args[2].stage.name
        report["stages"][stage] = report["stages"].get(stage, 0.0) + secs
        report["bundles"] += 1

    def on_build(args, secs: float) -> None:
        report["build_s"] = report.get("build_s", 0.0) + secs

    def on_close(args, secs: float) -> None:
        report["close_s"] = report.get("close_s", 0.0) + secs

    timed_method(fn_runner.FnApiRunner, "_execute_bundle", on_bundle)
    timed_method(worker_handlers.WorkerHandlerManager, "close_all", on_close)
    timed_method(builder, "build_pipeline", on_build)
    launcher.build_pipeline = builder.build_pipeline
    report["exit_code"] = launcher.run(argv)
    report.setdefault("build_s", 0.0)
    report.setdefault("close_s", 0.0)
    return report


# --------------------------------------------------------------------------------------------
# The serial baseline (a child process pinned to one core)
# --------------------------------------------------------------------------------------------


def serial_stages(
    corpus: str, output: str, render_chunk_s: str, workers: int = 1
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Run every stage's functions over the corpus, one after another.

    Returns:
        Seconds per stage, and per input file (relative path) seconds per stage.
    """
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipelines.options import ReelbeamOptions
    from pipelines.run_config import run_config
    from transforms.artifacts import write_motion
    from transforms.chunk_analysis import analyse_in_child, close_models, load_backend_in_child
    from transforms.chunks import chunks_of
    from transforms.encoding.chunked import keyframe_times, plan_render_chunks
    from transforms.media.probe import probe_video
    from transforms.merge import merge_chunks
    from transforms.paths import is_wanted, make_video_id
    from transforms.records import FoundFile
    from transforms.render.auto_chunks import chunk_seconds
    from transforms.render.jobs import RenderChunk, RenderJob, rungs_for
    from transforms.render.work import (
        AUDIO_PART,
        encode_chunk_in_child,
        join_in_child,
        render_ladder_whole,
        render_preview,
        render_reel,
        render_thumbnails,
    )

    opts = PipelineOptions(
        ["--render_chunk_s", render_chunk_s, f"--direct_num_workers={workers}"]
    ).view_as(ReelbeamOptions)
    config = run_config(opts)
    seg = config.segment
    params = config.render
    extensions = config.find.extensions
    root = os.path.abspath(corpus)
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if is_wanted(path, extensions, root):
                stat = os.stat(path)
                found.append(
                    FoundFile(path, stat.st_size, stat.st_mtime, make_video_id(path, {}, None))
                )
    found.sort(key=lambda f: f.uri)
    times: dict[str, float] = {}
    per_file: dict[str, dict[str, float]] = {}
    current = {"file": ""}

    def clock(stage: str, fn, *args):
        t0 = time.perf_counter()
        value = fn(*args)
        secs = time.perf_counter() - t0
        times[stage] = times.get(stage, 0.0) + secs
        mine = per_file.setdefault(current["file"], {})
        mine[stage] = mine.get(stage, 0.0) + secs
        return value

    probes = [clock("probe", probe_video, f) for f in found]
    # The pipeline's detect work exactly: the pose model and the person detector, loaded
    # once, with the run's detect settings (the defaults: the detector on, its tiles).
    models: dict = {}
    backend = config.model.backend
    clock("detect", load_backend_in_child, models, config.model.pose_model, backend, config.detect)

    def analyse(chunk):
        return analyse_in_child(models, chunk, config.model.pose_model, backend, config.detect)

    for probe in probes:
        current["file"] = os.path.relpath(probe.uri, root)
        chunks = chunks_of(probe, opts.chunk_s, opts.chunk_overlap_s)
        motions = [clock("detect", analyse, c) for c in chunks]
        motion = clock("merge", merge_chunks, motions, seg, 1.0 / opts.pose_fps)
        clock(
            "merge",
            lambda m=motion: write_motion(m, output=output, params=seg, pose_fps=opts.pose_fps),
        )
        job = RenderJob(probe, tuple(motion.segments))
        rungs = tuple(rungs_for(probe, params))
        chunk_s = chunk_seconds(
            probe.duration_s, params.render_chunk_s, params.render_workers, probe.has_audio
        )
        if probe.duration_s > chunk_s and rungs:
            plan = clock(
                "render_chunks",
                lambda p=probe, c=chunk_s: plan_render_chunks(
                    p.duration_s, c, keyframe_times(p.uri)
                ),
            )
            parts: dict[int, list[str]] = {h: [] for h, _, _ in rungs}
            for i, (start, end) in enumerate(plan):
                last = i == len(plan) - 1
                chunk = RenderChunk(job, i, len(plan), start, None if last else end, rungs, "b")
                got = clock("render_chunks", encode_chunk_in_child, {}, chunk, output, params)
                for height, uri in got.items():
                    parts[height].append(uri)
            audio_uri = None
            if probe.has_audio:  # the audio pass, one element of its own in the pipeline
                chunk = RenderChunk(job, len(plan), len(plan), 0.0, None, (), "b", audio=True)
                got = clock("render_chunks", encode_chunk_in_child, {}, chunk, output, params)
                audio_uri = got.get(AUDIO_PART)
            clock("join", join_in_child, {}, job, parts, rungs, output, audio_uri)
        elif rungs:
            clock("render_ladder", render_ladder_whole, job, output, params)
        if "thumbnails" in params.kinds and params.thumbnails > 0:
            clock("thumbnails", render_thumbnails, job, output, params)
        if "preview" in params.kinds:
            clock("preview", render_preview, job, output, params)
        if "highlights" in params.kinds or "timeline" in params.kinds:
            clock("highlights", render_reel, job, output, params)
    close_models(models)
    per_file.pop("", None)
    return times, per_file


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--pipeline":
        report = instrumented_pipeline(argv[1:])
        print(json.dumps(report), flush=True)
        return 0
    parser = argparse.ArgumentParser(description="The end-to-end serial baseline (a child).")
    parser.add_argument("--serial", action="store_true", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--render_chunk_s", default="auto")
    parser.add_argument("--workers", type=int, default=1, help="workers auto chunks are sized for")
    parser.add_argument("--cpu", type=int, default=None, help="core to pin to (default: first)")
    args = parser.parse_args(argv)
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {args.cpu if args.cpu is not None else allowed[0]})
    t0 = time.perf_counter()
    stages, per_file = serial_stages(args.input, args.output, args.render_chunk_s, args.workers)
    report = {"stages": stages, "per_file": per_file, "wall_s": time.perf_counter() - t0}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
