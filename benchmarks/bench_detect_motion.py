"""detect_motion: ``analyse_chunk`` over a 720p30 chunk set vs its two lower bounds.

Ours runs ``analyse_chunk`` on every chunk of the source (``chunks_of`` with the default
60 s chunks and 3 s lead-in) with the pose model and the person detector loaded as a
detect child loads them (``load_backend_in_child``, before timing, as a worker's
``setup()`` does) and the default ``DetectParams`` (5 samples/s, 640 px, the still-frame
gate on, the detector's 3x2 tiles and pose on its crops). The two baselines are the
halves it overlaps:

* decode only: ``iter_samples`` drained, i.e. the same seek and the same decoded frames,
  with no colour conversion and no inference;
* inference only: the same samples, converted beforehand (``to_rgb``), through fresh
  VIDEO-mode pose timelines per chunk and the person detector with pose on its crops
  (``PeopleFinder.find``), exactly the inference ours does.

The target is ours <= 1.1x the larger of the two: decoding and pose overlap well.
"""

from __future__ import annotations

import os
import time

from benchmarks import media_cache
from benchmarks.bench_proxy_encode import probe_of
from benchmarks.common import (
    Context,
    Result,
    med_cpu,
    med_wall,
    median,
    samples,
    timed,
)
from transforms.chunk_analysis import (
    DetectParams,
    analyse_chunk,
    close_models,
    load_backend_in_child,
)
from transforms.chunks import chunks_of
from transforms.media.open import open_input
from transforms.media.sampling import analysis_size, iter_samples, to_rgb
from transforms.pose_backends import MediaPipeBackend

NAME = "detect_motion"
TARGET = "ratio <= 1.1 (ours s / max(decode-only s, inference-only s), person detector in)"
CHUNK_S = 60.0
OVERLAP_S = 3.0


class _RecordingBackend:
    """A ``PoseBackend`` around the real one that records what ours asks of MediaPipe.

    Per timeline, the timestamps of the frames passed to ``detect`` (the still-frame gate
    skips the others); and the seconds spent creating timelines and inside ``detect``, the
    profile of ours (two ``perf_counter`` calls per frame: negligible).
    """

    def __init__(self, backend: MediaPipeBackend):
        self.name = backend.name
        self._backend = backend
        self.stamps: list[set[int]] = []
        self.create_s = 0.0
        self.detect_s = 0.0

    def timeline(self):
        start = time.perf_counter()
        inner = self._backend.timeline()
        self.create_s += time.perf_counter() - start
        stamps: set[int] = set()
        self.stamps.append(stamps)
        outer = self

        class _Timeline:
            def detect(self, rgb, timestamp_ms: int):
                stamps.add(int(timestamp_ms))
                start = time.perf_counter()
                try:
                    return inner.detect(rgb, timestamp_ms)
                finally:
                    outer.detect_s += time.perf_counter() - start

            def close(self) -> None:
                inner.close()

        return _Timeline()

    def close(self) -> None:
        pass


class _TimedFinder:
    """The person detector (``PeopleFinder``), timed the way ``_RecordingBackend`` times pose."""

    def __init__(self, finder):
        self._finder = finder
        self.find_s = 0.0

    def find(self, rgb, whole_frame_poses):
        start = time.perf_counter()
        try:
            return self._finder.find(rgb, whole_frame_poses)
        finally:
            self.find_s += time.perf_counter() - start


def run(ctx: Context) -> Result:
    seconds = 12 if ctx.quick else 300
    chunk_s = 6.0 if ctx.quick else CHUNK_S
    src = media_cache.looped_source(720, seconds)
    probe = probe_of(src)
    chunks = chunks_of(probe, chunk_s, OVERLAP_S)
    params = DetectParams()
    models: dict = {}
    load_backend_in_child(models, None, "mediapipe-cpu", params)
    backend, finder = models["backend"], models["finder"]
    size = analysis_size(
        probe.width, probe.height, probe.sample_aspect_ratio, probe.rotation_deg, params.max_side
    )

    profiles: list[tuple[_RecordingBackend, _TimedFinder]] = []

    def ours():
        timed_backend, timed_finder = _RecordingBackend(backend), _TimedFinder(finder)
        profiles.append((timed_backend, timed_finder))
        results = []
        for chunk in chunks:
            with open_input(chunk.uri) as container:
                results.append(analyse_chunk(container, chunk, timed_backend, params, timed_finder))
        return results

    def decode_only():
        count = 0
        for chunk in chunks:
            with open_input(chunk.uri) as container:
                count += sum(1 for _ in iter_samples(container, chunk, params.pose_fps))
        return count

    # The frames ours hands to MediaPipe (the still-frame gate skips the others), recorded
    # in an untimed run and converted once, so the inference-only baseline does the same inference work.
    recorder = _RecordingBackend(backend)
    for chunk in chunks:
        with open_input(chunk.uri) as container:
            analyse_chunk(container, chunk, recorder, params, finder)
    frames = []  # per chunk: [(timestamp ms, rgb)]
    for chunk, wanted in zip(chunks, recorder.stamps, strict=True):
        with open_input(chunk.uri) as container:
            frames.append(
                [
                    (stamp, to_rgb(s.frame, size, chunk.rotation_deg))
                    for s in iter_samples(container, chunk, params.pose_fps)
                    if (stamp := int(round(s.time_s * 1000))) in wanted
                ]
            )

    alone_create: list[float] = []

    def pose_only():
        people = 0
        create = 0.0
        for chunk_frames in frames:
            start = time.perf_counter()
            timeline = backend.timeline()
            create += time.perf_counter() - start
            try:
                for stamp, rgb in chunk_frames:
                    poses = timeline.detect(rgb, stamp)
                    people += len(poses) + len(finder.find(rgb, poses).poses)
            finally:
                timeline.close()
        alone_create.append(create)
        return people

    runs: dict[str, list] = {"ours": [], "decode": [], "pose": []}
    order = [("ours", ours), ("decode", decode_only), ("pose", pose_only)]
    for index in range(ctx.repeats):
        turn = order[index % 3 :] + order[: index % 3]
        for key, fn in turn:
            runs[key].append(timed(fn))
    close_models(models)

    ours_s = med_wall(runs["ours"])
    decode_s, pose_s = med_wall(runs["decode"]), med_wall(runs["pose"])
    bound = max(decode_s, pose_s)
    ratio = ours_s / bound
    met = ratio <= 1.1
    motion = runs["ours"][-1].value
    sampled = runs["decode"][-1].value
    posed = sum(len(c) for c in frames)
    owned = sum(len(m.times_s) for m in motion)
    gated = sum(m.frames_gated for m in motion)
    ctx.metrics["detect_720p_s_per_media_s"] = ours_s / seconds
    notes = [
        f"Source: {seconds} s 720p30 ({'quick; the issue size is 5 minutes' if ctx.quick else '5 minutes'}"
        f"), {len(chunks)} chunks of {chunk_s:.0f} s + {OVERLAP_S:.0f} s lead-in, "
        f"{params.pose_fps:g} samples/s at {size[0]}x{size[1]}: {sampled} samples "
        f"({owned} owned); the still-frame gate skipped {gated} owned samples, so MediaPipe ran "
        f"on {posed} (the inference-only baseline runs on exactly those frames).",
        f"decode-only {decode_s:.2f} s, inference-only (detector + pose) {pose_s:.2f} s, ours {ours_s:.2f} s "
        f"(sum of the two {decode_s + pose_s:.2f} s); CPU s ours {med_cpu(runs['ours']):.1f}, "
        f"decode {med_cpu(runs['decode']):.1f}, pose {med_cpu(runs['pose']):.1f}.",
    ]
    ours_cpu = med_cpu(runs["ours"])
    halves_cpu = med_cpu(runs["decode"]) + med_cpu(runs["pose"])
    inside = median([pose.detect_s + people.find_s for pose, people in profiles])
    create = median([pose.create_s for pose, _ in profiles])
    waited = ours_s - inside - create
    inside_ms = 1000 * inside / max(posed, 1)
    alone_ms = 1000 * (pose_s - median(alone_create)) / max(posed, 1)
    notes.append(
        f"Profile of ours: inference (pose + detector) {inside:.2f} s ({inside_ms:.0f} ms/frame "
        f"vs {alone_ms:.0f} "
        f"alone), timeline set-up {create:.2f} s, the "
        f"main thread waiting for decoded frames or scoring {waited:.2f} s; ours keeps "
        f"{ours_cpu / ours_s:.2f} of {os.cpu_count()} cores busy and spends {ours_cpu:.1f} CPU s "
        f"vs {halves_cpu:.1f} for the two halves apart."
    )
    if not met:
        floor = max(decode_s, pose_s, ours_cpu / (os.cpu_count() or 1))
        causes = []
        if ctx.others_cores() >= 0.25:
            causes.append(
                "Other processes took cores while this ran, so ours could not overlap fully: "
                "rerun on an idle machine before reading this as a regression."
            )
        if inside_ms > alone_ms * 1.05:
            causes.append(
                f"Each frame's inference is {100 * (inside_ms / alone_ms - 1):.0f}% slower inside "
                "ours than alone: the decoder's frame threads and the prefetch thread (gate, RGB "
                "conversion) compete with it for the cores."
            )
        if waited > 0.05 * ours_s:
            causes.append(
                f"The main thread waits {waited:.2f} s for frames: each chunk starts with a seek "
                "and a decode up to its first sample, and the still-frame gate makes the work "
                "bursty (runs of gated samples leave MediaPipe idle while the decoder works; runs "
                "of posed samples fill the 6-deep prefetch queue and stall the decoder)."
            )
        notes.append(
            f"Target missed. Ours' floor on {os.cpu_count()} free cores is {floor:.2f} s "
            f"({floor / bound:.2f}x the larger half): the larger half, or its own CPU spread "
            "over the cores. "
            + " ".join(causes)
            + " What moves it: a deeper prefetch queue (30 instead of 6 measured ~7% faster on "
            "60 s of this footage), decoding fewer frames between samples (skip non-reference "
            "frames when --pose_fps is far below the source rate), more cores, or hardware "
            "decode."
        )
    details = {
        "source_s": seconds,
        "chunks": len(chunks),
        "samples": sampled,
        "posed": posed,
        "frames_gated": gated,
        "ours": samples(runs["ours"]),
        "decode_only": samples(runs["decode"]),
        "pose_only": samples(runs["pose"]),
        "throughput": {
            "detect (ours)": [float(seconds), med_cpu(runs["ours"])],
            "detect: decode only": [float(seconds), med_cpu(runs["decode"])],
            "detect: inference only": [float(seconds), med_cpu(runs["pose"])],
        },
    }
    note = ctx.busy_note()
    return Result(NAME, ours_s, bound, ratio, TARGET, "s", " ".join(notes) + note, met, details)
