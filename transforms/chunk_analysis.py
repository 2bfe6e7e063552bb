"""Analysing one chunk: pose on sampled, downscaled frames; a motion score per sample.

With ``--people_detector ssd`` a person detector also runs on each analysed frame and
its tiles, pose runs on crops of the people the whole-frame pose missed, and people
are tracked through the chunk so that each one's motion is against their own last pose.

The functions ``transforms.detect_motion`` runs in its isolated child process.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from transforms.errors import CorruptMediaError
from transforms.media.damage import DEFAULT_MAX_ERRORS, DecodeErrors
from transforms.media.open import open_input
from transforms.media.sampling import Sample, analysis_size, iter_samples, to_rgb
from transforms.media.streams import pick_video_stream
from transforms.people.detector import PersonDetector, default_detector_path
from transforms.people.finder import PeopleFinder, PeopleParams
from transforms.people.tracking import PersonTracker
from transforms.pose_backends import PoseBackend, default_model_path, make_backend, read_model
from transforms.records import Chunk, ChunkMotion

_END = object()
# Track ids are unique in a video: chunk index * this + the id within the chunk.
TRACK_IDS_PER_CHUNK = 100_000


@dataclass(frozen=True)
class DetectParams:
    """How chunks are analysed.

    Attributes:
        pose_fps: samples per second of video.
        max_side: longest side of the analysis frame in pixels.
        gate_threshold: largest absolute difference (0-255 grey levels) between a
            64x36 grey thumbnail of the sample and of the last analysed one, under which
            the sample counts as unchanged and skips pose inference (0 turns the gate
            off). The largest, not the mean: a small person moving changes a few thumbnail
            pixels a lot and the mean hardly at all. A frozen frame decodes identically
            (difference 0); live camera noise alone usually exceeds it, so the gate only
            fires on really still stretches.
        people: the person detector before pose (``PeopleParams``); it runs only where
            ``analyse_chunk`` is given a ``PeopleFinder``.
        max_decode_errors: damaged packets a chunk skips (its samples take the next frame
            that decodes) before it fails (-1: no limit).
    """

    pose_fps: float = 5.0
    max_side: int = 640
    gate_threshold: float = 4.0
    people: PeopleParams = PeopleParams()
    max_decode_errors: int = DEFAULT_MAX_ERRORS


def _prefetch(samples: Iterator[Sample], prepare, depth: int = 6) -> Iterator[Sample]:
    """Run decoding and colour conversion in a thread, overlapping with inference.

    PyAV and swscale release the GIL while they work, and so does MediaPipe.
    """
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for sample in samples:
                prepare(sample)
                while not stop.is_set():
                    try:
                        box.put(sample, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(exc)

    worker = threading.Thread(target=produce, name="reelbeam-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def analyse_chunk(
    container,
    chunk: Chunk,
    backend: PoseBackend,
    params: DetectParams,
    finder: PeopleFinder | None = None,
) -> ChunkMotion:
    """Scores of a chunk's owned samples (lead-in samples are context only).

    Args:
        container: the open input.
        chunk: the range to analyse.
        backend: the pose model.
        params: sampling, analysis size, the gate, the people settings.
        finder: the person detector and pose on crops (None: whole-frame pose only).

    Raises:
        CorruptMediaError: the chunk's range holds no decodable frame.
    """
    stream = pick_video_stream(container)
    size = analysis_size(
        stream.codec_context.width,
        stream.codec_context.height,
        chunk.sample_aspect_ratio,
        chunk.rotation_deg,
        params.max_side,
    )
    last_tiny: np.ndarray | None = None

    def gated(sample: Sample) -> bool:
        nonlocal last_tiny
        if (
            params.gate_threshold > 0
            and last_tiny is not None
            and int(np.abs(sample.tiny.astype(np.int16) - last_tiny).max()) < params.gate_threshold
        ):
            return True
        last_tiny = sample.tiny.astype(np.int16)
        return False

    def prepare(sample: Sample) -> None:
        # Runs on the decode thread: the gate decides there, so gated frames skip RGB.
        if not gated(sample):
            sample.rgb = to_rgb(sample.frame, size, chunk.rotation_deg)
        sample.frame = None  # release the decoded frame early

    times: list[float] = []
    scores: list[float] = []
    people: list[int] = []
    tracks: list[tuple[tuple[int, float], ...]] = []
    saved = dropped = 0
    prev_people: list[np.ndarray] | None = None
    # Memory only with the detector: pose-only scores stay exactly what they were.
    tracker = PersonTracker(memory_s=params.people.memory_s if finder is not None else 0.0)
    id_base = chunk.index * TRACK_IDS_PER_CHUNK
    timeline = backend.timeline()
    try:
        errors = DecodeErrors(params.max_decode_errors, source=chunk.uri)
        samples = iter_samples(container, chunk, params.pose_fps, errors)
        for sample in _prefetch(samples, prepare):
            if sample.rgb is None:
                current = prev_people if prev_people is not None else []
                saved += sample.owned
            else:
                current = timeline.detect(sample.rgb, int(round(sample.time_s * 1000)))
                if finder is not None:
                    found = finder.find(sample.rgb, current)
                    current = current + found.poses
                    dropped += found.dropped * sample.owned
            moved = tracker.update(current, sample.time_s)
            if sample.owned:
                times.append(sample.time_s)
                scores.append(round(max((m for _, m in moved), default=0.0), 5))
                people.append(len(current))
                tracks.append(tuple((id_base + i, round(m, 5)) for i, m in moved))
            prev_people = current
    finally:
        timeline.close()
    expected = chunk.end_s - chunk.start_s >= 1.0 / params.pose_fps
    if not times and expected:
        raise CorruptMediaError(
            f"no decodable frames in {chunk.start_s:.1f}-{chunk.end_s:.1f} s (chunk {chunk.index})"
        )
    return ChunkMotion(
        video_id=chunk.video_id,
        uri=chunk.uri,
        index=chunk.index,
        chunk_count=chunk.chunk_count,
        times_s=tuple(times),
        scores=tuple(scores),
        people=tuple(people),
        frames_gated=saved,
        tracks=tuple(tracks),
        people_dropped=dropped,
    )


def chunk_timeout_s(chunk: Chunk, configured_s: float) -> float:
    """``--decode_timeout_s`` if set, else sized to the chunk: 60 s plus 4x its media time."""
    if configured_s > 0:
        return configured_s
    return 60.0 + 4.0 * (chunk.end_s - chunk.start_s + chunk.overlap_s)


def load_backend_in_child(
    state: dict, model_uri: str | None, backend: str, params: DetectParams | None = None
) -> None:
    """Load the pose model (and the person detector) into the child's ``state`` once.

    Both are kept across chunks; ``state["finder"]`` is None with ``--people_detector none``.
    """
    people = (params or DetectParams()).people
    key = (model_uri, backend, people)
    if state.get("backend_key") != key:
        close_models(state)
        # Resolved here, on the worker: a launcher's local default means nothing to Dataflow.
        pose = make_backend(backend, read_model(model_uri or default_model_path()))
        state["backend"] = pose
        state["finder"] = None
        if people.enabled:
            delegate = "gpu" if backend.endswith("gpu") else "cpu"
            model = read_model(people.model or default_detector_path())
            detector = PersonDetector(model, delegate)
            state["finder"] = PeopleFinder(detector, pose.images(), people)
        state["backend_key"] = key


def close_models(state: dict) -> None:
    """Close the person detector and the pose model ``load_backend_in_child`` put in ``state``."""
    for held in ("finder", "backend"):
        if state.get(held) is not None:
            state[held].close()
            state[held] = None


def analyse_in_child(
    state: dict, chunk: Chunk, model_uri: str | None, backend: str, params: DetectParams
) -> ChunkMotion:
    """Analyse one chunk in the isolated decoder process; the model loads once per process."""
    load_backend_in_child(state, model_uri, backend, params)
    with open_input(chunk.uri) as container:
        return analyse_chunk(container, chunk, state["backend"], params, state["finder"])
