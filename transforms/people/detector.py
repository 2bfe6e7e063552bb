"""The person detector: MediaPipe's ``ObjectDetector`` task over the SSD Open Images model.

``make model`` builds ``models/person_detector_ssd_oidv4.tflite`` with the metadata the
task needs (``scripts/build_person_detector.py``): MediaPipe's own calculators then
stretch the image to 300x300, decode the boxes against the SSD anchors of the
``object_detection_oid_v4`` graph and apply sigmoid scores, on the CPU or the GPU
delegate, like the pose landmarker.

One step differs from that graph and cannot be configured through the task: the task's
own non-maximum suppression runs over the boxes of every class before the ``Person``
filter, where the graph filters first. ``detect`` then applies the graph's suppression
(IoU 0.5) to the people, so the result differs only where a person's box overlaps a
better-scored box of another class by more than the task's threshold.
"""

from __future__ import annotations

import os

import numpy as np

from transforms.people.boxes import PersonBox, nms

DEFAULT_DETECTOR_NAME = "person_detector_ssd_oidv4.tflite"
DETECTOR_ENV = "REELBEAM_PERSON_DETECTOR"
PERSON_LABEL = "Person"
BACKGROUND_LABEL = "???"
# The graph's min_score_thresh; 0.3-0.4 takes stones and tripods for people.
SCORE_THRESHOLD = 0.5


def default_detector_path() -> str:
    """Where the detector is looked for: ``$REELBEAM_PERSON_DETECTOR``, the checkout, the image."""
    if os.environ.get(DETECTOR_ENV):
        return os.environ[DETECTOR_ENV]
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    checkout = os.path.join(root, "models", DEFAULT_DETECTOR_NAME)
    container = os.path.join("/opt/reelbeam/models", DEFAULT_DETECTOR_NAME)
    return checkout if os.path.exists(checkout) or not os.path.exists(container) else container


class PersonDetector:
    """People in one image, as boxes in its pixels.

    Args:
        model: the ``.tflite`` bytes with metadata.
        delegate: ``"cpu"`` or ``"gpu"``.
        score_threshold: smallest score kept.
    """

    def __init__(
        self, model: bytes, delegate: str = "cpu", score_threshold: float = SCORE_THRESHOLD
    ):
        from mediapipe.tasks.python import BaseOptions, vision

        base = BaseOptions(
            model_asset_buffer=model,
            delegate=BaseOptions.Delegate.GPU if delegate == "gpu" else BaseOptions.Delegate.CPU,
        )
        # The graph ignores class 0 (background) and takes each box's best other class;
        # only then are non-people filtered out, so no allowlist here (an allowlist would
        # score every box as a person even where another class wins).
        options = vision.ObjectDetectorOptions(
            base_options=base,
            running_mode=vision.RunningMode.IMAGE,
            max_results=-1,
            score_threshold=score_threshold,
            category_denylist=[BACKGROUND_LABEL],
        )
        self._detector = vision.ObjectDetector.create_from_options(options)

    def detect(self, rgb: np.ndarray) -> list[PersonBox]:
        """Person boxes of an RGB uint8 image, after the graph's NMS (IoU 0.5)."""
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        result = self._detector.detect(image)
        boxes = []
        for detection in result.detections:
            category = detection.categories[0]
            if category.category_name != PERSON_LABEL:
                continue
            bb = detection.bounding_box
            boxes.append(
                PersonBox(
                    float(bb.origin_x),
                    float(bb.origin_y),
                    float(bb.origin_x + bb.width),
                    float(bb.origin_y + bb.height),
                    float(category.score),
                )
            )
        return nms(boxes)

    def close(self) -> None:
        """Release the task (deterministically: its ``__del__`` fails at interpreter exit)."""
        if self._detector is not None:
            self._detector.close()
            self._detector = None
