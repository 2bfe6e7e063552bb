"""The 10-hour projection: a 10-hour 1080p30 source on N workers, from measured throughputs.

Model: each worker is a 2-core machine like this one and runs one element at a time at
the speed the memory benchmark measured for that element (one isolated child, 2 cores).
Once the source is probed, three kinds of elements are ready together and share the
workers, because none waits for another (``transforms.render_videos``): the 600 detect
chunks of 60 s; the proxy and ladder's render chunks, sized by ``--render_chunk_s auto``
for N workers (``transforms.render.auto_chunks``), to the three 1080p rungs; and the
audio pass (the whole source's audio track, one element). They are placed by greedy
list scheduling, each on the worker free first, in two orders (render first, detect
first), and the worse is kept: no runner promises an order. After them: the stills and
the reel once the detection ends, and the join (three rungs by stream copy, measured
per media second) once the render chunks and the audio pass end. Worker start-up,
autoscaling and GCS transfer are not modelled.
"""

from __future__ import annotations

import heapq
import math

from transforms.render.auto_chunks import AUTO, chunk_seconds

PROJECT_S = 10 * 3600.0
DETECT_CHUNK_S = 60.0
RUNGS = 3  # 720p proxy, 1080p and 480p renditions
PROJECT_WORKERS = (1, 2, 4, 8, 16, 32, 64, 128, 600)
GOAL_WORKERS, GOAL_WALL_S = 128, 300.0  # proxied and analysed in 5 minutes on 128 workers


def schedule(tasks: list[tuple[str, float]], workers: int) -> dict[str, float]:
    """When the last task of each kind ends, each task given in order to the worker free first."""
    free = [0.0] * workers
    ends: dict[str, float] = {}
    for kind, secs in tasks:
        end = heapq.heappop(free) + secs
        heapq.heappush(free, end)
        ends[kind] = max(ends.get(kind, 0.0), end)
    return ends


def _row(workers: int, t_detect: float, render_rate: float, t_audio: float, after: dict) -> dict:
    chunk_s = chunk_seconds(PROJECT_S, AUTO, workers, audio=True)  # one worker: the audio pass
    n_render = math.ceil(PROJECT_S / chunk_s - 1e-9)
    detect = [("detect", t_detect)] * math.ceil(PROJECT_S / DETECT_CHUNK_S)
    # PlanChunksFn emits the audio pass before the frame ranges.
    render = [("audio", t_audio)] + [("render", render_rate * chunk_s)] * n_render
    worst = None
    for tasks in (render + detect, detect + render):
        ends = schedule(tasks, workers)
        wall = after["probe"] + max(
            ends["detect"] + after["stills"], max(ends["render"], ends["audio"]) + after["join"]
        )
        if worst is None or wall > worst["wall_s"]:
            worst = {"detect_s": ends["detect"], "render_s": max(ends["render"], ends["audio"])}
            worst["wall_s"] = wall
    return {
        "workers": workers,
        "render_chunk_s": chunk_s,
        "render_chunks": n_render,
        "join_s": after["join"],
        **worst,
    }


def projection(metrics: dict[str, float]) -> dict | None:
    """The projection's rows from the benchmarks' metrics; None when a throughput is missing."""
    detect = metrics.get("detect_1080p_s_per_media_s")
    render = metrics.get("render_1080p_s_per_media_s")
    join = metrics.get("join_s_per_media_s", metrics.get("chunk_encode_join_s_per_media_s"))
    audio = metrics.get("audio_s_per_media_s")
    if detect is None or render is None or join is None or audio is None:
        return None
    after = {
        "probe": metrics.get("probe_long_s", 0.5),
        "stills": metrics.get("stills_s", 0.0),
        "join": join * PROJECT_S * RUNGS,
    }
    t_detect = detect * DETECT_CHUNK_S
    t_audio = audio * PROJECT_S
    rows = [_row(w, t_detect, render, t_audio, after) for w in PROJECT_WORKERS]
    at = next(r for r in rows if r["workers"] == GOAL_WORKERS)
    return {
        "source_s": PROJECT_S,
        "detect_chunks": math.ceil(PROJECT_S / DETECT_CHUNK_S),
        "detect_chunk_s": t_detect,
        "audio_pass_s": t_audio,
        "join_s": after["join"],
        "stills_s": after["stills"],
        "probe_s": after["probe"],
        "goal_workers": GOAL_WORKERS,
        "goal_wall_s": at["wall_s"],
        "goal_met": at["wall_s"] <= GOAL_WALL_S,
        "measured_from": (
            f"detect: {metrics.get('detect_measured_s', 0):.0f} s of a 1080p chunk with the "
            f"person detector, render: {metrics.get('render_measured_s', 0):.0f} s to 3 rungs, "
            "join: a 720p rung, audio: a stereo 48 kHz track"
        ),
        "rows": rows,
    }


def hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def describe(proj: dict) -> str:
    """The paragraph above the projection's table."""
    goal = "met" if proj["goal_met"] else "NOT met"
    return (
        f"Projection: a 10-hour 1080p30 source on N workers (2 cores each, like this one), "
        f"--render_chunk_s auto: {proj['detect_chunks']} detect chunks of "
        f"{proj['detect_chunk_s']:.0f} s each, render chunks sized per N and an audio pass of "
        f"{proj['audio_pass_s']:.0f} s share the workers (greedy, the worse of two orders); "
        f"then the join {proj['join_s']:.0f} s and the stills {proj['stills_s']:.0f} s. "
        f"Per-element times from the memory benchmark ({proj['measured_from']}; short "
        "ranges, as in quick, overstate the per-second cost of start-up and flush). Goal: "
        f"under {hms(GOAL_WALL_S)} on {proj['goal_workers']} workers: {goal} "
        f"({hms(proj['goal_wall_s'])})."
    )


def rows_table(proj: dict) -> tuple[list[list[str]], list[str]]:
    """The projection's table: its rows and header."""
    rows = [
        [
            str(r["workers"]),
            f"{r['render_chunk_s']:.0f} s x {r['render_chunks']}",
            hms(r["detect_s"]),
            hms(r["render_s"]),
            hms(r["join_s"]),
            hms(r["wall_s"]),
        ]
        for r in proj["rows"]
    ]
    header = ["workers", "render chunks", "detect ends", "render ends", "join", "wall (h:mm:ss)"]
    return rows, header
