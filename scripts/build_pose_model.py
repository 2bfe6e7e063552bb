"""Build and verify the MediaPipe PoseLandmarker bundle that reelbeam uses offline.

mediapipe 1.2.x ships only the Tasks API and no pose model, and nothing may be downloaded at
run time. The ``mediapipe==0.10.21`` wheel on PyPI, however, carries the real BlazePose models
of the legacy ``mp.solutions.pose`` API. This script turns them into a ``.task`` bundle that the
Tasks API's ``PoseLandmarker`` loads:

* ``pose_detection.tflite`` becomes ``pose_detector.tflite``, with image input metadata
  (normalization mean 127.5, std 127.5, i.e. pixels scaled to [-1, 1], as in the official
  bundle) and two feature outputs (boxes and scores);
* ``pose_landmark_full.tflite`` becomes ``pose_landmarks_detector.tflite``, with image input
  metadata (mean 0, std 255, i.e. pixels scaled to [0, 1]) and five feature outputs. Without
  this metadata the Tasks API refuses the model ("requires specifying NormalizationOptions
  metadata");
* both go into a zip archive, stored (no compression), each entry's data aligned to 64 bytes
  so that the runtime can mmap it, with fixed timestamps so that the output is byte-for-byte
  reproducible.

Two modes, run with two different interpreters:

Build, with the model venv where ``mediapipe==0.10.21`` is installed (see
``containers/model-requirements.txt``)::

    .venv-model/bin/python scripts/build_pose_model.py --out models/pose_landmarker_full.task

Verify, with the project's venv (mediapipe 1.2.x and PyAV); this mode never imports the
0.10.21-only metadata writers::

    .venv/bin/python scripts/build_pose_model.py --verify models/pose_landmarker_full.task \
        --video "$(.venv/bin/python -m tests.helpers.media --clip dance.mp4)"
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import struct
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

# The mediapipe release whose wheel carries the BlazePose models (and the metadata writers).
SOURCE_MEDIAPIPE_VERSION = "0.10.21"

DETECTOR_ENTRY = "pose_detector.tflite"
LANDMARKS_ENTRY = "pose_landmarks_detector.tflite"
BUNDLE_ENTRIES = (DETECTOR_ENTRY, LANDMARKS_ENTRY)

ALIGNMENT = 64
# Every entry gets this timestamp so that the bundle is reproducible (the zip format's epoch).
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
# Extra field ID used for alignment padding (the one Android's zipalign uses).
_ALIGN_EXTRA_ID = 0xD935
_LOCAL_HEADER_SIZE = 30

NUM_LANDMARKS = 33
_NOSE = 0
_LEFT_HIP, _RIGHT_HIP = 23, 24


@dataclass(frozen=True)
class ModelSpec:
    """How one model of the bundle is made from the mediapipe 0.10.21 package.

    Attributes:
        entry: Name of the file inside the ``.task`` bundle.
        source: Path of the ``.tflite`` file relative to the installed ``mediapipe`` package.
        name: Model name written into the metadata.
        description: Model description written into the metadata.
        norm_mean: Input normalization mean (per channel, broadcast if one value).
        norm_std: Input normalization standard deviation.
        num_outputs: Number of output tensors, each described as a feature output.
    """

    entry: str
    source: str
    name: str
    description: str
    norm_mean: float
    norm_std: float
    num_outputs: int


MODEL_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        entry=DETECTOR_ENTRY,
        source="modules/pose_detection/pose_detection.tflite",
        name="pose_detector",
        description="BlazePose person detector (224x224 RGB input, SSD anchors).",
        norm_mean=127.5,
        norm_std=127.5,
        num_outputs=2,
    ),
    ModelSpec(
        entry=LANDMARKS_ENTRY,
        source="modules/pose_landmark/pose_landmark_full.tflite",
        name="pose_landmarks_detector",
        description="BlazePose GHUM 3D full landmark model (256x256 RGB input, 33 landmarks).",
        norm_mean=0.0,
        norm_std=255.0,
        num_outputs=5,
    ),
)


class BundleError(Exception):
    """Raised when the bundle cannot be built or fails verification."""


# --------------------------------------------------------------------------------------------
# Build mode (model venv, mediapipe==0.10.21)
# --------------------------------------------------------------------------------------------


def find_source_package() -> Path:
    """Locates the installed mediapipe 0.10.21 package directory without importing it.

    Returns:
        The directory of the ``mediapipe`` package.

    Raises:
        BundleError: If mediapipe is missing or is not version 0.10.21.
    """
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise BundleError(
            f"mediapipe is not installed in {sys.executable}; build mode needs "
            f"mediapipe=={SOURCE_MEDIAPIPE_VERSION} (install containers/model-requirements.txt "
            "into a separate venv)"
        )
    version = importlib.metadata.version("mediapipe")
    if version != SOURCE_MEDIAPIPE_VERSION:
        raise BundleError(
            f"build mode needs mediapipe=={SOURCE_MEDIAPIPE_VERSION}, which ships the BlazePose "
            f"models; {sys.executable} has mediapipe {version}. Run it with the model venv."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def add_metadata(model: bytes, spec: ModelSpec) -> bytes:
    """Writes TFLite metadata (image input and feature outputs) into a model.

    Args:
        model: The ``.tflite`` flatbuffer without metadata.
        spec: What to write.

    Returns:
        The model with its metadata populated.
    """
    # Imported here: this module exists (and imports) only in mediapipe 0.10.x.
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(spec.name, spec.description)
    writer.add_image_input(norm_mean=[spec.norm_mean], norm_std=[spec.norm_std])
    for _ in range(spec.num_outputs):
        writer.add_feature_output()
    model_with_metadata, _ = writer.populate()
    return bytes(model_with_metadata)


def _aligned_zip_info(name: str, offset: int) -> zipfile.ZipInfo:
    """Makes a fixed-timestamp stored ZipInfo whose data will start on an aligned offset.

    The padding goes into an extra field of the local header, as zipalign does, so that the
    archive has no bytes outside its records.

    Args:
        name: Entry name.
        offset: File offset where the entry's local header will be written.

    Returns:
        The ZipInfo to pass to ``ZipFile.writestr``.
    """
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3  # Unix, whatever the build host.
    info.external_attr = 0o100644 << 16
    unpadded = offset + _LOCAL_HEADER_SIZE + len(name.encode("utf-8")) + 4
    padding = -unpadded % ALIGNMENT
    info.extra = struct.pack("<HH", _ALIGN_EXTRA_ID, padding) + b"\x00" * padding
    return info


def write_bundle(models: dict[str, bytes], out: Path) -> str:
    """Writes a stored, 64-byte aligned zip atomically (temp file in the same folder, rename).

    Args:
        models: Entry name to file content, written in this order.
        out: Destination path; its folder is created if needed.

    Returns:
        The hex sha256 of the written bundle.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, mode="w", compression=zipfile.ZIP_STORED) as zf:
                for name, content in models.items():
                    zf.writestr(_aligned_zip_info(name, raw.tell()), content)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        check_bundle_layout(tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return hashlib.sha256(out.read_bytes()).hexdigest()


def build(out: Path) -> str:
    """Builds the PoseLandmarker bundle from the installed mediapipe 0.10.21 package.

    Args:
        out: Where to write the ``.task`` file.

    Returns:
        The hex sha256 of the bundle.

    Raises:
        BundleError: If mediapipe 0.10.21 or one of its models is missing.
    """
    package = find_source_package()
    models: dict[str, bytes] = {}
    for spec in MODEL_SPECS:
        source = package / spec.source
        if not source.is_file():
            raise BundleError(f"{source} not found in the installed mediapipe package")
        models[spec.entry] = add_metadata(source.read_bytes(), spec)
    return write_bundle(models, out)


# --------------------------------------------------------------------------------------------
# Layout check (any venv, standard library only)
# --------------------------------------------------------------------------------------------


def check_bundle_layout(path: Path) -> list[tuple[str, int, int]]:
    """Checks that a bundle is a stored zip holding the two models, each 64-byte aligned.

    Args:
        path: The ``.task`` file.

    Returns:
        ``(name, data_offset, size)`` for each entry.

    Raises:
        BundleError: If the file is not such a zip.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{path} is not a readable zip archive: {exc}") from exc
    entries: list[tuple[str, int, int]] = []
    with zf, open(path, "rb") as raw:
        names = sorted(zf.namelist())
        if names != sorted(BUNDLE_ENTRIES):
            raise BundleError(f"{path} holds {names}, expected {sorted(BUNDLE_ENTRIES)}")
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise BundleError(f"{path}: {info.filename} is compressed; it must be stored")
            raw.seek(info.header_offset)
            header = raw.read(_LOCAL_HEADER_SIZE)
            if header[:4] != b"PK\x03\x04":
                raise BundleError(f"{path}: bad local header for {info.filename}")
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            data_offset = info.header_offset + _LOCAL_HEADER_SIZE + name_len + extra_len
            if data_offset % ALIGNMENT:
                raise BundleError(
                    f"{path}: {info.filename} data starts at {data_offset}, "
                    f"not a multiple of {ALIGNMENT}"
                )
            entries.append((info.filename, data_offset, info.file_size))
    return entries


# --------------------------------------------------------------------------------------------
# Verify mode (project venv, mediapipe 1.2.x + PyAV)
# --------------------------------------------------------------------------------------------


def iter_rgb_frames(video: Path, max_frames: int) -> Iterator[tuple[Any, int]]:
    """Decodes the first frames of a video as RGB arrays with millisecond timestamps.

    Args:
        video: The video file.
        max_frames: How many frames to yield at most.

    Yields:
        ``(rgb, timestamp_ms)`` with ``rgb`` a C-contiguous ``uint8`` array of shape (H, W, 3)
        and strictly increasing integer timestamps, as ``detect_for_video`` requires.
    """
    import av
    import numpy as np

    last_ms = -1
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 30)
        for index, frame in enumerate(container.decode(stream)):
            if index >= max_frames:
                break
            ms = round(frame.time * 1000) if frame.time is not None else round(index * 1000 / rate)
            ms = max(ms, last_ms + 1)
            last_ms = ms
            # mp.Image copies raw memory and ignores numpy strides: a padded or sliced array
            # is silently misread, so always hand it a C-contiguous one.
            yield np.ascontiguousarray(frame.to_ndarray(format="rgb24")), ms


def pose_problem(landmarks: Sequence[Any]) -> str | None:
    """Says why a detected pose is implausible, or returns None if it looks like a person.

    Args:
        landmarks: The normalized landmarks of one pose.

    Returns:
        A description of the problem, or None.
    """
    if len(landmarks) != NUM_LANDMARKS:
        return f"{len(landmarks)} landmarks instead of {NUM_LANDMARKS}"
    xs = [lm.x for lm in landmarks]
    ys = [lm.y for lm in landmarks]
    inside = sum(-0.2 <= x <= 1.2 and -0.2 <= y <= 1.2 for x, y in zip(xs, ys, strict=True))
    if inside < 0.9 * NUM_LANDMARKS:
        return f"only {inside}/{NUM_LANDMARKS} landmarks near the image"
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    if width * height < 0.005 or height < 0.05:
        return f"landmarks span only {width:.3f} x {height:.3f} of the image"
    hips_y = (ys[_LEFT_HIP] + ys[_RIGHT_HIP]) / 2
    if ys[_NOSE] >= hips_y:
        return "nose is not above the hips"
    return None


def verify(bundle: Path, video: Path, max_frames: int) -> None:
    """Loads the bundle with the installed mediapipe Tasks API and checks it finds a person.

    Creates a PoseLandmarker from the file path in VIDEO mode and runs it on the first frames
    of ``video``; then creates one from the in-memory buffer in IMAGE mode and checks that it
    finds nobody on a uniform gray frame. Prints a short summary.

    Args:
        bundle: The ``.task`` file.
        video: A clip showing one person.
        max_frames: How many frames of the clip to run.

    Raises:
        BundleError: If the bundle fails to load or to detect a plausible person.
    """
    if not bundle.is_file():
        raise BundleError(f"{bundle} not found; build it with `make model`")
    entries = check_bundle_layout(bundle)
    if not video.is_file():
        raise BundleError(f"test video {video} not found")

    import mediapipe as mp
    import numpy as np
    from mediapipe.tasks.python import BaseOptions, vision

    def options(mode: Any, **base: Any) -> Any:
        return vision.PoseLandmarkerOptions(
            base_options=BaseOptions(**base), running_mode=mode, num_poses=1
        )

    try:
        landmarker = vision.PoseLandmarker.create_from_options(
            options(vision.RunningMode.VIDEO, model_asset_path=str(bundle))
        )
    except Exception as exc:
        raise BundleError(f"mediapipe {mp.__version__} cannot load {bundle}: {exc}") from exc

    frames = found = 0
    problems: list[str] = []
    visibilities: list[float] = []
    heights: list[float] = []
    started = time.perf_counter()
    with landmarker:
        for rgb, ms in iter_rgb_frames(video, max_frames):
            frames += 1
            result = landmarker.detect_for_video(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), ms
            )
            if not result.pose_landmarks:
                continue
            pose = result.pose_landmarks[0]
            problem = pose_problem(pose)
            if problem:
                problems.append(f"frame {frames - 1} ({ms} ms): {problem}")
                continue
            found += 1
            visibilities.extend(lm.visibility or 0.0 for lm in pose)
            ys = [lm.y for lm in pose]
            heights.append((max(ys) - min(ys)) * rgb.shape[0])
    elapsed = time.perf_counter() - started

    if frames == 0:
        raise BundleError(f"could not decode any frame of {video}")
    if found == 0 or found < frames / 2:
        detail = "; ".join(problems[:3]) or "no pose detected"
        raise BundleError(
            f"{bundle}: plausible person in only {found}/{frames} frames of {video.name} ({detail})"
        )

    gray = np.full((480, 640, 3), 128, dtype=np.uint8)
    with vision.PoseLandmarker.create_from_options(
        options(vision.RunningMode.IMAGE, model_asset_buffer=bundle.read_bytes())
    ) as image_landmarker:
        ghosts = image_landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=gray))
    if ghosts.pose_landmarks:
        raise BundleError(f"{bundle}: detected {len(ghosts.pose_landmarks)} pose(s) on gray")

    print(f"bundle: {bundle} ({bundle.stat().st_size} bytes)")
    for name, offset, size in entries:
        print(f"  {name}: {size} bytes at offset {offset}")
    print(f"mediapipe {mp.__version__}: person in {found}/{frames} frames of {video.name}")
    print(
        f"  mean visibility {sum(visibilities) / len(visibilities):.2f}, "
        f"pose height {min(heights):.0f}-{max(heights):.0f} px, "
        f"{1000 * elapsed / frames:.0f} ms/frame; none on a gray frame"
    )
    print("OK")


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` if None.

    Returns:
        The parsed arguments.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", type=Path, help="build the bundle here (needs mediapipe==0.10.21)")
    mode.add_argument(
        "--verify", type=Path, metavar="BUNDLE", help="check BUNDLE with the installed mediapipe"
    )
    parser.add_argument(
        "--video",
        type=Path,
        help="clip of one person for --verify, e.g. the path that "
        "`python -m tests.helpers.media --clip dance.mp4` prints",
    )
    parser.add_argument("--frames", type=int, default=10, help="frames to run for --verify")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the build or the verification.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` if None.

    Returns:
        The process exit status.
    """
    args = parse_args(argv)
    try:
        if args.out is not None:
            digest = build(args.out)
            print(f"sha256 {digest}  {args.out}")
        else:
            if args.video is None:
                raise BundleError("--verify needs --video, a clip of one person")
            verify(args.verify, args.video, args.frames)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
