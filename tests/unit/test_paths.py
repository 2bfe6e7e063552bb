"""Pure path functions: which files are taken, fields from paths, stable ids."""

import re

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.find import FindVideos, normalize_input, split_inputs
from transforms.paths import (
    default_video_id,
    glob_root,
    is_wanted,
    make_video_id,
    named_root,
    parse_extensions,
    parse_path_fields,
)

EXTS = parse_extensions("mp4,MOV, .mkv")


def test_parse_extensions_lowercases_and_dedupes():
    assert parse_extensions(" MP4,.mov,mp4,, ") == ("mp4", "mov")


@pytest.mark.parametrize(
    ("uri", "wanted"),
    [
        ("/nas/a/b.mp4", True),
        ("/nas/a/B.MOV", True),
        ("/nas/a/b.MkV", True),
        ("/nas/a/b.avi", False),
        ("/nas/a/.b.mp4", False),
        ("/nas/.trash/b.mp4", False),
        ("/nas/a/b.mp4.part", False),
        ("/nas/a/b.mp4.tmp", False),
        ("/nas/a/b.tmp", False),
        ("gs://bucket/x/y.mp4", True),
        ("gs://bucket/.x/y.mp4", False),
        ("/nas/a/mp4", False),
    ],
)
def test_is_wanted(uri, wanted):
    assert is_wanted(uri, EXTS) is wanted


def test_hidden_folder_above_the_input_root_is_allowed():
    assert is_wanted("/home/u/.cache/v/a.mp4", EXTS, root="/home/u/.cache/v")
    assert not is_wanted("/home/u/.cache/v/.x/a.mp4", EXTS, root="/home/u/.cache/v")


def test_glob_root():
    assert glob_root("/nas/poker/**/*.mp4") == "/nas/poker"
    assert glob_root("/nas/poker/day*/t.mp4") == "/nas/poker"
    assert glob_root("/nas/poker/t.mp4") == "/nas/poker/t.mp4"


def test_normalize_input_folders_recurse(tmp_path):
    (tmp_path / "sub").mkdir()
    assert normalize_input(str(tmp_path / "sub")) == f"{tmp_path}/sub/**"
    assert normalize_input(str(tmp_path / "sub" / "..")) == f"{tmp_path}/**"
    assert normalize_input("a/b.mp4", base_dir="/x") == "/x/a/b.mp4"
    assert normalize_input("gs://b/prefix/") == "gs://b/prefix/**"
    assert normalize_input("gs://b/p/*.mp4") == "gs://b/p/*.mp4"


def test_split_inputs_commas_and_repeats():
    assert split_inputs(["a,b", "c", "a"]) == ["a", "b", "c"]


POKER = re.compile(r"(?P<event>[^/]+)/(?P<day>day\d+)/(?P<table>[^/.]+)\.\w+$")


def test_path_fields_and_template():
    uri = "/nas/poker/2024/wsop/day1/table1.mp4"
    fields = parse_path_fields(uri, POKER)
    assert fields == {"event": "wsop", "day": "day1", "table": "table1"}
    assert make_video_id(uri, fields, "{event}-{day}-{table}") == "wsop-day1-table1"


def test_template_with_missing_fields_falls_back_to_stable_slug():
    uri = "/nas/other/clip.mp4"
    assert parse_path_fields(uri, POKER) == {}
    assert make_video_id(uri, {}, "{event}-{day}") == default_video_id(uri)


def test_default_id_is_stable_and_distinguishes_folders():
    a = default_video_id("/nas/a/cam 1.MP4")
    assert a == default_video_id("/nas/a/cam 1.MP4")
    assert re.fullmatch(r"a-cam-1-[0-9a-f]{8}", a)
    assert a != default_video_id("/nas/b/a/cam 1.MP4")


def test_named_root_is_the_folder_the_user_named():
    assert named_root("/nas/poker/**/*.mp4") == "/nas/poker"
    assert named_root("/home/u/.cache/clips/a.mp4") == "/home/u/.cache/clips"
    assert named_root("gs://bucket/.uploads/a.mp4") == "gs://bucket/.uploads"


def test_a_named_file_under_a_hidden_folder_is_found(tmp_path):
    # ~/.cache/... is where a user's downloads and reelbeam's own footage cache live.
    clip = tmp_path / ".cache" / "clips" / "a.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"not decoded here")
    with TestPipeline() as p:
        found = p | FindVideos([normalize_input(str(clip))], extensions=EXTS)
        assert_that(found["found"] | beam.Map(lambda f: f.uri), equal_to([str(clip)]))
