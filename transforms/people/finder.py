"""Everyone in a frame: the whole-frame pose, then the detector and pose on crops.

The runtime side of ``--people_detector ssd``: the person detector on the whole
frame and its tiles, then pose on a crop of every detected person the whole-frame
pose missed, at most ``max_people`` crops per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transforms.people.boxes import TileGrid, find_people
from transforms.people.crops import poses_of_missed_people
from transforms.people.detector import PersonDetector
from transforms.pose_backends import PoseImages

DETECTORS = ("ssd", "none")


@dataclass(frozen=True)
class PeopleParams:
    """How people far from the camera are looked for.

    Attributes:
        detector: ``ssd`` (the person detector before pose) or ``none`` (pose only).
        tiles: the detector's tile grid, ``COLSxROWS`` (``1x1``: whole frame only).
        max_people: most people per frame given a pose of their own (crops); the
            rest are counted as dropped.
        memory_s: how long a person the detector missed stays matchable when tracking.
        model: the detector ``.tflite``, local or ``gs://`` (None: the worker's default,
            ``transforms.people.detector.default_detector_path``).
    """

    detector: str = "ssd"
    tiles: str = "3x2"
    max_people: int = 6
    memory_s: float = 1.0
    model: str | None = None

    @property
    def enabled(self) -> bool:
        return self.detector != "none"

    @property
    def grid(self) -> TileGrid:
        return TileGrid.parse(self.tiles)


@dataclass(frozen=True)
class FrameFind:
    """What the detector path added to one frame."""

    poses: list[np.ndarray]
    boxes: int
    dropped: int


class PeopleFinder:
    """Detector plus pose on crops, held for the life of the worker's model state.

    Args:
        detector: the person detector.
        images: the pose model in image mode (crops are unrelated images).
        params: tiles and the per-frame bound.
    """

    def __init__(self, detector: PersonDetector, images: PoseImages, params: PeopleParams):
        self._detector = detector
        self._images = images
        self._params = params
        self._grid = params.grid

    def find(self, rgb: np.ndarray, whole_frame_poses: list[np.ndarray]) -> FrameFind:
        """Poses of the people ``whole_frame_poses`` missed, with counts for the counters."""
        boxes = find_people(rgb, self._detector.detect, self._grid)
        poses, dropped = poses_of_missed_people(
            rgb, boxes, whole_frame_poses, self._images.detect, self._params.max_people
        )
        return FrameFind(poses, len(boxes), dropped)

    def close(self) -> None:
        self._detector.close()
        self._images.close()
