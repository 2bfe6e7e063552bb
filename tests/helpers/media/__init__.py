"""Sample and test media: real footage from the registries, and clips written with PyAV.

These helpers write small, deterministic media files whose properties are known exactly, so
tests, benchmarks and ``make run`` can check the pipeline against a ground truth. They live
under ``tests/`` because only tests, benchmarks and ``make sample`` use them; nothing under
``pipelines/`` or ``transforms/`` imports them.

* :mod:`~tests.helpers.media.footage`: real footage of people, pinned in ``footage.toml``,
  fetched from the package registries and cached outside git (:func:`footage_path`).
* :mod:`~tests.helpers.media.real_clips`: the H.264 clips made from that footage
  (:data:`POSE_DANCE`, :data:`POSE_DANCE_SMALL`; :func:`shared_media_dir`).
* :mod:`~tests.helpers.media.synthetic`: :func:`write_synthetic_clip` (moving box, still or
  noise, with rotation, non-square pixels, VFR, audio, any container) and
  :func:`write_audio_only`.
* :mod:`~tests.helpers.media.garbage`: :func:`write_garbage`, inputs that are not videos.
* :mod:`~tests.helpers.media.freeze_motion`: :func:`write_freeze_motion_clip`, real footage
  with still stretches, so the exact seconds during which a person moves are known.
* :mod:`~tests.helpers.media.sample`: :func:`build_sample`, the archive ``make run`` catalogs;
  ``python -m tests.helpers.media DEST`` does the same from the command line.

Everything is written with PyAV only (no ``ffmpeg`` binary), each file to a temporary name
next to the destination and renamed into place, so a reader never sees a half-written file.
The rotation convention (clockwise ``rotation_deg``) is in :mod:`~tests.helpers.media.truth`.
"""

from tests.helpers.media.footage import (
    ENV_CACHE,
    ENV_SHARED_MEDIA,
    FootageError,
    FootageSource,
    cache_root,
    footage_path,
    load_sources,
)
from tests.helpers.media.freeze_motion import PlanStep, write_freeze_motion_clip
from tests.helpers.media.garbage import GarbageKind, write_garbage
from tests.helpers.media.real_clips import (
    POSE_DANCE,
    POSE_DANCE_SMALL,
    shared_media,
    shared_media_dir,
)
from tests.helpers.media.sample import build_sample, main
from tests.helpers.media.synthetic import Pattern, write_audio_only, write_synthetic_clip
from tests.helpers.media.truth import AudioTruth, ClipTruth, clockwise_rotation

__all__ = [
    "ENV_CACHE",
    "ENV_SHARED_MEDIA",
    "POSE_DANCE",
    "POSE_DANCE_SMALL",
    "AudioTruth",
    "ClipTruth",
    "FootageError",
    "FootageSource",
    "GarbageKind",
    "Pattern",
    "PlanStep",
    "build_sample",
    "cache_root",
    "clockwise_rotation",
    "footage_path",
    "load_sources",
    "main",
    "shared_media",
    "shared_media_dir",
    "write_audio_only",
    "write_freeze_motion_clip",
    "write_garbage",
    "write_synthetic_clip",
]
