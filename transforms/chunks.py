"""Splitting videos into overlapping analysis chunks that fan out over workers."""

from __future__ import annotations

import math

import apache_beam as beam

from transforms.progress import report
from transforms.records import Chunk, VideoProbe


def plan_chunks(duration_s: float, chunk_s: float, overlap_s: float) -> list[tuple[float, float]]:
    """Owned ``(start_s, end_s)`` ranges of ``chunk_s`` that tile ``[0, duration_s)``.

    The last range ends at ``duration_s``; a video shorter than one chunk is one
    chunk. The overlap is added by the decoder as lead-in context, not here.

    Args:
        duration_s: video duration in seconds (> 0).
        chunk_s: chunk length in seconds (> 0).
        overlap_s: lead-in in seconds (>= 0); only validated here.
    """
    if chunk_s <= 0 or overlap_s < 0:
        raise ValueError("chunk_s must be > 0 and overlap_s >= 0")
    count = max(1, math.ceil(duration_s / chunk_s - 1e-9))
    return [(i * chunk_s, min((i + 1) * chunk_s, duration_s)) for i in range(count)]


def chunks_of(probe: VideoProbe, chunk_s: float, overlap_s: float) -> list[Chunk]:
    """The ``Chunk`` elements of one probed video."""
    ranges = plan_chunks(max(probe.duration_s, 1e-3), chunk_s, overlap_s)
    report("chunks_total", len(ranges))
    return [
        Chunk(
            video_id=probe.video_id,
            uri=probe.uri,
            index=i,
            start_s=start,
            end_s=end,
            overlap_s=overlap_s,
            chunk_count=len(ranges),
            rotation_deg=probe.rotation_deg,
            sample_aspect_ratio=probe.sample_aspect_ratio,
            stream_start_s=probe.start_time_s,
        )
        for i, (start, end) in enumerate(ranges)
    ]


class SplitIntoChunks(beam.PTransform):
    """VideoProbe -> Chunk elements, reshuffled so one file's chunks spread over workers."""

    def __init__(self, chunk_s: float, overlap_s: float):
        super().__init__()
        self._chunk_s = chunk_s
        self._overlap_s = overlap_s

    def expand(self, probes: beam.PCollection[VideoProbe]) -> beam.PCollection[Chunk]:
        return (
            probes
            | "Chunks" >> beam.FlatMap(chunks_of, self._chunk_s, self._overlap_s)
            | "FanOut" >> beam.Reshuffle()
        )
