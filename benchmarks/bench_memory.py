"""memory: peak RSS of a worker's process on each stage of a 1-hour 1080p30 source.

In the pipeline, every stage's work runs in an isolated child of the Beam worker
(``transforms.io.isolation.IsolatedWorker``: a process forked from a forkserver that has
preloaded reelbeam's modules), one call at a time. Here each stage runs the same way, in a
fresh ``IsolatedWorker`` child, does one unit of that stage's work on the 1-hour source
and reports its own ``VmHWM`` (peak resident set, the preloaded modules included):

* ``probe``: ``probe_video`` of the whole file (header, index, first frame);
* ``detect``: ``analyse_in_child`` of the source's last chunk (a seek to its end, the person
  detector and MediaPipe pose, as a detect child runs them);
* ``render_chunk``: ``encode_ladder_range`` of the last render chunk's start, to every rung
  ``rungs_for`` picks for a 1080p source (720p proxy, 1080p and 480p renditions);
* ``stills``: ``render_thumbnails`` and ``render_preview`` over the whole file;
* ``audio``: ``encode_audio`` of a 5-minute stereo 48 kHz track (the audio pass of a
  chunked render, its own element beside the frame ranges);
* ``join``: ``join_chunks`` of 12 five-minute 720p parts into the 1-hour proxy.

``quick`` uses a 10-minute source (2 parts to join) and shorter detect/render ranges.

``ours`` is the largest peak; the target is 1 GiB. The same runs time the per-chunk work
that the 10-hour projection uses.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks import media_cache
from benchmarks.common import (
    GIB,
    Context,
    Result,
    cpu_now,
    peak_rss_bytes,
)
from transforms.io.isolation import IsolatedWorker

NAME = "memory"
TARGET = "ratio <= 1.0 (peak RSS / 1 GiB)"
SOURCE_S = 3600
RENDER_CHUNK_S = 300.0
PART_SEED_S = 4.0


def join_parts() -> Path:
    """A 5-minute 720p proxy part (``encode_video_range`` of 4 s, looped by stream copy)."""
    from transforms.encoding.chunked import encode_video_range
    from transforms.encoding.settings import EncodeSettings

    cache = media_cache.cache_dir()
    seed = cache / f"part_720p_{int(PART_SEED_S)}s_r{media_cache.RECIPE}.mp4"
    if not seed.is_file():
        src = media_cache.looped_source(1080, 60)
        tmp = seed.with_name(f".{seed.stem}.tmp.mp4")
        encode_video_range(str(src), str(tmp), 720, EncodeSettings(), 0.0, PART_SEED_S)
        tmp.replace(seed)
    name = f"part_720p_{int(RENDER_CHUNK_S)}s_r{media_cache.RECIPE}.mp4"
    return media_cache.loop_copy(seed, cache / name, RENDER_CHUNK_S)


def _stage(stage: str, src: str, out: str, arg: float) -> dict:
    """Run one stage's unit of work in this process; returns what it did."""
    from transforms.chunk_analysis import DetectParams, analyse_in_child, load_backend_in_child
    from transforms.chunks import chunks_of
    from transforms.encoding.chunked import join_chunks, keyframe_times, plan_render_chunks
    from transforms.encoding.ladder import encode_ladder_range
    from transforms.encoding.settings import EncodeSettings
    from transforms.media.probe import probe_video
    from transforms.records import FoundFile
    from transforms.render.jobs import RenderJob, RenderParams, rungs_for
    from transforms.render.work import render_preview, render_thumbnails

    path = Path(src)
    stat = path.stat()
    found = FoundFile(src, stat.st_size, stat.st_mtime, "memory")
    cpu0, t0 = cpu_now(), time.perf_counter()
    media_s = 0.0
    if stage == "probe":
        probe_video(found)
        media_s = 0.0
    elif stage == "detect":
        probe = probe_video(found)
        # The last full-length chunk: the very last one is the source's remainder (a loop
        # ends on a keyframe past the hour), whose seek and lead-in would be priced per 1 s.
        chunk = [c for c in chunks_of(probe, arg, 3.0) if c.end_s - c.start_s >= arg - 1e-6][-1]
        # As a detect child does it: the pose model and the person detector (the defaults).
        models: dict = {}
        load_backend_in_child(models, None, "mediapipe-cpu", DetectParams())
        cpu0, t0 = cpu_now(), time.perf_counter()  # model loading is per worker, not per chunk
        motion = analyse_in_child(models, chunk, None, "mediapipe-cpu", DetectParams())
        media_s = chunk.end_s - chunk.start_s
        assert motion.times_s, "no samples"
    elif stage == "render_chunk":
        probe = probe_video(found)
        rungs = rungs_for(probe, RenderParams())
        plan = plan_render_chunks(probe.duration_s, RENDER_CHUNK_S, keyframe_times(src))
        start = plan[-1][0]
        outputs = {h: str(Path(out) / f"{h}p.mp4") for h, _, _ in rungs}
        encode_ladder_range(src, outputs, EncodeSettings(), start, start + arg)
        media_s = arg
    elif stage == "stills":
        probe = probe_video(found)
        job = RenderJob(probe)
        render_thumbnails(job, out, RenderParams())
        render_preview(job, out, RenderParams())
    elif stage == "audio":
        from transforms.encoding.chunked import encode_audio

        media_s = encode_audio(src, str(Path(out) / "audio.m4a")) or 0.0
    elif stage == "join":
        parts = [src] * int(arg)
        info = join_chunks(parts, None, str(Path(out) / "joined.mp4"))
        media_s = info.duration_s
    else:
        raise ValueError(f"unknown stage {stage}")
    return {
        "stage": stage,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": cpu_now() - cpu0,
        "media_s": media_s,
        "vmhwm": peak_rss_bytes(),
    }


def _stage_in_child(state: dict, stage: str, src: str, out: str, arg: float) -> dict:
    """``IsolatedWorker`` entry point: one stage in a fresh child of reelbeam's forkserver."""
    return _stage(stage, src, out, arg)


def run(ctx: Context) -> Result:
    source_s = 600 if ctx.quick else SOURCE_S
    src = media_cache.looped_source(1080, source_s)
    part = join_parts()
    detect_s = 10.0 if ctx.quick else 60.0
    render_s = 2.0 if ctx.quick else 60.0
    stages = [
        ("probe", str(src), 0.0),
        ("detect", str(src), detect_s),
        ("render_chunk", str(src), render_s),
        ("stills", str(src), 0.0),
        ("audio", str(media_cache.audio_source(60 if ctx.quick else 300)), 0.0),
        ("join", str(part), source_s / RENDER_CHUNK_S),
    ]
    reports = {}
    for stage, path, arg in stages:
        out = ctx.scratch(f"{NAME}_{stage}")
        # A new IsolatedWorker per stage: a new child, forked from the same forkserver that
        # preloaded reelbeam's modules, exactly as a Beam worker's isolated children are.
        worker = IsolatedWorker(f"bench-memory-{stage}")
        try:
            reports[stage] = worker.call(_stage_in_child, (stage, path, str(out), arg), 3600.0)
        finally:
            worker.close()
    peaks = {k: v["vmhwm"] / GIB for k, v in reports.items()}
    worst = max(peaks, key=peaks.get)
    ours = peaks[worst]
    ratio = ours / 1.0
    met = ratio <= 1.0
    ctx.metrics.update(
        probe_long_s=reports["probe"]["wall_s"],
        detect_1080p_s_per_media_s=reports["detect"]["wall_s"] / reports["detect"]["media_s"],
        render_1080p_s_per_media_s=reports["render_chunk"]["wall_s"] / render_s,
        join_s_per_media_s=reports["join"]["wall_s"] / reports["join"]["media_s"],
        stills_s=reports["stills"]["wall_s"],
        audio_s_per_media_s=reports["audio"]["wall_s"] / reports["audio"]["media_s"],
        detect_measured_s=detect_s,
        render_measured_s=render_s,
    )
    breakdown = ", ".join(
        f"{k} {1024 * v:.0f} MiB ({reports[k]['wall_s']:.1f} s)" for k, v in peaks.items()
    )
    notes = [
        f"Source: {source_s / 60:.0f} min 1080p30 (stream-copy loop"
        + ("; quick: the issue size is 1 hour" if ctx.quick else "")
        + f"). Work per stage: detect the last {detect_s:.0f} s chunk, render "
        f"{render_s:.0f} s from the last 5-minute render chunk's start to 1080/720/480p"
        + (" (quick: short ranges; the peaks are reached within seconds)" if ctx.quick else "")
        + f", join {source_s / RENDER_CHUNK_S:.0f} x 5-minute 720p parts.",
        f"Peak RSS per stage process: {breakdown}; largest: {worst}.",
        f"If all five isolated children of one worker sat at their peaks at once: "
        f"{sum(peaks.values()):.2f} GiB (an upper bound; a worker runs one call per child).",
    ]
    if not met:
        notes.append(f"Target missed by the {worst} stage; see details for its CPU and wall time.")
    details = {
        "stages": reports,
        "throughput": {
            "detect 1080p chunk": [reports["detect"]["media_s"], reports["detect"]["cpu_s"]],
            "render chunk, 3 rungs": [render_s, reports["render_chunk"]["cpu_s"]],
            "join (stream copy)": [reports["join"]["media_s"], reports["join"]["cpu_s"]],
        },
    }
    note = ctx.busy_note()
    return Result(NAME, ours, None, ratio, TARGET, "GiB", " ".join(notes) + note, met, details)
