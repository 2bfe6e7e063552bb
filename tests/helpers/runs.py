"""What tests inject into a run: the repository root, a fixed clock, the runner flags."""

from __future__ import annotations

import datetime as dt
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXED_NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
DIRECT = ["--runner=DirectRunner"]
DATAFLOW_DRY_RUN = [
    "--runner=DataflowRunner",
    "--dry_run=True",
    "--project=reelbeam-test",
    "--region=us-central1",
    "--temp_location=gs://reelbeam-test/tmp",
]
"""A Dataflow job that is built and translated but never submitted."""


def fixed_clock() -> dt.datetime:
    """A clock that always says FIXED_NOW, so rows compare exactly."""
    return FIXED_NOW


def counted_run(monkeypatch, argv: list[str], clock=fixed_clock) -> dict[str, int]:
    """One launcher run that must exit 0; returns the counts its summary line was made of.

    Those are the runner's counters, or the launcher's own counts when it found nothing
    to do and started no pipeline.
    """
    from pipelines import launcher

    seen: dict[str, int] = {}
    real = launcher.summary_line

    def spy(totals, *args, **kwargs):
        seen.update(totals or {})
        return real(totals, *args, **kwargs)

    monkeypatch.setattr(launcher, "summary_line", spy)
    assert launcher.run(argv, clock=clock) == 0
    return seen
