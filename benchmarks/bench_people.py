"""people: the person detector's cost per analysed frame, against the pose-only path.

Two 768x576 10 fps clips made here from the pinned dance footage: *nobody* (the room
without the dancer: a still frame of the background with camera noise) and *six small
people* (six copies of the dancer, about 100 px tall, in a 3x2 grid). Each is analysed by
``analyse_chunk`` with the default settings but the still-frame gate off (every sample is
analysed), once with ``--people_detector none`` (today's pose-only path) and once with
``ssd`` (the detector
on the whole frame and a 3x2 grid of tiles, pose on a crop of each person the whole-frame
pose missed). The figure of merit is the end-to-end ratio for *six small people*: ours
over the larger of decoding alone and detector + pose alone (the same frames converted
beforehand), as for ``detect_motion``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import av
import numpy as np
from PIL import Image

from benchmarks import media_cache
from benchmarks.common import Context, Result, med_cpu, samples, timed
from transforms.chunk_analysis import DetectParams, analyse_chunk, load_backend_in_child
from transforms.chunks import chunks_of
from transforms.media.open import open_input
from transforms.media.probe import probe_video
from transforms.media.sampling import analysis_size, iter_samples, to_rgb
from transforms.people.finder import PeopleParams
from transforms.records import FoundFile

NAME = "people"
TARGET = "ratio <= 1.1 (ours s / max(decode-only s, detector+pose-only s), six small people)"
WIDTH, HEIGHT, FPS = 768, 576, 10


def _write(path: Path, frames) -> Path:
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    return path


def _dance_frames() -> list[np.ndarray]:
    with av.open(str(media_cache.shared_clip("dance.mp4"))) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def make_clips(seconds: float) -> tuple[Path, Path]:
    """(nobody, six small people) clips in the benchmark cache, made once."""
    folder = media_cache.cache_dir()
    nobody = folder / f"people_nobody_{seconds:g}s.mp4"
    six = folder / f"people_six_{seconds:g}s.mp4"
    count = int(seconds * FPS)
    dance = None
    if not six.exists():
        dance = _dance_frames()
        cell_w, cell_h = WIDTH // 3, HEIGHT // 2
        cells = []
        for rgb in dance:
            small = Image.fromarray(rgb).resize((cell_w, int(cell_w * rgb.shape[0] / rgb.shape[1])))
            cells.append(np.asarray(small))
        frames = []
        for k in range(count):
            canvas = np.full((HEIGHT, WIDTH, 3), 96, dtype=np.uint8)
            for i in range(6):
                cell = cells[(k + 7 * i) % len(cells)]
                x0, y0 = (i % 3) * cell_w, (i // 3) * cell_h + (cell_h - cell.shape[0]) // 2
                canvas[y0 : y0 + cell.shape[0], x0 : x0 + cell_w] = cell
            frames.append(canvas)
        _write(six, frames)
    if not nobody.exists():
        dance = dance or _dance_frames()
        room = np.asarray(Image.fromarray(dance[-1]).resize((WIDTH, HEIGHT)))
        rng = np.random.default_rng(0)
        # Camera noise: enough that the still-frame gate analyses every frame.
        frames = [
            np.clip(room + rng.normal(0, 4, room.shape), 0, 255).astype(np.uint8)
            for _ in range(count)
        ]
        _write(nobody, frames)
    return nobody, six


def _analyse(path: Path, state: dict, params: DetectParams) -> int:
    probe = probe_video(FoundFile(str(path), path.stat().st_size, None, path.stem))
    analysed = 0
    for chunk in chunks_of(probe, 60.0, 3.0):
        with open_input(str(path)) as container:
            result = analyse_chunk(container, chunk, state["backend"], params, state["finder"])
        analysed += len(result.times_s) - result.frames_gated
    return analysed


def _decode_only(path: Path, params: DetectParams) -> int:
    probe = probe_video(FoundFile(str(path), path.stat().st_size, None, path.stem))
    count = 0
    for chunk in chunks_of(probe, 60.0, 3.0):
        with open_input(str(path)) as container:
            count += sum(1 for _ in iter_samples(container, chunk, params.pose_fps))
    return count


def _frames(path: Path, params: DetectParams) -> list[np.ndarray]:
    probe = probe_video(FoundFile(str(path), path.stat().st_size, None, path.stem))
    size = analysis_size(WIDTH, HEIGHT, "1:1", 0, params.max_side)
    out = []
    for chunk in chunks_of(probe, 60.0, 3.0):
        with open_input(str(path)) as container:
            out.extend(
                to_rgb(s.frame, size, 0) for s in iter_samples(container, chunk, params.pose_fps)
            )
    return out


def _models_only(frames: list[np.ndarray], state: dict) -> int:
    timeline = state["backend"].timeline()
    try:
        for k, rgb in enumerate(frames):
            poses = timeline.detect(rgb, 200 * k)
            if state["finder"] is not None:
                state["finder"].find(rgb, poses)
    finally:
        timeline.close()
    return len(frames)


def run(ctx: Context) -> Result:
    seconds = 4.0 if ctx.quick else 12.0
    nobody, six = make_clips(seconds)
    # The gate off: every sample is analysed, so the cost is per analysed frame.
    ssd = DetectParams(gate_threshold=0.0, people=PeopleParams(detector="ssd"))
    none = DetectParams(gate_threshold=0.0, people=PeopleParams(detector="none"))
    states: dict[str, dict] = {"ssd": {}, "none": {}}
    load_backend_in_child(states["ssd"], None, "mediapipe-cpu", ssd)
    load_backend_in_child(states["none"], None, "mediapipe-cpu", none)
    per_frame: dict[str, float] = {}
    runs_of: dict[str, list] = {}
    try:
        for clip_name, path in (("nobody", nobody), ("six", six)):
            for mode, params in (("ssd", ssd), ("none", none)):
                runs = [
                    timed(functools.partial(_analyse, path, states[mode], params))
                    for _ in range(ctx.repeats)
                ]
                frames = runs[0].value
                per_frame[f"{clip_name}_{mode}_ms"] = round(1000 * med_cpu(runs) / frames, 1)
                runs_of[f"{clip_name}_{mode}"] = runs
        decode = [timed(lambda: _decode_only(six, ssd)) for _ in range(ctx.repeats)]
        frames = _frames(six, ssd)
        models = [timed(lambda: _models_only(frames, states["ssd"])) for _ in range(ctx.repeats)]
    finally:
        for state in states.values():
            for held in ("finder", "backend"):
                if state.get(held) is not None:
                    state[held].close()
    ours_s = med_cpu(runs_of["six_ssd"])
    bound_s = max(med_cpu(decode), med_cpu(models))
    ratio = ours_s / bound_s if bound_s else None
    cost = {
        clip: round(per_frame[f"{clip}_ssd_ms"] / per_frame[f"{clip}_none_ms"], 2)
        for clip in ("nobody", "six")
    }
    notes = (
        f"CPU per analysed frame, detector vs pose only: nobody {per_frame['nobody_ssd_ms']} ms "
        f"vs {per_frame['nobody_none_ms']} ms ({cost['nobody']}x); six small people "
        f"{per_frame['six_ssd_ms']} ms vs {per_frame['six_none_ms']} ms ({cost['six']}x). "
        f"End to end (six): {ours_s:.2f} s CPU vs decode alone {med_cpu(decode):.2f} s and "
        f"detector + pose alone {med_cpu(models):.2f} s ({seconds:g} s clips, 768x576 10 fps)."
    )
    return Result(
        NAME,
        ours_s,
        bound_s,
        ratio,
        TARGET,
        unit="s",
        notes=notes,
        met=None if ratio is None else ratio <= 1.1,
        details={
            "per_frame_cpu_ms": per_frame,
            "cost_vs_pose_only": cost,
            "six_ssd": samples(runs_of["six_ssd"]),
            "decode_only": samples(decode),
            "models_only": samples(models),
        },
    )
