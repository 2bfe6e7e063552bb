"""Build and verify the person detector that reelbeam runs before pose, offline.

The model is MediaPipe's SSD-MobileNetV2 trained on Open Images v4 (24 classes, one of
them ``Person``), ``object_detection_ssd_mobilenetv2_oidv4_fp16.tflite``. No PyPI wheel
carries it; the npm package ``@mediapipe/objectron`` does, packed in
``objectron_solution_packed_assets.data`` after the label map (the package's
``objectron_solution_packed_assets_loader.js`` lists the byte ranges). This script:

* fetches that package with ``npm pack`` into a temporary folder (or takes ``--package``,
  a tarball fetched before), cuts out the label map and the model, and checks the
  model's sha256 against the pinned value;
* writes TFLite metadata with mediapipe 0.10.21's object-detector writer for SSD models
  without built-in NMS: image input scaled to [-1, 1] (mean 127.5, std 127.5), the label
  map, and the decoding of MediaPipe's own ``object_detection_oid_v4`` graph (the 1917
  anchors of ``transforms.people.ssd_anchors``, box scales 10, 10, 5, 5, exponential box
  size, sigmoid scores). With it, mediapipe 1.2's ``ObjectDetector`` task runs the model
  in the same runtime (and on the same GPU delegate) as the pose landmarker;
* writes the model and, beside it, its licence notice, each atomically.

Two modes, run with two different interpreters, as for the pose bundle:

    .venv-model/bin/python scripts/build_person_detector.py --out models/person_detector_ssd_oidv4.tflite
    .venv/bin/python scripts/build_person_detector.py --verify models/person_detector_ssd_oidv4.tflite

Nothing is downloaded at run time: the pipeline only reads the file built here.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

NPM_PACKAGE = "@mediapipe/objectron"
NPM_VERSION = "0.4.1675468480"
PACKED_MEMBER = "package/objectron_solution_packed_assets.data"
LABELS_RANGE = (0, 184)
MODEL_RANGE = (184, 9_987_912)
MODEL_SHA256 = "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6"
PERSON_LABEL = "Person"
NUM_CLASSES = 24
NUM_BOXES = 1917

NOTICE = f"""person_detector_ssd_oidv4.tflite

object_detection_ssd_mobilenetv2_oidv4_fp16.tflite, from the npm package
{NPM_PACKAGE} {NPM_VERSION} (file objectron_solution_packed_assets.data,
bytes {MODEL_RANGE[0]}-{MODEL_RANGE[1]}, sha256 {MODEL_SHA256}),
with TFLite metadata (input normalization, label map, SSD anchors and box decoding)
added by reelbeam's scripts/build_person_detector.py.

Copyright The MediaPipe Authors.
Licensed under the Apache License, Version 2.0 (the "License"), as the package states;
you may not use this file except in compliance with the License. You may obtain a copy
of the License at http://www.apache.org/licenses/LICENSE-2.0
Unless required by applicable law or agreed to in writing, software distributed under
the License is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY
KIND, either express or implied.
"""


class BuildError(RuntimeError):
    """The detector could not be fetched, checked, built or verified."""


def fetch_package(into: Path) -> Path:
    """``npm pack`` the pinned package into ``into``; returns the tarball."""
    try:
        done = subprocess.run(
            ["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent"],
            cwd=into,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BuildError(f"npm pack {NPM_PACKAGE}@{NPM_VERSION} failed: {exc}") from exc
    name = done.stdout.strip().splitlines()[-1]
    return into / name


def extract(tarball: Path) -> tuple[bytes, list[str]]:
    """The raw model and the label map from the package tarball, the model checked.

    Raises:
        BuildError: the member is missing or the model's sha256 is not the pinned one.
    """
    with tarfile.open(tarball) as archive:
        try:
            member = archive.extractfile(PACKED_MEMBER)
        except KeyError as exc:
            raise BuildError(f"{tarball} has no {PACKED_MEMBER}") from exc
        packed = member.read()
    model = packed[MODEL_RANGE[0] : MODEL_RANGE[1]]
    digest = hashlib.sha256(model).hexdigest()
    if digest != MODEL_SHA256:
        raise BuildError(f"model sha256 {digest} is not the pinned {MODEL_SHA256}")
    labels = packed[LABELS_RANGE[0] : LABELS_RANGE[1]].decode().splitlines()
    if len(labels) != NUM_CLASSES or labels[4] != PERSON_LABEL:
        raise BuildError(f"unexpected label map: {labels}")
    return model, labels


def add_metadata(model: bytes, labels: list[str]) -> bytes:
    """The model with the metadata mediapipe's ``ObjectDetector`` task needs."""
    sys.path.insert(0, str(REPO_ROOT))
    from mediapipe.tasks.python.metadata.metadata_writers import (
        metadata_info,
        metadata_writer,
        object_detector,
    )

    from transforms.people.ssd_anchors import ssd_anchors

    anchors = [
        object_detector.FixedAnchor(a.x_center, a.y_center, a.width, a.height)
        for a in ssd_anchors()
    ]
    decoding = object_detector.TensorsDecodingOptions(
        num_classes=NUM_CLASSES,
        num_boxes=NUM_BOXES,
        num_coords=4,
        keypoint_coord_offset=0,
        num_keypoints=0,
        # TensorsToDetectionsCalculator checks 2 even when there are no keypoints.
        num_values_per_keypoint=2,
        x_scale=10.0,
        y_scale=10.0,
        w_scale=5.0,
        h_scale=5.0,
        apply_exponential_on_box_size=True,
        sigmoid_score=True,
    )
    writer = object_detector.MetadataWriter.create_for_models_without_nms(
        bytearray(model),
        [127.5],
        [127.5],
        metadata_writer.Labels().add(labels),
        object_detector.SsdAnchorsOptions(object_detector.FixedAnchorsSchema(anchors)),
        decoding,
        metadata_info.RawDetectionOutputTensorsOrder.LOCATION_SCORE,
    )
    content, _ = writer.populate()
    return bytes(content)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary name in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def notice_path(model_path: Path) -> Path:
    """Where the licence notice lies beside the model."""
    return model_path.with_name(model_path.name + ".NOTICE")


def is_current(out: Path) -> bool:
    """Whether ``out`` is already built from the pinned model (its notice names the pin)."""
    notice = notice_path(out)
    return out.exists() and notice.exists() and MODEL_SHA256 in notice.read_text()


def build(out: Path, package: Path | None = None) -> str:
    """Fetch, check, add metadata and write ``out`` and its notice; returns the sha256."""
    with tempfile.TemporaryDirectory(prefix="reelbeam-detector-") as tmp:
        tarball = package or fetch_package(Path(tmp))
        model, labels = extract(tarball)
    data = add_metadata(model, labels)
    write_atomically(notice_path(out), NOTICE.encode())
    write_atomically(out, data)
    return hashlib.sha256(data).hexdigest()


def verify(model_path: Path, video: Path) -> None:
    """Check the built detector with the project's mediapipe: a person, and none on grey."""
    sys.path.insert(0, str(REPO_ROOT))
    import av
    import numpy as np

    from transforms.people.detector import PersonDetector

    if not notice_path(model_path).exists():
        raise BuildError(f"no licence notice beside {model_path}")
    detector = PersonDetector(model_path.read_bytes())
    try:
        with av.open(str(video)) as container:
            frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
        found = detector.detect(frame)
        grey = detector.detect(np.full((480, 640, 3), 128, dtype=np.uint8))
    finally:
        detector.close()
    if not found:
        raise BuildError(f"{model_path}: no person found in the first frame of {video.name}")
    if grey:
        raise BuildError(f"{model_path}: {len(grey)} person(s) found on a grey frame")
    print(f"detector: {model_path} ({model_path.stat().st_size} bytes)")
    print(f"  {video.name}: {[b.rounded() for b in found]}; none on a grey frame")
    print("OK")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the build or the verification; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", type=Path, help="build here (needs mediapipe==0.10.21)")
    mode.add_argument("--verify", type=Path, metavar="MODEL", help="check MODEL")
    parser.add_argument("--package", type=Path, help="npm tarball fetched before (no npm)")
    parser.add_argument("--video", type=Path, help="clip of a person for --verify")
    args = parser.parse_args(argv)
    try:
        if args.out is not None and is_current(args.out):
            print(f"{args.out} is built from the pinned model; nothing to do")
        elif args.out is not None:
            print(f"sha256 {build(args.out, args.package)}  {args.out}")
        elif args.video is None:
            parser.error("--verify needs --video (make model passes the dance clip)")
        else:
            verify(args.verify, args.video)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
