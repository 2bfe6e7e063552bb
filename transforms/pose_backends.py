"""Pose backends: one interface, MediaPipe PoseLandmarker on the CPU or its GPU delegate.

A backend is created once per DoFn instance (``setup()``); each chunk gets a fresh
*timeline* (a VIDEO-mode landmarker: its timestamps must strictly increase, and
its tracker must not carry state from another chunk into this one).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Protocol

import numpy as np

from transforms.io.filesystems import read_bytes

DEFAULT_MODEL_NAME = "pose_landmarker_full.task"
MODEL_ENV = "REELBEAM_POSE_MODEL"


class PoseTimeline(Protocol):
    """Pose detection over one increasing run of timestamps."""

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> list[np.ndarray]:
        """People in an RGB uint8 frame: arrays (33, 3) of x px, y px, visibility."""

    def close(self) -> None: ...


class PoseImages(Protocol):
    """Pose detection on unrelated images (crops of people): no tracking between calls."""

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        """People in an RGB uint8 image: arrays (33, 3) of x px, y px, visibility."""

    def close(self) -> None: ...


class PoseBackend(Protocol):
    """Makes timelines and image detectors; holds the model for the DoFn's lifetime."""

    name: str

    def timeline(self) -> PoseTimeline: ...

    def images(self) -> PoseImages: ...

    def close(self) -> None: ...


class MissingModelError(FileNotFoundError):
    """The PoseLandmarker bundle is not where it was expected."""


def default_model_path() -> str:
    """Where the pose model is looked for when ``--pose_model`` is not given.

    ``$REELBEAM_POSE_MODEL``, else ``models/pose_landmarker_full.task`` in the
    source checkout (what ``make model`` builds), else ``/opt/reelbeam/models/...``
    (baked into the container image).
    """
    if os.environ.get(MODEL_ENV):
        return os.environ[MODEL_ENV]
    checkout = os.path.join(
        os.path.dirname(os.path.dirname(__file__)), "models", DEFAULT_MODEL_NAME
    )
    container = os.path.join("/opt/reelbeam/models", DEFAULT_MODEL_NAME)
    return checkout if os.path.exists(checkout) or not os.path.exists(container) else container


def read_model(uri: str) -> bytes:
    """The bundle's bytes, from a local path or ``gs://`` (through ``FileSystems``)."""
    try:
        return read_bytes(uri)
    except Exception as exc:
        raise MissingModelError(
            f"pose model not found at {uri}: run `make model` or pass --pose_model PATH"
        ) from exc


def _people(result, rgb: np.ndarray) -> list[np.ndarray]:
    height, width = rgb.shape[:2]
    return [
        np.array(
            [(lm.x * width, lm.y * height, lm.visibility or 0.0) for lm in landmarks],
            dtype=np.float32,
        )
        for landmarks in result.pose_landmarks
    ]


def _image(rgb: np.ndarray):
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))


class _MediaPipeTimeline:
    def __init__(self, landmarker):
        self._landmarker = landmarker

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> list[np.ndarray]:
        return _people(self._landmarker.detect_for_video(_image(rgb), int(timestamp_ms)), rgb)

    def close(self) -> None:
        self._landmarker.close()


class _MediaPipeImages:
    def __init__(self, landmarker):
        self._landmarker = landmarker

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        return _people(self._landmarker.detect(_image(rgb)), rgb)

    def close(self) -> None:
        self._landmarker.close()


class MediaPipeBackend:
    """MediaPipe PoseLandmarker (Tasks API) from a ``.task`` bundle in memory.

    Args:
        model: the bundle's bytes.
        delegate: ``"cpu"`` or ``"gpu"`` (the GPU delegate needs a physical GPU and EGL).
        num_poses: most people detected per frame.
        min_confidence: detection, presence and tracking confidence.
    """

    def __init__(
        self, model: bytes, delegate: str = "cpu", num_poses: int = 4, min_confidence: float = 0.5
    ):
        from mediapipe.tasks.python import BaseOptions, vision

        self.name = f"mediapipe-{delegate}"
        self._model = model
        base = BaseOptions(
            model_asset_buffer=model,
            delegate=BaseOptions.Delegate.GPU if delegate == "gpu" else BaseOptions.Delegate.CPU,
        )
        self._options = vision.PoseLandmarkerOptions(
            base_options=base,
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=min_confidence,
            min_pose_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        # Crops of people are unrelated images: IMAGE mode, no tracker carried between them.
        self._image_options = dataclasses.replace(
            self._options, running_mode=vision.RunningMode.IMAGE, num_poses=2
        )
        self._create: Callable = vision.PoseLandmarker.create_from_options
        # Fail here, in setup(), if the model or delegate cannot load: not on the first chunk.
        self._create(self._options).close()

    def timeline(self) -> PoseTimeline:
        return _MediaPipeTimeline(self._create(self._options))

    def images(self) -> PoseImages:
        return _MediaPipeImages(self._create(self._image_options))

    def close(self) -> None:
        self._model = b""


def make_backend(name: str, model: bytes) -> PoseBackend:
    """A backend by name: ``mediapipe-cpu`` or ``mediapipe-gpu``."""
    if name in ("mediapipe-cpu", "cpu"):
        return MediaPipeBackend(model, "cpu")
    if name in ("mediapipe-gpu", "gpu"):
        return MediaPipeBackend(model, "gpu")
    raise ValueError(f"unknown pose backend {name!r}: use mediapipe-cpu or mediapipe-gpu")
