"""Tests of the PoseLandmarker bundle that `make model` builds (scripts/build_pose_model.py).

The bundle is read from ``models/pose_landmarker_full.task`` or from the path in the
``REELBEAM_POSE_MODEL`` environment variable; the tests skip when it is missing. The clips are
the real clips of ``tests.helpers.media`` (made from footage fetched from the registries).
"""

from __future__ import annotations

import os
import statistics
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
av = pytest.importorskip("av")
mp = pytest.importorskip("mediapipe")
vision = pytest.importorskip("mediapipe.tasks.python.vision")
BaseOptions = pytest.importorskip("mediapipe.tasks.python").BaseOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLE = Path(
    os.environ.get("REELBEAM_POSE_MODEL", REPO_ROOT / "models" / "pose_landmarker_full.task")
)
ENTRIES = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
ALIGNMENT = 64

NOSE, LEFT_HIP, RIGHT_HIP = 0, 23, 24
# Nose, shoulders, hips, knees and ankles (left, right).
KEY_LANDMARKS = (0, 11, 12, 23, 24, 25, 26, 27, 28)
# Pixel positions of KEY_LANDMARKS on frame 0 of each clip, from the legacy
# mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) of mediapipe 0.10.21,
# which runs the same BlazePose models. A bundle with wrong input normalization lands several
# pixels away; a right one within about a pixel.
LEGACY_FRAME0 = {
    "dance.mp4": [
        (343.3, 42.5), (357.8, 70.8), (325.8, 72.4), (350.9, 141.3), (329.2, 141.8),
        (349.9, 198.9), (322.6, 199.1), (355.4, 252.1), (343.3, 247.3),
    ],
    "dance_small.mp4": [
        (182.7, 22.5), (190.5, 37.4), (173.3, 38.1), (186.9, 74.6), (175.2, 75.0),
        (186.7, 105.9), (171.9, 105.8), (189.3, 133.4), (182.7, 131.4),
    ],
}  # fmt: skip

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def bundle() -> Path:
    if not BUNDLE.is_file():
        pytest.skip(
            f"pose model bundle {BUNDLE} not found: run `make model` "
            "(or set REELBEAM_POSE_MODEL to a built .task file)"
        )
    return BUNDLE


def clip(name: str) -> Path:
    from tests.helpers.media import shared_media

    return shared_media(name)


def rgb_frames(path: Path, count: int, step: int = 1) -> Iterator[tuple[Any, int]]:
    """Yields (C-contiguous RGB uint8 array, integer ms timestamp) for every step-th frame."""
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= count * step:
                break
            if index % step == 0:
                rgb = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
                yield rgb, round(frame.time * 1000)


def srgb(array: Any) -> Any:
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=array)


def landmarker(mode: Any, **base: Any) -> Any:
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(**base), running_mode=mode, num_poses=1
    )
    return vision.PoseLandmarker.create_from_options(options)


def assert_plausible_person(pose: Any, min_height: float) -> None:
    assert len(pose) == 33
    xs = [lm.x for lm in pose]
    ys = [lm.y for lm in pose]
    assert all(-0.1 <= v <= 1.1 for v in xs + ys), "landmarks far outside the frame"
    assert max(ys) - min(ys) >= min_height, "pose too small for the person in this clip"
    assert ys[NOSE] < (ys[LEFT_HIP] + ys[RIGHT_HIP]) / 2, "nose not above the hips"
    assert statistics.mean(lm.visibility for lm in pose) > 0.5


def test_bundle_is_stored_zip_with_aligned_models(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf, open(bundle, "rb") as raw:
        assert sorted(zf.namelist()) == sorted(ENTRIES)
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED, f"{info.filename} is compressed"
            raw.seek(info.header_offset)
            header = raw.read(30)
            assert header[:4] == b"PK\x03\x04"
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            data_offset = info.header_offset + 30 + name_len + extra_len
            assert data_offset % ALIGNMENT == 0, f"{info.filename} data at {data_offset}"
            raw.seek(data_offset)
            # TFLite flatbuffers carry the "TFL3" identifier at bytes 4-8.
            assert raw.read(8)[4:] == b"TFL3", f"{info.filename} is not a TFLite model"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("name", "count", "step", "min_height"),
    [("dance.mp4", 8, 5, 0.35), ("dance_small.mp4", 10, 2, 0.3)],
)
def test_detects_the_person_in_video_mode(
    bundle: Path, name: str, count: int, step: int, min_height: float
) -> None:
    frames = 0
    with landmarker(vision.RunningMode.VIDEO, model_asset_path=str(bundle)) as lmk:
        for rgb, ms in rgb_frames(clip(name), count, step):
            frames += 1
            result = lmk.detect_for_video(srgb(rgb), ms)
            assert len(result.pose_landmarks) == 1, f"no pose at {ms} ms of {name}"
            assert_plausible_person(result.pose_landmarks[0], min_height)
            assert len(result.pose_world_landmarks[0]) == 33
    assert frames == count


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(LEGACY_FRAME0))
def test_matches_legacy_solution_on_first_frame(bundle: Path, name: str) -> None:
    rgb, _ = next(rgb_frames(clip(name), 1))
    height, width = rgb.shape[:2]
    with landmarker(vision.RunningMode.IMAGE, model_asset_buffer=bundle.read_bytes()) as lmk:
        result = lmk.detect(srgb(rgb))
    assert len(result.pose_landmarks) == 1
    pose = result.pose_landmarks[0]
    distances = [
        ((pose[i].x * width - x) ** 2 + (pose[i].y * height - y) ** 2) ** 0.5
        for i, (x, y) in zip(KEY_LANDMARKS, LEGACY_FRAME0[name], strict=True)
    ]
    assert statistics.median(distances) < 1.5, distances
    assert max(distances) < 5.0, distances


@pytest.mark.integration
def test_finds_nobody_on_a_uniform_gray_frame(bundle: Path) -> None:
    gray = np.full((480, 640, 3), 128, dtype=np.uint8)
    with landmarker(vision.RunningMode.IMAGE, model_asset_buffer=bundle.read_bytes()) as lmk:
        result = lmk.detect(srgb(gray))
    assert result.pose_landmarks == []
