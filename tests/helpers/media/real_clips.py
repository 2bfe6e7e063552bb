"""The real clips of people that tests, benchmarks and ``make run`` use, made from the footage.

The pinned footage (``footage.toml``) is a GIF; the pipeline takes video files. Each clip
here is that footage re-encoded once with :func:`write_freeze_motion_clip` (one ``play``
step: every source frame, in real time) into H.264 MP4, and cached beside the footage in
``<cache>/clips/<fingerprint>/``. The fingerprint covers the footage's SHA-256, the recipe and
the PyAV version, so a change to any of them makes a fresh folder instead of reusing stale
bytes.

Ground truth of the clips (H.264 yuv420p, one keyframe, no audio, no rotation, square pixels):

* :data:`POSE_DANCE` ``dance.mp4``: 600x338, 10 fps, 42 frames, 4.2 s; one woman dancing,
  full body, moving the whole time (she sits down on a sofa in the last 0.4 s).
* :data:`POSE_DANCE_SMALL` ``dance_small.mp4``: the same at 320x180 and 5 fps, 21 frames,
  4.2 s; the person is about 100 px tall.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import av

from tests.helpers.media.footage import ENV_SHARED_MEDIA, cache_root, footage_path, load_sources
from tests.helpers.media.freeze_motion import write_freeze_motion_clip

POSE_DANCE = "dance.mp4"
"""Woman dancing: H.264 600x338, 10 fps, 42 frames, 4.2 s, one keyframe, no audio."""

POSE_DANCE_SMALL = "dance_small.mp4"
"""The same dance: H.264 320x180, 5 fps, 21 frames, 4.2 s, one keyframe, no audio."""

_RECIPE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class _ClipRecipe:
    """How one clip is made from a footage file."""

    footage: str
    fps: int
    size: int | None = None


_CLIPS: dict[str, _ClipRecipe] = {
    POSE_DANCE: _ClipRecipe("dance_input.gif", fps=10),
    POSE_DANCE_SMALL: _ClipRecipe("dance_input.gif", fps=5, size=320),
}


def _fingerprint() -> str:
    """Digest of everything that decides the clips' bytes."""
    pins = load_sources()
    recipe = {
        "version": _RECIPE_VERSION,
        "av": av.__version__,
        "clips": {name: dataclasses.asdict(clip) for name, clip in sorted(_CLIPS.items())},
        "footage": {
            name: pins[name].sha256 for name in sorted({c.footage for c in _CLIPS.values()})
        },
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def shared_media_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder of real clips (:data:`POSE_DANCE`, :data:`POSE_DANCE_SMALL`), made on first use.

    The footage comes from ``$REELBEAM_SHARED_MEDIA`` when set, else from the cache, else from
    the registries (see :mod:`tests.helpers.media.footage`). The clips themselves always live
    in the cache, never in the repository.

    Args:
        env: Environment to read the variables from; default ``os.environ``.

    Returns:
        The absolute folder holding every clip.

    Raises:
        FootageError: The footage could not be had or did not match its pin (one line).
    """
    env = os.environ if env is None else env
    # The footage a REELBEAM_SHARED_MEDIA folder holds is checked against the same pins, so the
    # clips made from it are the same as from the registry: one cache folder serves both.
    folder = cache_root(env) / "clips" / _fingerprint()
    for name, clip in _CLIPS.items():
        target = folder / name
        if not target.is_file():
            source = footage_path(clip.footage, env=env)
            write_freeze_motion_clip(target, source, [("play", None)], fps=clip.fps, size=clip.size)
    return folder


def shared_media(name: str) -> Path:
    """The path of one real clip, e.g. ``shared_media(POSE_DANCE)``.

    Args:
        name: :data:`POSE_DANCE` or :data:`POSE_DANCE_SMALL`.

    Returns:
        The absolute path of the clip.

    Raises:
        FileNotFoundError: No clip of that name.
        FootageError: The footage could not be had (see :func:`shared_media_dir`).
    """
    if name not in _CLIPS:
        raise FileNotFoundError(f"no real clip named {name!r}; known: {sorted(_CLIPS)}")
    return shared_media_dir() / name


__all__ = ["ENV_SHARED_MEDIA", "POSE_DANCE", "POSE_DANCE_SMALL", "shared_media", "shared_media_dir"]
