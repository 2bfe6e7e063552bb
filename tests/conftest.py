"""Shared fixtures: the real clips (tests.helpers.media), a fixed clock, pipeline options."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
FIXED_NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def fixed_clock() -> dt.datetime:
    """A clock that always says FIXED_NOW, so rows compare exactly."""
    return FIXED_NOW


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


DIRECT = ["--runner=DirectRunner"]
