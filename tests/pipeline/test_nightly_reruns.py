"""Nightly reruns on DirectRunner: unchanged inputs decode nothing; each changed stage redoes
only itself (segments from ``motion.json``, render from the catalog's probe, detect anew)."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest

from pipelines import launcher
from tests.helpers.runs import DIRECT, counted_run
from transforms.io.isolation import IsolatedWorker

pytestmark = pytest.mark.integration

TABLES = ("videos", "segments", "assets", "failures")


def _catalog(out: pathlib.Path) -> dict[str, list[dict]]:
    return {
        t: [json.loads(x) for x in (out / "catalog" / f"{t}.jsonl").read_text().splitlines()]
        for t in TABLES
    }


def _run(monkeypatch, archive: pathlib.Path, out: pathlib.Path, *extra: str) -> dict[str, int]:
    """One batch run; returns its counters (as the summary line reads them)."""
    argv = [f"--input={archive}", f"--output={out}", "--render=proxy,highlights", *DIRECT]
    return counted_run(monkeypatch, [*argv, *extra])


def _manifests(out: pathlib.Path) -> dict[str, int]:
    """Each render manifest under ``out`` and its modification time (ns)."""
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.glob("videos/*/.render/*")}


@pytest.fixture
def first_run(tmp_path, dancer_small, monkeypatch):
    """An archive of one clip (dance_small.mp4: 4.2 s, one dancer) run once into ``out``."""
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(dancer_small, archive / "cam1.mp4")
    out = tmp_path / "out"
    counts = _run(monkeypatch, archive, out)
    assert counts["inputs_new"] == 1 and counts["files_probed"] == 1
    assert counts["chunks_analysed"] >= 1
    return archive, out


def _no_pipeline(monkeypatch) -> None:
    """Make starting a pipeline, the fork server or any isolated child fail the test."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("an unchanged rerun started a pipeline or a child process")

    monkeypatch.setattr(launcher, "build_pipeline", refuse)
    monkeypatch.setattr(launcher, "prestart_fork_server", refuse)
    monkeypatch.setattr(IsolatedWorker, "start", refuse)


def _written(out: pathlib.Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and modification time (ns) of every catalog table and report file."""
    files = [*(out / "catalog").iterdir(), *(out / "report").rglob("*")]
    return {str(f): (f.read_bytes(), f.stat().st_mtime_ns) for f in files if f.is_file()}


def test_unchanged_rerun_starts_no_pipeline_and_keeps_the_catalog(first_run, monkeypatch, capsys):
    archive, out = first_run
    before = _written(out)
    (video,) = _catalog(out)["videos"]
    assert all(video[f"{stage}_fingerprint"] for stage in ("source", "detect", "segment", "render"))
    capsys.readouterr()
    _no_pipeline(monkeypatch)
    counts = _run(monkeypatch, archive, out)
    assert counts == {"files_found": 1, "inputs_skipped": 1}
    assert _written(out) == before  # nothing rewritten: same bytes, same times
    (last,) = capsys.readouterr().out.strip().splitlines()
    assert last == launcher.summary_line(counts, str(out), str(out / "report" / "index.html"))
    assert last.startswith("reelbeam: 0 videos catalogued, 0 failed, 0 segments, 0 assets, ")
    assert ", 1 unchanged skipped;" in last


def test_one_new_file_among_unchanged_ones_runs_the_pipeline(first_run, monkeypatch, capsys):
    archive, out = first_run
    shutil.copy(archive / "cam1.mp4", archive / "cam2.mp4")
    counts = _run(monkeypatch, archive, out)
    assert (counts["files_found"], counts["inputs_new"], counts["inputs_skipped"]) == (2, 1, 1)
    assert counts["files_probed"] == 1 and counts["chunks_analysed"] >= 1
    assert sorted(v["file_name"] for v in _catalog(out)["videos"]) == ["cam1.mp4", "cam2.mp4"]
    assert ", 1 unchanged skipped;" in capsys.readouterr().out.strip().splitlines()[-1]
    # Both catalogued now: the next rerun has nothing to do.
    _no_pipeline(monkeypatch)
    assert _run(monkeypatch, archive, out) == {"files_found": 2, "inputs_skipped": 2}


def test_new_segment_thresholds_resegment_only(first_run, monkeypatch, capsys):
    archive, out = first_run
    before = _catalog(out)
    assert before["segments"], "the clip should have a motion segment"
    counts = _run(monkeypatch, archive, out, "--min_segment_s=60")
    assert counts.get("files_probed", 0) == 0 and counts.get("chunks_analysed", 0) == 0
    assert counts["reprocessed_segment"] == 1
    after = _catalog(out)
    assert after["segments"] == []
    (video,) = after["videos"]
    (old,) = before["videos"]
    assert (video["segment_count"], video["highlights_uri"]) == (0, None)
    assert video["segment_fingerprint"] != old["segment_fingerprint"]
    # The probe comes from the catalog: every stream field is as it was.
    changed = {k for k in video if video[k] != old[k]}
    assert changed <= {
        "segment_count",
        "motion_s_total",
        "highlights_uri",
        "highlights_duration_s",
        "segment_fingerprint",
    }
    assert "reprocessed: 0 detect, 1 segment, 0 render" in capsys.readouterr().out
    # Back to the first thresholds: the same segments again, still without decoding.
    counts = _run(monkeypatch, archive, out)
    assert counts.get("files_probed", 0) == 0 and counts["reprocessed_segment"] == 1
    assert _catalog(out)["segments"] == before["segments"]


def test_new_render_settings_render_only(first_run, monkeypatch):
    archive, out = first_run
    before = _catalog(out)
    counts = _run(monkeypatch, archive, out, "--crf=35")
    assert counts.get("files_probed", 0) == 0 and counts.get("chunks_analysed", 0) == 0
    assert counts["reprocessed_render"] == 1 and counts["artifacts_rendered"] >= 1
    after = _catalog(out)
    assert after["segments"] == before["segments"]
    (video,), (old,) = after["videos"], before["videos"]
    assert video["proxy_size_bytes"] != old["proxy_size_bytes"]
    assert video["render_fingerprint"] != old["render_fingerprint"]
    assert video["scanned_at"] == old["scanned_at"]


def test_new_pose_fps_detects_again(first_run, monkeypatch):
    archive, out = first_run
    counts = _run(monkeypatch, archive, out, "--pose_fps=4")
    assert counts["reprocessed_detect"] == 1
    assert counts["files_probed"] == 1 and counts["chunks_analysed"] >= 1
    (video,) = _catalog(out)["videos"]
    motion = json.loads((out / "videos" / video["video_id"] / "motion.json").read_text())
    assert motion["pose_fps"] == 4


def test_reprocess_and_changed_files_decode_again(first_run, monkeypatch):
    archive, out = first_run
    manifests = _manifests(out)
    assert manifests, "the first run should leave render manifests"
    counts = _run(monkeypatch, archive, out, "--reprocess")
    assert counts["reprocessed_detect"] == 1 and counts["files_probed"] == 1
    # Everything is redone, renders included: no artifact is reused from its manifest.
    assert counts["artifacts_rendered"] >= 1 and counts.get("artifacts_reused", 0) == 0
    again = _manifests(out)
    assert again.keys() == manifests.keys()
    assert all(again[name] > manifests[name] for name in manifests)
    shutil.copy(archive / "cam1.mp4", archive / "cam2.mp4")
    (archive / "cam1.mp4").write_bytes((archive / "cam1.mp4").read_bytes() + b"\0" * 16)
    counts = _run(monkeypatch, archive, out)
    assert (counts["inputs_changed"], counts["inputs_new"]) == (1, 1)
    assert counts["files_probed"] == 2
    assert sorted(v["file_name"] for v in _catalog(out)["videos"]) == ["cam1.mp4", "cam2.mp4"]
