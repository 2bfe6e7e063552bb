"""Chunk planning and the merging CombineFn: any order, any grouping, same answer."""

import random

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.chunks import SplitIntoChunks, chunks_of, plan_chunks
from transforms.media.sampling import grid_range
from transforms.merge import MergeSegments, MotionCombineFn, merge_chunks
from transforms.motion import SegmentParams
from transforms.records import ChunkMotion, VideoProbe

PARAMS = SegmentParams(threshold=1.0, min_motion_s=0.6, max_still_s=1.0, merge_gap_s=1.0)


def test_plan_chunks_tiles_the_video():
    assert plan_chunks(130.0, 60.0, 3.0) == [(0.0, 60.0), (60.0, 120.0), (120.0, 130.0)]
    assert plan_chunks(60.0, 60.0, 3.0) == [(0.0, 60.0)]
    assert plan_chunks(4.0, 600.0, 3.0) == [(0.0, 4.0)]
    with pytest.raises(ValueError):
        plan_chunks(10.0, 0.0, 1.0)


def _probe(duration_s: float) -> VideoProbe:
    return VideoProbe(
        **{
            **dict.fromkeys(VideoProbe.__dataclass_fields__),
            "uri": "/v.mp4",
            "video_id": "v",
            "duration_s": duration_s,
            "rotation_deg": 90,
            "sample_aspect_ratio": "1:1",
            "start_time_s": 0.0,
        }
    )


def test_chunk_sample_grids_own_every_sample_once():
    chunks = chunks_of(_probe(13.0), 5.0, 3.0)
    assert [(c.start_s, c.end_s, c.rotation_deg) for c in chunks] == [
        (0.0, 5.0, 90),
        (5.0, 10.0, 90),
        (10.0, 13.0, 90),
    ]
    owned = []
    for c in chunks:
        first_ctx, first_owned, end = grid_range(c, 5.0)
        assert first_ctx == max(0, first_owned - 15)
        owned.extend(range(first_owned, end))
    assert owned == list(range(65))


def _chunk_results(n_chunks: int = 6, per_chunk: int = 25) -> list[ChunkMotion]:
    rng = random.Random(7)
    out = []
    for i in range(n_chunks):
        times = tuple(round((i * per_chunk + k) / 5.0, 6) for k in range(per_chunk))
        scores = tuple(2.0 if rng.random() < 0.5 else 0.0 for _ in times)
        out.append(ChunkMotion("v", "/v.mp4", i, n_chunks, times, scores, (1,) * per_chunk))
    out[3] = ChunkMotion("v", "/v.mp4", 3, n_chunks, failed=True)
    return out


def test_combine_fn_is_associative_and_commutative():
    fn = MotionCombineFn(PARAMS, pose_fps=5.0)
    chunks = _chunk_results()
    expected = merge_chunks(chunks, PARAMS, 0.2)
    assert expected.failed_chunks == (3,)
    assert expected.segments
    rng = random.Random(1)
    for _ in range(20):
        shuffled = chunks[:]
        rng.shuffle(shuffled)
        cut = sorted(rng.sample(range(1, len(shuffled)), 2))
        parts = [shuffled[: cut[0]], shuffled[cut[0] : cut[1]], shuffled[cut[1] :]]
        accs = []
        for part in parts:
            acc = fn.create_accumulator()
            for c in part:
                acc = fn.add_input(acc, c)
            accs.append(acc)
        rng.shuffle(accs)
        nested = fn.merge_accumulators([fn.merge_accumulators(accs[:2]), accs[2]])
        assert fn.extract_output(nested) == expected


def test_a_retried_chunk_is_not_counted_twice():
    fn = MotionCombineFn(PARAMS, pose_fps=5.0)
    chunks = _chunk_results()
    acc = fn.create_accumulator()
    for c in chunks + chunks[:2]:
        acc = fn.add_input(acc, c)
    assert fn.extract_output(acc) == merge_chunks(chunks, PARAMS, 0.2)


def test_merge_segments_composite():
    chunks = _chunk_results()
    expected = merge_chunks(chunks, PARAMS, 0.2)
    with TestPipeline(runner="DirectRunner") as p:
        merged = (
            p
            | beam.Create(chunks, reshuffle=True)
            | MergeSegments(PARAMS, pose_fps=5.0)
            | beam.Map(lambda m: (m.video_id, m.segments, m.failed_chunks))
        )
        assert_that(merged, equal_to([("v", expected.segments, (3,))]))


def test_split_into_chunks_composite():
    with TestPipeline(runner="DirectRunner") as p:
        chunks = (
            p
            | beam.Create([_probe(130.0)])
            | SplitIntoChunks(60.0, 3.0)
            | beam.Map(lambda c: (c.index, c.start_s, c.end_s, c.chunk_count))
        )
        assert_that(
            chunks, equal_to([(0, 0.0, 60.0, 3), (1, 60.0, 120.0, 3), (2, 120.0, 130.0, 3)])
        )
