"""A clone alone in an empty folder runs ``make run``: nothing is read from beside it.

The repository is cloned (committed files only) into an empty temporary folder with no
``shared/`` next to it, and ``make run`` runs there with ``REELBEAM_SHARED_MEDIA`` unset and
an empty footage cache, so the sample's footage really comes from the registries. To stay
cheap it reuses this checkout's venv, built pose model and person detector (``VENV=``,
``MODEL=``, ``DETECTOR=`` and ``make -o`` so that none is rebuilt nor the editable install
repointed at the clone);
everything else, the sample included, comes from the clone.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.helpers.runs import REPO

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

SAMPLE_IDS = [
    "dance-day1-cam1",
    "dance-day1-cam2",
    "dance-day2-cam1",
    "synthetic-day1-rotated-phone",
]


def _model() -> pathlib.Path:
    path = pathlib.Path(
        os.environ.get("REELBEAM_POSE_MODEL", REPO / "models" / "pose_landmarker_full.task")
    )
    if not path.is_file():
        pytest.skip(f"pose model {path} not built: run `make model`")
    return path.resolve()


def _detector() -> pathlib.Path:
    path = pathlib.Path(
        os.environ.get(
            "REELBEAM_PERSON_DETECTOR", REPO / "models" / "person_detector_ssd_oidv4.tflite"
        )
    )
    if not path.is_file():
        pytest.skip(f"person detector {path} not built: run `make model`")
    return path.resolve()


def test_make_run_in_a_bare_clone(tmp_path: pathlib.Path) -> None:
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git and make")
    model = _model()
    detector = _detector()
    venv = pathlib.Path(sys.prefix).resolve()
    clone = tmp_path / "empty" / "reelbeam"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    assert sorted(p.name for p in clone.parent.iterdir()) == ["reelbeam"]  # no shared/ beside

    env = {k: v for k, v in os.environ.items() if not k.startswith("REELBEAM_")}
    env["REELBEAM_CACHE"] = str(tmp_path / "cache")  # empty: the footage is fetched
    installed = f"{venv}/.installed"
    done = subprocess.run(
        [
            "make",
            "-o",
            installed,
            "-o",
            str(model),
            "-o",
            str(detector),
            "run",
            f"VENV={venv}",
            f"MODEL={model}",
            f"DETECTOR={detector}",
        ],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [
        json.loads(line)
        for line in (clone / "out" / "catalog" / "videos.jsonl").read_text().splitlines()
    ]
    assert sorted(r["video_id"] for r in rows) == SAMPLE_IDS
    assert (tmp_path / "cache" / "footage" / "dance_input.gif").is_file()
    print(done.stdout.strip().splitlines()[-1])
    assert "reelbeam: 4 videos catalogued, 0 failed" in done.stdout
