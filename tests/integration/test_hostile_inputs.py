"""Bad input, kills and reruns: nothing lost, nothing written twice, nothing half-written."""

from __future__ import annotations

import json
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from pipelines.cli import dispatch as run
from tests.helpers.hostile_corpus import build
from tests.helpers.runs import DIRECT, REPO, fixed_clock
from transforms.encoding.readback import probe_output

pytestmark = pytest.mark.integration


def _rows(out: pathlib.Path, table: str) -> list[dict]:
    path = out / "catalog" / f"{table}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def _leftovers(out: pathlib.Path) -> list[pathlib.Path]:
    return [p for p in out.rglob("*") if ".tmp-" in p.name or p.name.endswith(".part")]


def test_hostile_corpus(tmp_path, dancer):
    corpus = tmp_path / "corpus"
    cases = build(corpus, dancer)
    out = tmp_path / "out"
    argv = [
        f"--input={corpus}",
        f"--output={out}",
        "--chunk_s=2",
        "--chunk_overlap_s=1",
        "--render=proxy,thumbnails",
        "--thumbnails=2",
        *DIRECT,
    ]
    assert run(argv, clock=fixed_clock) == 0
    videos = {pathlib.Path(r["source_uri"]).name: r for r in _rows(out, "videos")}
    failures: dict[str, list[dict]] = {}
    for row in _rows(out, "failures"):
        failures.setdefault(pathlib.Path(row["input_uri"]).name, []).append(row)
    for case in cases:
        if case.outcome == "skipped":
            assert case.name not in videos and case.name not in failures, case.name
        elif case.outcome == "catalogued":
            assert case.name in videos, f"{case.name}: {failures.get(case.name)}"
        else:
            assert case.name not in videos, case.name
            (row,) = failures[case.name]
            assert (row["stage"], row["error_type"]) == (case.stage, case.error_type), case.name
            assert row["permanent"] is True
    # A faststart file cut at 60%: its index promises 6 s; the chunks past the cut fail,
    # the video keeps the rest and says how many chunks failed.
    cut = videos["fast_trunc60.mp4"]
    detect = [f for f in failures["fast_trunc60.mp4"] if f["stage"] == "detect"]
    assert cut["failed_chunks"] == len(detect) >= 1
    assert all(f["chunk_index"] is not None for f in detect)
    assert len(videos) == sum(c.outcome == "catalogued" for c in cases)
    # Every proxy that exists is a complete, playable file; nothing half-written anywhere.
    for row in _rows(out, "assets"):
        if row["asset_type"] == "proxy":
            assert probe_output(row["uri"])["frame_count"] > 0
    assert _leftovers(out) == []


def test_kill_and_rerun_leaves_a_complete_catalog(tmp_path, dancer, dancer_small):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(3):
        shutil.copy(dancer, inputs / f"dance{i}.mp4")
    shutil.copy(dancer_small, inputs / "squats.mp4")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "pipelines.main",
        f"--input={inputs}",
        f"--output={out}",
        "--render=proxy,thumbnails,highlights",
        "--runner=DirectRunner",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(11)
    for _ in range(3):
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(3.0, 9.0))  # a run takes about 10 s here: killed mid-way
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    # What a killed run finished is skipped as unchanged; the rest is catalogued now.
    catalogued = re.search(r"(\d+) videos catalogued, 0 failed,", done.stdout)
    skipped = re.search(r", (\d+) unchanged skipped", done.stdout)
    assert catalogued, done.stdout
    assert int(catalogued[1]) + (int(skipped[1]) if skipped else 0) == 4, done.stdout
    videos = _rows(out, "videos")
    assert len(videos) == len({v["video_id"] for v in videos}) == 4
    assets = _rows(out, "assets")
    assert len(assets) == len({(a["video_id"], a["asset_type"], a["uri"]) for a in assets})
    for row in assets:
        assert pathlib.Path(row["uri"]).stat().st_size == row["size_bytes"]
        if row["uri"].endswith(".mp4"):
            assert probe_output(row["uri"])["frame_count"] > 0
    assert _leftovers(out) == []
    # And once more: the same catalog, no duplicates.
    again = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0
    assert len(_rows(out, "videos")) == 4 and len(_rows(out, "assets")) == len(assets)


def test_retry_failures_reprocesses_only_failed_inputs(tmp_path, dancer, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(dancer, inputs / "good.mp4")
    (inputs / "later.mp4").write_bytes(b"not yet a video")
    out = tmp_path / "out"
    base = [f"--output={out}", "--render=none", *DIRECT]
    assert run([f"--input={inputs}", *base], clock=fixed_clock) == 0
    assert [pathlib.Path(f["input_uri"]).name for f in _rows(out, "failures")] == ["later.mp4"]
    assert run(["failures", f"--output={out}"]) == 0
    assert "InvalidDataError" in capsys.readouterr().out
    shutil.copy(dancer, inputs / "later.mp4")  # fixed at the source
    assert run(["--retry_failures", *base], clock=fixed_clock) == 0
    assert "1 videos catalogued" in capsys.readouterr().out  # only the failed input ran
    assert _rows(out, "failures") == []
    assert len(_rows(out, "videos")) == 2


def test_input_lists_cannot_reach_outside_their_roots(tmp_path, dancer):
    root = tmp_path / "root"
    (root / "videos").mkdir(parents=True)
    shutil.copy(dancer, root / "videos" / "in.mp4")
    outside = tmp_path / "secret.mp4"
    shutil.copy(dancer, outside)
    listing = root / "list.txt"
    listing.write_text(f"videos/in.mp4\n../secret.mp4\n{outside}\n")
    out = tmp_path / "out"
    argv = [f"--input_list={listing}", f"--output={out}", "--render=none", *DIRECT]
    assert run(argv, clock=fixed_clock) == 0
    assert [pathlib.Path(v["source_uri"]).name for v in _rows(out, "videos")] == ["in.mp4"]
    failures = _rows(out, "failures")
    assert {f["error_type"] for f in failures} == {"OutsideAllowedRootsError"}
    assert len(failures) == 1  # ../secret.mp4 and the absolute path are the same file


def test_output_inside_an_input_is_refused(tmp_path, dancer, capsys):
    (tmp_path / "in").mkdir()
    shutil.copy(dancer, tmp_path / "in" / "a.mp4")
    argv = [f"--input={tmp_path / 'in'}", f"--output={tmp_path / 'in' / 'out'}", *DIRECT]
    assert run(argv) == 2
    assert "overlap" in capsys.readouterr().err
