"""CI cannot go green by skipping: skips fail under CI=true (gpu excepted), installs fail loudly."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]

_PROBE = """
import pytest

def test_needs_an_emulator():
    pytest.skip("emulator missing")

@pytest.mark.gpu
def test_needs_a_gpu():
    pytest.skip("no GPU here")

def test_passes():
    pass
"""


def _pytest(tmp_path: pathlib.Path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_probe_skips.py").write_text(_PROBE)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "tests.skip_policy", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip


def test_a_skip_fails_under_ci_but_a_gpu_skip_does_not(tmp_path):
    result = _pytest(tmp_path, "true")
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed, 1 skipped" in result.stdout
    assert "skipped under CI=true (only gpu tests may skip): Skipped: emulator missing" in (
        result.stdout
    )


def test_skips_are_allowed_and_named_locally(tmp_path):
    result = _pytest(tmp_path, "")
    assert result.returncode == 0, result.stdout
    assert "1 passed, 2 skipped" in result.stdout
    assert "SKIPPED" in result.stdout and "emulator missing" in result.stdout


def _apt_install(tmp_path: pathlib.Path, ci: str) -> subprocess.CompletedProcess:
    # A PATH without apt-get: the install cannot happen.
    env = {"PATH": str(tmp_path), "CI": ci, "HOME": str(tmp_path)}
    return subprocess.run(
        ["/bin/bash", str(REPO / "scripts/apt_install.sh"), "somepackage", "no-such-program"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def test_a_failed_install_fails_the_build_under_ci(tmp_path):
    result = _apt_install(tmp_path, "true")
    assert result.returncode == 1
    assert "apt-get not available" in result.stdout


def test_a_failed_install_only_warns_locally(tmp_path):
    result = _apt_install(tmp_path, "")
    assert result.returncode == 0
    assert "what needs it will skip" in result.stdout


def _emulator_install(tmp_path: pathlib.Path, ci: str) -> subprocess.CompletedProcess:
    # A machine with no Python 3.13 anywhere: the BigQuery emulator cannot be installed.
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CI": ci,
        "BQ_VENV": str(tmp_path / "bq"),
        "VENV": str(REPO / ".venv"),
        "BQ_PYTHON": str(tmp_path / "no-python3.13"),
    }
    return subprocess.run(
        ["/bin/bash", str(REPO / "scripts/emulators.sh"), "install"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def test_a_broken_emulator_install_fails_the_build_under_ci(tmp_path):
    result = _emulator_install(tmp_path, "true")
    assert result.returncode != 0
    assert "no Python 3.13 found" in result.stderr


def test_a_broken_emulator_install_only_warns_locally(tmp_path):
    result = _emulator_install(tmp_path, "")
    assert result.returncode == 0
    assert "BigQuery emulator tests will skip" in result.stderr
