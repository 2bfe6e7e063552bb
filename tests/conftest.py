"""Shared fixtures: the real media in ../shared/media, a fixed clock, pipeline options."""

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
    """The folder of real test videos (``../shared/media``); fails with instructions if absent."""
    from pipelines.sample_media import shared_media_dir

    return shared_media_dir()


@pytest.fixture(scope="session")
def squats(shared_media) -> pathlib.Path:
    """pose_squats.mp4: H.264 720x1280, 5 fps, 65 frames, 13.0 s, no audio, one keyframe."""
    return shared_media / "pose_squats.mp4"


@pytest.fixture(scope="session")
def dancer(shared_media) -> pathlib.Path:
    """pose_1.mp4: H.264 576x576, 30 fps, 120 frames, 4.0 s, no audio."""
    return shared_media / "pose_1.mp4"


DIRECT = ["--runner=DirectRunner"]
