"""``--render_chunk_s auto``: render chunk length from the source's duration and the workers.

A long source's proxy and ladder are encoded as chunks on different workers and
joined by stream copy, the audio encoded once by an element of its own (the audio
pass). One wave of chunks, one per worker (one worker left to the audio pass when the
source has audio), puts the whole encode on the critical path once: a chunk of
``duration / workers``.
Chunks are never shorter than ``MIN_CHUNK_S`` (below it the per-chunk start-up,
seek and part file cost more than they save, and the join grows with the part
count) nor longer than ``MAX_CHUNK_S`` (a failed chunk is retried whole, and the
chunk's timeout grows with it). A source shorter than two minimum chunks, or a run
with one worker, is rendered whole up to ``MAX_CHUNK_S``: chunking could only add
the join.

Pure: no Beam, no IO.
"""

from __future__ import annotations

import math

AUTO = 0.0
"""``RenderParams.render_chunk_s`` value that means ``auto``."""
MIN_CHUNK_S = 30.0
MAX_CHUNK_S = 300.0


def auto_chunk_s(duration_s: float, workers: int) -> float:
    """Render chunk length for a source of ``duration_s`` on ``workers`` workers, in seconds.

    Returns ``duration_s`` itself (one chunk: render whole) when chunking cannot help.
    """
    if duration_s <= 0:
        return MAX_CHUNK_S
    if workers <= 1 or duration_s < 2 * MIN_CHUNK_S:
        return min(duration_s, MAX_CHUNK_S)
    count = max(min(workers, math.floor(duration_s / MIN_CHUNK_S)), 1)
    count = max(count, math.ceil(duration_s / MAX_CHUNK_S))
    return duration_s / count


def chunk_seconds(
    duration_s: float, render_chunk_s: float, workers: int, audio: bool = False
) -> float:
    """The chunk length the planner uses: ``--render_chunk_s`` seconds, or ``auto`` sized.

    Args:
        duration_s: the source's duration.
        render_chunk_s: ``RenderParams.render_chunk_s`` (``AUTO``: size it here).
        workers: workers the run has (``RenderParams.render_workers``).
        audio: the source has audio: a chunked render encodes it in an element of its
            own (the audio pass) beside the frame ranges, so ``auto`` leaves it a worker
            and the ranges and the audio pass still fit in one wave.
    """
    if render_chunk_s > 0:
        return render_chunk_s
    return auto_chunk_s(duration_s, workers - 1 if audio else workers)


def workers_available(
    max_num_workers: int | None,
    num_workers: int | None,
    direct_num_workers: int | None,
    cpu_count: int | None,
    runner: str | None = None,
) -> int:
    """How many workers can encode chunks at once, from Beam's worker options.

    ``--max_num_workers`` (the autoscaling ceiling) or ``--num_workers`` on a cluster;
    for the DirectRunner ``--direct_num_workers`` (0: one per CPU), else 1.
    """
    if max_num_workers:
        return max_num_workers
    if num_workers:
        return num_workers
    direct = (runner or "DirectRunner").lower() in ("directrunner", "direct", "")
    if direct and direct_num_workers is not None:
        return direct_num_workers if direct_num_workers > 0 else max(cpu_count or 1, 1)
    return 1
