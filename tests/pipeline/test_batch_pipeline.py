"""The batch pipeline end to end on DirectRunner: find, probe, catalog, dead letters, reruns."""

from __future__ import annotations

import json
import pathlib
import shutil

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.launcher import run
from tests.helpers.runs import DIRECT, fixed_clock
from transforms.find import FindVideos
from transforms.paths import parse_extensions
from transforms.probe_videos import ProbeFileFn
from transforms.records import FoundFile

PATTERN = r"(?P<event>[^/]+)/(?P<day>day\d+)/(?P<camera>[^/.]+)\.\w+$"


def _rows(out: pathlib.Path, table: str) -> list[dict]:
    path = out / "catalog" / f"{table}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def archive(tmp_path, dancer_small, dancer) -> pathlib.Path:
    """A small archive: two real videos, junk the find stage must skip, and bad files.

    Truth: squats/day1/cam1.mp4 is dance_small.mp4 (320x180, 5 fps, 21 frames, 4.2 s,
    no audio); dance/day2/cam2.MP4 is dance.mp4 (600x338, 10 fps, 42 frames, 4.2 s).
    """
    root = tmp_path / "archive"
    for rel, src in [("squats/day1/cam1.mp4", dancer_small), ("dance/day2/cam2.MP4", dancer)]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / rel)
    bad = root / "bad" / "day3"
    bad.mkdir(parents=True)
    (bad / "zero.mp4").write_bytes(b"")
    (bad / "text.mp4").write_text("this is not a video\n" * 50)
    (bad / "truncated.mov").write_bytes(dancer_small.read_bytes()[:30000])
    # Skipped by the find stage: hidden, partial, temporary and other extensions.
    (root / "squats" / "day1" / ".hidden.mp4").write_bytes(b"x")
    (root / "squats" / "day1" / "upload.mp4.part").write_bytes(b"x")
    (root / "squats" / "day1" / "notes.txt").write_text("x")
    (root / ".trash").mkdir()
    (root / ".trash" / "old.mp4").write_bytes(b"x")
    return root


def _argv(inputs: list[str], out: pathlib.Path, *extra: str) -> list[str]:
    argv = [f"--input={i}" for i in inputs] + [f"--output={out}", *DIRECT]
    return (
        argv
        + ["--path_pattern", PATTERN, "--video_id_template", "{event}-{day}-{camera}"]
        + [*extra]
    )


def test_batch_run_catalogs_videos_and_dead_letters_bad_files(archive, tmp_path, capsys):
    out = tmp_path / "out"
    # The archive folder and one file inside it: the file must be counted once.
    code = run(_argv([str(archive), str(archive / "squats/day1/cam1.mp4")], out), clock=fixed_clock)
    assert code == 0
    videos = {r["video_id"]: r for r in _rows(out, "videos")}
    assert sorted(videos) == ["dance-day2-cam2", "squats-day1-cam1"]
    sq = videos["squats-day1-cam1"]
    assert (sq["width"], sq["height"], sq["fps"], sq["frame_count"], sq["duration_s"]) == (
        320,
        180,
        5.0,
        21,
        4.2,
    )
    assert (sq["has_audio"], sq["codec"], sq["rotation_deg"], sq["is_vfr"]) == (
        False,
        "h264",
        0,
        False,
    )
    assert sq["path_fields"] == {"event": "squats", "day": "day1", "camera": "cam1"}
    assert sq["source_uri"] == str(archive / "squats/day1/cam1.mp4")
    dance = videos["dance-day2-cam2"]
    assert (dance["width"], dance["fps"], dance["frame_count"], dance["duration_s"]) == (
        600,
        10.0,
        42,
        4.2,
    )
    failures = {pathlib.Path(r["input_uri"]).name: r for r in _rows(out, "failures")}
    assert sorted(failures) == ["text.mp4", "truncated.mov", "zero.mp4"]
    assert failures["zero.mp4"]["error_type"] == "EmptyFileError"
    assert failures["text.mp4"]["error_type"] == "InvalidDataError"
    assert all(f["stage"] == "probe" and f["permanent"] for f in failures.values())
    assert failures["zero.mp4"]["video_id"] == "bad-day3-zero"
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("reelbeam: 2 videos catalogued, 3 failed")
    assert last.endswith(f"output: {out}; report: {out}/report/index.html")
    assert not list(out.rglob("*.tmp-*"))


def test_rerun_is_identical_and_new_inputs_are_upserted(archive, tmp_path):
    out = tmp_path / "out"
    argv = _argv([str(archive / "squats")], out)
    assert run(argv, clock=fixed_clock) == 0
    first = {t: (out / "catalog" / f"{t}.jsonl").read_bytes() for t in ("videos", "failures")}
    assert run(argv, clock=fixed_clock) == 0
    again = {t: (out / "catalog" / f"{t}.jsonl").read_bytes() for t in ("videos", "failures")}
    assert again == first
    # A second folder: its video is added, the first one's row stays as it was.
    assert run(_argv([str(archive / "dance")], out), clock=fixed_clock) == 0
    videos = _rows(out, "videos")
    assert [v["video_id"] for v in videos] == ["dance-day2-cam2", "squats-day1-cam1"]
    assert json.dumps(videos[1], separators=(",", ":")).encode() + b"\n" == first["videos"]


def test_failed_file_that_gets_fixed_loses_its_failure_row(archive, tmp_path, dancer_small):
    out = tmp_path / "out"
    argv = _argv([str(archive / "bad")], out)
    assert run(argv, clock=fixed_clock) == 0
    assert len(_rows(out, "failures")) == 3
    shutil.copy(dancer_small, archive / "bad" / "day3" / "zero.mp4")
    assert run(argv, clock=fixed_clock) == 0
    assert sorted(pathlib.Path(r["input_uri"]).name for r in _rows(out, "failures")) == [
        "text.mp4",
        "truncated.mov",
    ]
    assert [v["video_id"] for v in _rows(out, "videos")] == ["bad-day3-zero"]


def test_no_match_is_a_log_line_and_an_empty_catalog(tmp_path, caplog, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    assert run([f"--input={empty}/*.mp4", f"--output={out}", *DIRECT]) == 0
    assert "no files match" in caplog.text
    assert (out / "catalog" / "videos.jsonl").read_text() == ""
    assert "0 videos catalogued, 0 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --input"),
        (["--input=/definitely/not/here"], "does not exist"),
        (["--input=.", "--path_pattern=(unclosed"], "not a valid regex"),
        (["--input=.", "--path_pattern=(?P<a>x)", "--video_id_template={b}"], "lacks: b"),
        (["--input=.", "--video_id_template={a}"], "needs --path_pattern"),
        (["--input=.", "--extensions=,"], "names no extension"),
        (["--input_list=/no/such/list.txt"], "does not exist"),
        (["--input=.", "--pose_model=/no/such/model.task"], "run `make model`"),
        (["--input=.", "--render=proxy,gif"], "--render takes any of"),
        (["--input=.", "--ladder=720,abc"], "--ladder must be"),
        (["--input=.", "--chunk_s=0"], "--chunk_s must be > 0"),
        (["--input=.", "--watch=/tmp"], "use one source"),
        (["--input_subscription=topics/x"], "projects/P/subscriptions/S"),
    ],
)
def test_bad_options_fail_at_launch_with_one_line(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert run([*argv, f"--output={out}", *DIRECT]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reelbeam: error: ") and message in err[0]
    assert not (out / "catalog").exists()


def test_unwritable_output_fails_at_launch(tmp_path, capsys, dancer):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert run([f"--input={dancer}", f"--output={blocker}/out", *DIRECT]) == 2
    assert "--output" in capsys.readouterr().err


def test_input_list_with_relative_paths_and_a_missing_entry(archive, tmp_path):
    listing = archive / "list.txt"
    listing.write_text("# nightly list\nsquats/day1/cam1.mp4\n\ndance/day2/cam2.MP4\nmissing.mp4\n")
    out = tmp_path / "out"
    assert run([f"--input_list={listing}", f"--output={out}", *DIRECT]) == 0
    assert len(_rows(out, "videos")) == 2
    (failure,) = _rows(out, "failures")
    assert (failure["stage"], failure["error_type"]) == ("find", "SourceVanishedError")
    assert failure["input_uri"] == str(archive / "missing.mp4")


def test_find_videos_composite(archive):
    with TestPipeline(runner="DirectRunner") as p:
        found = p | FindVideos(
            patterns=[f"{archive}/**", f"{archive}/squats/day1/cam1.mp4"],
            extensions=parse_extensions("mp4,mov"),
            path_pattern=PATTERN,
            video_id_template="{event}-{day}-{camera}",
        )
        names = found["found"] | beam.Map(lambda f: (f.video_id, pathlib.Path(f.uri).name))
        assert_that(
            names,
            equal_to(
                [
                    ("squats-day1-cam1", "cam1.mp4"),
                    ("dance-day2-cam2", "cam2.MP4"),
                    ("bad-day3-zero", "zero.mp4"),
                    ("bad-day3-text", "text.mp4"),
                    ("bad-day3-truncated", "truncated.mov"),
                ]
            ),
        )
        assert_that(found["failures"], equal_to([]), label="NoFindFailures")


def test_probe_fn_turns_a_vanished_file_into_a_failure_row(tmp_path):
    fn = ProbeFileFn(fixed_clock)
    fn.setup()
    found = FoundFile(uri=str(tmp_path / "gone.mp4"), size_bytes=10, mtime=None, video_id="gone")
    (out,) = list(fn.process(found))
    assert out.tag == "failures"
    assert (out.value.error_type, out.value.stage, out.value.permanent) == (
        "SourceVanishedError",
        "probe",
        True,
    )
