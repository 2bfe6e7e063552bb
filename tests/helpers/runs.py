"""What tests inject into a run: the repository root, a fixed clock, the runner flags."""

from __future__ import annotations

import datetime as dt
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXED_NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
DIRECT = ["--runner=DirectRunner"]


def fixed_clock() -> dt.datetime:
    """A clock that always says FIXED_NOW, so rows compare exactly."""
    return FIXED_NOW
