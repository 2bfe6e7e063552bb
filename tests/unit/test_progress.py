"""Progress: counters mirrored to a local file, and the status line drawn from it."""

import io

from transforms.progress import PROGRESS_ENV, ProgressDisplay, read_totals, report, status_line


def test_report_appends_events_that_add_up(tmp_path, monkeypatch):
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv(PROGRESS_ENV, str(path))
    report("files_found", 3)
    report("files_probed")
    report("chunks_total", 10)
    report("chunks_analysed", 4)
    report("chunks_failed", 1)
    report("seconds_to_encode", 600)
    report("seconds_encoded", 120)
    report("files_found", 0)  # nothing to count: nothing written
    totals = read_totals(str(path))
    assert totals["files_found"] == 3
    line = status_line(totals)
    assert line == "reelbeam: found 3 · probed 1 · chunks 5/10 · encoded 120/600 s · failed 1"


def test_without_the_file_only_counters_move(tmp_path, monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    report("files_found", 2)
    assert read_totals(str(tmp_path / "none.jsonl")) == {}


def test_display_redraws_and_ends_with_a_newline(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"n": "files_found", "v": 2}\n{"n": "files_probed", "v": 1}\n')
    out = io.StringIO()
    with ProgressDisplay(str(path), out, interval_s=0.01):
        pass
    assert out.getvalue().endswith("reelbeam: found 2 · probed 1 · chunks 0/0 · encoded 0/0 s\n")
