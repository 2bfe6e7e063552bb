"""Tests of the PoseLandmarker bundle that `make model` builds (scripts/build_pose_model.py).

The bundle is read from ``models/pose_landmarker_full.task`` or from the path in the
``REELBEAM_POSE_MODEL`` environment variable; the tests skip when it is missing. The clips come
from ``../shared/media`` relative to the repository root.
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

REPO_ROOT = Path(__file__).resolve().parent.parent
MEDIA = REPO_ROOT.parent / "shared" / "media"
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
    "pose_squats.mp4": [
        (357.3, 237.5), (409.3, 348.4), (265.9, 335.6), (368.8, 583.1), (285.1, 577.6),
        (358.2, 774.2), (289.6, 771.2), (346.1, 957.7), (260.5, 952.5),
    ],
    "pose_1.mp4": [
        (287.7, 205.3), (315.1, 236.8), (257.6, 236.7), (303.4, 314.5), (270.8, 314.5),
        (305.6, 368.9), (270.4, 343.0), (302.4, 428.0), (263.1, 378.6),
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
    path = MEDIA / name
    if not path.is_file():
        pytest.skip(f"test clip {path} not found (shared media missing)")
    return path


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
    [("pose_squats.mp4", 8, 8, 0.35), ("pose_1.mp4", 10, 12, 0.3)],
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
