"""``DetectMotion``: each chunk analysed in an isolated process holding the pose model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from transforms.chunk_analysis import (
    DetectParams,
    analyse_in_child,
    chunk_timeout_s,
    load_backend_in_child,
)
from transforms.io.deadletter import FAILURES, Clock, utc_now
from transforms.io.failsafe import IsolatedFn
from transforms.progress import report
from transforms.records import Chunk, ChunkMotion


class DetectChunkFn(IsolatedFn):
    """Chunk -> ChunkMotion; a chunk that fails is a failure row and a failed ChunkMotion.

    Decoding and pose run in an isolated child process that loads the model in
    ``setup()``: a decoder crash or hang becomes this chunk's failure row.

    Args:
        model_uri: PoseLandmarker ``.task`` bundle (None: the worker's default).
        backend: pose backend name.
        params: sampling rate, analysis size and the still-frame gate.
        clock: stamps failures.
        timeout_s: ``--decode_timeout_s`` (0: sized to the chunk).
    """

    STAGE = "detect"
    WORKER_NAME = "reelbeam-detect"

    def __init__(
        self,
        model_uri: str | None,
        backend: str,
        params: DetectParams,
        clock: Clock = utc_now,
        timeout_s: float = 0.0,
    ):
        super().__init__(clock)
        self._model_uri = model_uri
        self._backend_name = backend
        self._params = params
        self._timeout_s = timeout_s

    def warm_call(self) -> tuple[Callable[..., Any], tuple]:
        return load_backend_in_child, (self._model_uri, self._backend_name, self._params)

    def process(self, chunk: Chunk) -> Iterator[ChunkMotion | pvalue.TaggedOutput]:
        try:
            result = self.call_isolated(
                analyse_in_child,
                (chunk, self._model_uri, self._backend_name, self._params),
                chunk_timeout_s(chunk, self._timeout_s),
            )
        except Exception as exc:
            yield self.failure(
                exc,
                input_uri=chunk.uri,
                video_id=chunk.video_id,
                chunk_index=chunk.index,
                counter="chunks_failed",
            )
            result = ChunkMotion(
                chunk.video_id, chunk.uri, chunk.index, chunk.chunk_count, failed=True
            )
        else:
            report("chunks_analysed")
            report("frames_analysed", len(result.times_s) - result.frames_gated)
            report("frames_gated", result.frames_gated)
            report("people_dropped", result.people_dropped)
        yield result


class DetectMotion(beam.PTransform):
    """Chunks -> ChunkMotion per chunk (main) and ``failures`` (stage ``detect``).

    Args:
        model_uri: PoseLandmarker ``.task`` bundle, local or ``gs://``; loaded once per
            DoFn instance in ``setup()``. None: the worker's default (``default_model_path``).
        backend: ``mediapipe-cpu`` or ``mediapipe-gpu``.
        params: sampling rate, analysis size and the still-frame gate (None: defaults).
        timeout_s: longest one chunk may take (0: sized to the chunk).
    """

    def __init__(
        self,
        model_uri: str | None,
        backend: str = "mediapipe-cpu",
        params: DetectParams | None = None,
        clock: Clock = utc_now,
        timeout_s: float = 0.0,
    ):
        super().__init__()
        self._fn = DetectChunkFn(model_uri, backend, params or DetectParams(), clock, timeout_s)

    def expand(self, chunks: beam.PCollection[Chunk]):
        return chunks | "Analyse" >> beam.ParDo(self._fn).with_outputs(FAILURES, main="motion")
