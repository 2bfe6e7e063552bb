"""DetectMotion with the real MediaPipe model on ground-truth fixtures built from real footage.

Each fixture states its truth: the intervals (seconds) in which real motion plays.
Boundaries must come within 0.5 s; still and person-less stretches give no segment;
the chunk length changes nothing; the still-frame gate changes nothing.
"""

from __future__ import annotations

import os
import pathlib

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.helpers.media import write_freeze_motion_clip, write_synthetic_clip
from tests.helpers.runs import fixed_clock
from transforms.chunk_analysis import DetectParams, analyse_chunk
from transforms.chunks import SplitIntoChunks, chunks_of
from transforms.detect_motion import DetectChunkFn, DetectMotion
from transforms.media.open import open_input
from transforms.media.probe import probe_video
from transforms.merge import MergeSegments, merge_chunks
from transforms.motion import SegmentParams
from transforms.pose_backends import MediaPipeBackend, default_model_path, read_model
from transforms.records import Chunk, FoundFile, VideoMotion

pytestmark = pytest.mark.integration
PARAMS = SegmentParams()
POSE_FPS = 5.0
TOLERANCE_S = 0.5


@pytest.fixture(scope="session")
def model_path() -> str:
    path = default_model_path()
    if not os.path.isfile(path):
        pytest.fail(f"pose model missing at {path}: run `make model`")
    return path


@pytest.fixture(scope="session")
def backend(model_path) -> MediaPipeBackend:
    return MediaPipeBackend(read_model(model_path))


# name -> (source clip, plan, truth). Truth is what write_freeze_motion_clip reports,
# asserted again here so each fixture states it.
FIXTURES = {
    # dance.mp4 (dancing, 4.2 s): still 3 s, dancing 3-7.2 s, still 3 s.
    "freeze_dance": ("dance.mp4", [("freeze", 3.0), ("play", None), ("freeze", 3.0)],
                     [(3.0, 7.2)]),
    # dance.mp4: two 2 s bursts of dancing with 4 s of stillness between them.
    "two_bursts": ("dance.mp4",
                   [("freeze", 2.0), ("play", (0.0, 2.0)), ("freeze", 4.0),
                    ("play", (2.0, 4.0)), ("freeze", 2.0)],
                   [(2.0, 4.0), (8.0, 10.0)]),
    # A person standing still for 6 s: no motion.
    "still_person": ("dance.mp4", [("freeze", 6.0)], []),
    # Moving random texture, no person: no motion.
    "noise": ("dance.mp4", [("noise", 6.0)], []),
}  # fmt: skip


@pytest.fixture(scope="session")
def clips(tmp_path_factory, shared_media) -> dict[str, pathlib.Path]:
    folder = tmp_path_factory.mktemp("ground_truth")
    out = {}
    for name, (source, plan, truth) in FIXTURES.items():
        path = folder / f"{name}.mp4"
        assert write_freeze_motion_clip(path, shared_media / source, plan, size=360) == truth
        out[name] = path
    box = folder / "moving_box.mp4"
    write_synthetic_clip(box, duration_s=6.0, fps=25, pattern="moving_box")
    out["moving_box"] = box
    return out


def analyse(path, backend, chunk_s=60.0, gate=DetectParams.gate_threshold) -> VideoMotion:
    probe = probe_video(FoundFile(str(path), path.stat().st_size, None, path.stem))
    results = []
    for chunk in chunks_of(probe, chunk_s, 3.0):
        with open_input(str(path)) as container:
            results.append(
                analyse_chunk(container, chunk, backend, DetectParams(POSE_FPS, 640, gate))
            )
    return merge_chunks(results, PARAMS, 1.0 / POSE_FPS)


def bounds(motion: VideoMotion) -> list[tuple[float, float]]:
    return [(s.start_s, s.end_s) for s in motion.segments]


@pytest.mark.parametrize("name", [*FIXTURES, "moving_box"])
def test_ground_truth(name, clips, backend):
    truth = FIXTURES[name][2] if name in FIXTURES else []
    found = bounds(analyse(clips[name], backend))
    assert len(found) == len(truth), f"{name}: found {found}, truth {truth}"
    for (start, end), (t_start, t_end) in zip(found, truth, strict=True):
        assert abs(start - t_start) <= TOLERANCE_S, f"{name}: start {start} vs {t_start}"
        assert abs(end - t_end) <= TOLERANCE_S, f"{name}: end {end} vs {t_end}"


def test_chunking_changes_nothing(clips, backend):
    reference = bounds(analyse(clips["two_bursts"], backend, chunk_s=600.0))
    assert len(reference) == 2
    for chunk_s in (5.0, 20.0, 60.0):
        found = bounds(analyse(clips["two_bursts"], backend, chunk_s=chunk_s))
        assert len(found) == len(reference), f"chunk_s={chunk_s}: {found} vs {reference}"
        for a, b in zip(found, reference, strict=True):
            assert np.allclose(a, b, atol=1.0 / POSE_FPS + 1e-6), f"chunk_s={chunk_s}"


def test_samples_sit_on_one_grid_whatever_the_chunking(clips, backend):
    whole = analyse(clips["freeze_dance"], backend, chunk_s=600.0)
    chunked = analyse(clips["freeze_dance"], backend, chunk_s=2.0)
    assert whole.times_s == chunked.times_s
    assert len(whole.times_s) == 51  # 10.2 s at 5 samples per second
    assert whole.times_s[:3] == (0.0, 0.2, 0.4)


def test_the_gate_saves_work_and_changes_nothing(clips, backend):
    for name in ("freeze_dance", "two_bursts", "still_person"):
        gated = analyse(clips[name], backend)
        ungated = analyse(clips[name], backend, gate=0.0)
        assert ungated.frames_gated == 0
        assert gated.frames_gated > 0, name
        # Same segments, boundaries within one sample: with the gate a frozen frame
        # scores exactly 0, without it the landmark filter's lag can add one sample.
        assert len(bounds(gated)) == len(bounds(ungated)), name
        for a, b in zip(bounds(gated), bounds(ungated), strict=True):
            assert np.allclose(a, b, atol=1.0 / POSE_FPS + 1e-6), name
    assert analyse(clips["still_person"], backend).frames_gated >= 25


def test_detect_motion_composite_with_the_real_model(clips, model_path):
    path = clips["two_bursts"]
    probe = probe_video(FoundFile(str(path), path.stat().st_size, None, "bursts"))
    with TestPipeline(runner="DirectRunner") as p:
        detected = (
            p
            | beam.Create([probe])
            | SplitIntoChunks(chunk_s=5.0, overlap_s=3.0)
            | DetectMotion(model_path, params=DetectParams(pose_fps=POSE_FPS), clock=fixed_clock)
        )
        merged = detected.motion | MergeSegments(PARAMS, POSE_FPS)
        counts = merged | beam.Map(lambda m: (m.video_id, len(m.segments), m.chunk_count))
        assert_that(counts, equal_to([("bursts", 2, 3)]))
        assert_that(detected.failures, equal_to([]), label="NoFailures")


def test_a_chunk_that_cannot_decode_is_a_failure_row_and_the_rest_stands(
    clips, model_path, tmp_path
):
    # A faststart copy cut at 55%: the index promises 12 s, the data stops in the second burst.
    import av

    src = clips["two_bursts"]
    fast = tmp_path / "fast.mp4"
    with (
        av.open(str(src)) as inp,
        av.open(str(fast), "w", options={"movflags": "+faststart"}) as out,
    ):
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(fast.read_bytes()[: int(fast.stat().st_size * 0.55)])
    probe = probe_video(FoundFile(str(cut), cut.stat().st_size, None, "cut"))
    assert probe.duration_s == pytest.approx(12.0, abs=0.1)
    fn = DetectChunkFn(model_path, "mediapipe-cpu", DetectParams(), fixed_clock)
    fn.setup()
    outputs = []
    for chunk in chunks_of(probe, 5.0, 1.0):
        outputs.extend(fn.process(chunk))
    fn.teardown()
    failures = [o.value for o in outputs if getattr(o, "tag", None) == "failures"]
    motions = [o for o in outputs if not hasattr(o, "tag")]
    assert failures and all(f.stage == "detect" and f.chunk_index is not None for f in failures)
    assert {f.chunk_index for f in failures} >= {2}
    merged = merge_chunks(motions, PARAMS, 0.2)
    assert merged.failed_chunks == tuple(sorted(f.chunk_index for f in failures))
    assert bounds(merged)[:1] and abs(bounds(merged)[0][0] - 2.0) <= TOLERANCE_S


class _FakeTimeline:
    """Fake pose: one person whose x position is the frame's mean brightness."""

    def __init__(self, calls):
        self.calls = calls

    def detect(self, rgb, timestamp_ms):
        self.calls.append(timestamp_ms)
        x = float(rgb.mean())
        person = np.zeros((33, 3), dtype=np.float32)
        person[:, 0] = x
        person[:, 1] = np.linspace(0, 100, 33)
        person[:, 2] = 1.0
        return [person]

    def close(self):
        pass


class _FakeBackend:
    name = "fake"

    def __init__(self):
        self.calls: list[int] = []

    def timeline(self):
        return _FakeTimeline(self.calls)

    def close(self):
        pass


def test_chunk_owns_its_range_and_uses_the_lead_in_as_context(tmp_path):
    """Logic around the model (fake backend): owned samples, context, strictly rising times."""
    path = tmp_path / "box.mp4"
    write_synthetic_clip(path, duration_s=4.0, fps=25, pattern="moving_box")
    fake = _FakeBackend()
    chunk = Chunk("box", str(path), 1, 2.0, 4.0, overlap_s=1.0, chunk_count=2)
    with open_input(str(path)) as container:
        result = analyse_chunk(container, chunk, fake, DetectParams(gate_threshold=0.0))
    assert result.times_s == tuple(round(2.0 + k / 5.0, 6) for k in range(10))
    assert fake.calls == [1000 + 200 * k for k in range(15)]  # 5 lead-in + 10 owned
    assert result.scores[0] > 0  # the first owned sample is scored against the lead-in


def test_the_gate_never_skips_a_small_person_moving(dancer, backend):
    """dance.mp4: one dancer in a 600x338 room, moving all 4.2 s: no sample is skipped."""
    motion = analyse(dancer, backend)
    assert len(motion.times_s) == 21
    assert motion.frames_gated == 0
