"""``MergeSegments``: a real ``CombineFn`` that merges a video's chunk results into segments."""

from __future__ import annotations

import apache_beam as beam

from transforms.motion import SegmentParams, find_segments
from transforms.records import ChunkMotion, VideoMotion


class MotionAccumulator:
    """Chunk results of one video by chunk index (each chunk owns distinct samples).

    Keyed by index, so adding the same chunk twice (a retried bundle) or merging
    partial accumulators in any order and grouping gives the same state.
    """

    __slots__ = ("chunks",)

    def __init__(self) -> None:
        self.chunks: dict[int, ChunkMotion] = {}


class MotionCombineFn(beam.CombineFn):
    """ChunkMotion of one video -> VideoMotion.

    ``merge_accumulators`` is a union of disjoint maps: associative and commutative.
    ``extract_output`` lays the owned samples of all chunks end to end (no sample
    counted twice: chunks own disjoint time ranges, lead-ins are context only), then
    finds segments with hysteresis over the whole timeline, closes gaps shorter than
    ``merge_gap_s`` and drops segments shorter than ``min_segment_s``, exactly as if
    the video had been analysed in one piece.
    """

    def __init__(self, params: SegmentParams, pose_fps: float):
        self._params = params
        self._period_s = 1.0 / pose_fps

    def create_accumulator(self) -> MotionAccumulator:
        return MotionAccumulator()

    def add_input(self, acc: MotionAccumulator, chunk: ChunkMotion) -> MotionAccumulator:
        held = acc.chunks.get(chunk.index)
        if held is None or held.failed:
            acc.chunks[chunk.index] = chunk
        return acc

    def merge_accumulators(self, accumulators) -> MotionAccumulator:
        merged = MotionAccumulator()
        for acc in accumulators:
            for chunk in acc.chunks.values():
                self.add_input(merged, chunk)
        return merged

    def extract_output(self, acc: MotionAccumulator) -> VideoMotion:
        return merge_chunks(list(acc.chunks.values()), self._params, self._period_s)


def merge_chunks(chunks: list[ChunkMotion], params: SegmentParams, period_s: float) -> VideoMotion:
    """The pure function under the combiner: chunk results -> the video's motion."""
    ordered = sorted(chunks, key=lambda c: c.index)
    times: list[float] = []
    scores: list[float] = []
    people: list[int] = []
    tracks: list[tuple[tuple[int, float], ...]] = []
    for chunk in ordered:
        chunk_tracks = chunk.tracks or ((),) * len(chunk.times_s)
        for t, s, n, m in zip(chunk.times_s, chunk.scores, chunk.people, chunk_tracks, strict=True):
            if times and t <= times[-1]:
                continue  # defensive: never count a sample twice
            times.append(t)
            scores.append(s)
            people.append(n)
            tracks.append(m)
    count = max((c.chunk_count for c in ordered), default=0)
    failed = sorted(
        {c.index for c in ordered if c.failed} | (set(range(count)) - {c.index for c in ordered})
    )
    return VideoMotion(
        video_id=ordered[0].video_id if ordered else "",
        uri=ordered[0].uri if ordered else "",
        times_s=tuple(times),
        scores=tuple(scores),
        people=tuple(people),
        segments=tuple(find_segments(times, scores, people, params, period_s)),
        chunk_count=count,
        failed_chunks=tuple(failed),
        frames_gated=sum(c.frames_gated for c in ordered),
        tracks=tuple(tracks),
        people_dropped=sum(c.people_dropped for c in ordered),
    )


class MergeSegments(beam.PTransform):
    """ChunkMotion -> one VideoMotion per video (CombinePerKey over ``video_id``)."""

    def __init__(self, params: SegmentParams, pose_fps: float):
        super().__init__()
        self._params = params
        self._pose_fps = pose_fps

    def expand(self, chunks: beam.PCollection[ChunkMotion]) -> beam.PCollection[VideoMotion]:
        return (
            chunks
            | "KeyByVideo" >> beam.Map(lambda c: (c.video_id, c))
            | "Combine" >> beam.CombinePerKey(MotionCombineFn(self._params, self._pose_fps))
            | "Motion" >> beam.Values()
        )
