"""A clean run of the ``make run`` sample prints reelbeam's lines only, and few of them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.runs import REPO

PATH_PATTERN = r"(?P<event>[^/]+)/(?P<day>day\d+)/(?P<camera>[^/.]+)\.\w+$"
MAX_LINES = 15  # besides the progress line, which is drawn on terminals only


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from tests.helpers.media import build_sample

    folder = tmp_path_factory.mktemp("sample")
    build_sample(folder)
    return folder


def _make_run(sample, out, *extra: str) -> tuple[str, list[str]]:
    """``make run``'s command in a subprocess: its summary (last stdout line), every line."""
    argv = [
        sys.executable,
        "-m",
        "pipelines.main",
        f"--input={sample}",
        f"--output={out}",
        f"--path_pattern={PATH_PATTERN}",
        "--video_id_template={event}-{day}-{camera}",
        "--runner=DirectRunner",
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for key in ("REELBEAM_LOG_LEVEL", "GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL"):
        env.pop(key, None)
    proc = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.splitlines()[-1], (proc.stdout + proc.stderr).splitlines()


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_default_run_is_quiet_and_verbose_shows_everything(sample, tmp_path):
    summary, lines = _make_run(sample, tmp_path / "quiet")
    assert len(lines) < MAX_LINES, "\n".join(lines)
    assert summary.startswith("reelbeam: 4 videos catalogued, 0 failed"), lines
    noisy = [line for line in lines if "Feedback manager" in line or "TensorFlow Lite" in line]
    assert noisy == []
    assert not any(" INFO " in line for line in lines), lines

    summary, verbose = _make_run(sample, tmp_path / "verbose", "--verbose")
    assert any("INFO catalogued dance-day1-cam1" in line for line in verbose)
    assert any("Feedback manager" in line for line in verbose)
    assert summary.startswith("reelbeam: 4 videos catalogued, 0 failed")
