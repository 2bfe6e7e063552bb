"""``WriteMotion``: each merged video's ``motion.json``, failures as rows."""

from __future__ import annotations

import functools

import apache_beam as beam

from transforms.artifacts import write_motion
from transforms.io.deadletter import FAILURES, SafeMapFn
from transforms.motion import SegmentParams
from transforms.records import VideoMotion
from transforms.schemas import AssetRow


class WriteMotion(beam.PTransform):
    """VideoMotion -> ``motion.json`` per video.

    Returns:
        Outputs ``assets`` (``AssetRow``) and ``failures`` (stage ``write``).
    """

    def __init__(self, output: str, params: SegmentParams, pose_fps: float):
        super().__init__()
        self._output = output
        self._params = params
        self._pose_fps = pose_fps

    def expand(self, motion: beam.PCollection[VideoMotion]) -> beam.PCollection[AssetRow]:
        write = functools.partial(
            write_motion, output=self._output, params=self._params, pose_fps=self._pose_fps
        )
        return motion | "Write" >> beam.ParDo(SafeMapFn(write, "write")).with_outputs(
            FAILURES, main="assets"
        )
