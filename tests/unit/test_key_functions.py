"""Direct tests of key functions: option validation, rendition rungs, render cache keys,
BigQuery scope replacement."""

from __future__ import annotations

import dataclasses

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.options import ReelbeamOptions
from pipelines.validation import validate
from tests.helpers.catalog_rows import failure, video
from transforms.catalog.tables import replace_scope
from transforms.encoding.settings import EncodeSettings
from transforms.io.deadletter import utc_now
from transforms.records import Segment, VideoProbe
from transforms.render.fns import JoinFn, kinds_of
from transforms.render.jobs import RenderChunk, RenderJob, RenderParams, kind_key, rungs_for


def _problems(*argv: str) -> list[str]:
    return validate(PipelineOptions(list(argv)).view_as(ReelbeamOptions))


def test_valid_options_have_no_problems():
    assert _problems("--input=/nas/videos") == []


def test_each_bad_value_is_one_line_naming_its_flag():
    assert _problems() == ["give --input (globs, paths, folders) or --input_list"]
    assert _problems("--input=/a", "--watch=/b") == [
        "use one source: --input/--input_list, --watch or --input_subscription"
    ]
    assert _problems("--input=/a", "--crf=60") == ["--crf must be between 0 and 51"]
    assert _problems("--input=/a", "--ladder=1080,721") == [
        "--ladder must be comma-separated even heights >= 16, e.g. 1080,720,480"
    ]
    assert _problems("--input=/a", "--chunk_s=5", "--chunk_overlap_s=5") == [
        "--chunk_overlap_s must be shorter than --chunk_s"
    ]
    bad_pattern = _problems("--input=/a", "--path_pattern=(", "--video_id_template={x}")
    assert bad_pattern[0].startswith("--path_pattern is not a valid regex")
    assert _problems("--input=/a", "--render=proxy,gif") == [
        "--render takes any of proxy,ladder,thumbnails,preview,highlights,timeline or none, "
        "not 'proxy,gif'"
    ]


def _probe(width: int, height: int, **changes) -> VideoProbe:
    fields = dict(
        uri="/nas/a.mp4", video_id="a", path_fields={}, file_name="a.mp4",
        file_size_bytes=1000, source_mtime=1.0, container="mp4", duration_s=60.0,
        width=width, height=height, display_width=width, display_height=height,
        rotation_deg=0, sample_aspect_ratio="1:1", codec="h264", pix_fmt="yuv420p",
        bitrate_kbps=1000.0, fps=30.0, is_vfr=False, frame_count=1800,
        frame_count_exact=True, has_audio=False, audio_codec=None, audio_channels=None,
        audio_sample_rate=None, start_time_s=0.0, scanned_at="2026-01-01T00:00:00Z",
    )  # fmt: skip
    fields.update(changes)
    return VideoProbe(**fields)


def test_rungs_skip_upscales_and_never_encode_the_proxy_size_twice():
    params = RenderParams()
    assert rungs_for(_probe(1920, 1080), params) == [
        (720, "proxy", "proxy_720p.mp4"),
        (1080, "rendition", "rendition_1080p.mp4"),
        (480, "rendition", "rendition_480p.mp4"),
    ]
    assert rungs_for(_probe(854, 480), params) == [(720, "proxy", "proxy_720p.mp4")]
    only_ladder = dataclasses.replace(params, kinds=("ladder",))
    assert [r[0] for r in rungs_for(_probe(1920, 1080), only_ladder)] == [1080, 720, 480]


def test_render_cache_keys_change_only_with_what_each_artifact_depends_on():
    params = RenderParams()
    job = RenderJob(_probe(1920, 1080), (Segment(1.0, 5.0, 1.0, 0.5, 1),))
    keys = {k: kind_key(k, job, params) for k in ("ladder", "thumbnails", "preview", "reel")}
    assert len(set(keys.values())) == 4
    crf = dataclasses.replace(params, settings=EncodeSettings(crf=28))
    assert kind_key("ladder", job, crf) != keys["ladder"]
    assert kind_key("thumbnails", job, crf) == keys["thumbnails"]
    moved = RenderJob(job.probe, (Segment(2.0, 6.0, 1.0, 0.5, 1),))
    assert kind_key("ladder", moved, params) == keys["ladder"]
    assert kind_key("preview", moved, params) != keys["preview"]
    assert kind_key("reel", moved, params) != keys["reel"]
    touched = RenderJob(_probe(1920, 1080, source_mtime=2.0), job.segments)
    assert all(kind_key(k, touched, params) != v for k, v in keys.items())


def test_scope_replacement_covers_what_a_new_video_row_supersedes():
    batch = {
        "videos": [video("a", source_uri="/nas/a.mp4")],
        "failures": [failure("/nas/b.mp4")],
    }
    assert replace_scope("segments", batch) == ("video_id", {"a"})
    assert replace_scope("assets", batch) == ("video_id", {"a"})
    assert replace_scope("failures", batch) == ("input_uri", {"/nas/a.mp4", "/nas/b.mp4"})
    assert replace_scope("videos", batch) is None


def test_the_ladder_needs_no_motion_and_goes_apart_from_the_other_kinds():
    params = RenderParams()
    job = RenderJob(_probe(1920, 1080))
    assert [kind for _, kind in kinds_of(job, params, ladder=True)] == ["ladder"]
    assert [kind for _, kind in kinds_of(job, params, ladder=False)] == [
        "thumbnails",
        "preview",
        "reel",
    ]


def _join_results(job: RenderJob, audio_parts):
    rungs = tuple(rungs_for(job.probe, RenderParams()))
    ranges = [
        (RenderChunk(job, i, 2, 300.0 * i, None if i else 300.0, rungs, "k"), {720: f"p{i}"}, {})
        for i in range(2)
    ]
    audio = (RenderChunk(job, 2, 2, 0.0, None, (), "k", audio=True), audio_parts, {})
    return ("v", [audio, *ranges])


def test_a_failed_audio_pass_fails_the_join_in_one_clear_row(tmp_path):
    job = RenderJob(_probe(1920, 1080, has_audio=True, duration_s=600.0))
    out = list(
        JoinFn(str(tmp_path), RenderParams(), clock=utc_now).process(_join_results(job, None))
    )
    (row,) = [o.value for o in out]
    assert row.stage == "render" and row.artifact == "ladder"
    assert "audio pass failed" in row.message
