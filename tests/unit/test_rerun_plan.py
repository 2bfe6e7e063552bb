"""Nightly reruns, pure and DoFn level: fingerprints, the plan for each file, restoring."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipelines.incremental import find_videos, nothing_to_do, run_fingerprints
from pipelines.run_config import FindConfig, RunConfig, SinkConfig
from tests.helpers.catalog_rows import failure, video
from tests.helpers.runs import fixed_clock
from transforms.artifacts import motion_document
from transforms.catalog.fingerprints import (
    Action,
    file_action,
    plan_action,
    source_fingerprint,
    stage_fingerprints,
)
from transforms.catalog.ndjson_store import write_table_atomically
from transforms.catalog.plan_reruns import DECODE, MOTION, PROBES, PlanRerunFn
from transforms.catalog.restore import probe_from_row
from transforms.catalog.rows import video_row
from transforms.find import normalize_input
from transforms.motion import SegmentParams
from transforms.records import FoundFile, Segment, VideoMotion
from transforms.render.jobs import RenderParams

RUN = RunConfig()


def _current(**changes):
    segment = dataclasses.replace(RUN.segment, **changes.pop("segment", {}))
    render = dataclasses.replace(RUN.render, **changes.pop("render", {}))
    detect = {"model": "md5-of-model", "params": RUN.detect, **changes}
    return stage_fingerprints(
        detect=detect, segment=segment, render=render, exclude_render=("timeout_s",)
    )


FOUND = FoundFile("gs://archive/a.mp4", 1000, 1767323045.123456, "a", {"day": "day1"})
FP = source_fingerprint(FOUND.uri, FOUND.size_bytes, FOUND.mtime)


def _row(current) -> dict:
    return json.loads(
        video(
            "a",
            source_fingerprint=FP,
            detect_fingerprint=current.detect,
            segment_fingerprint=current.segment,
            render_fingerprint=current.render,
        ).to_json()
    )


def test_fingerprints_are_stable_and_change_with_their_own_settings_only():
    base = _current()
    assert _current() == base
    assert _current(segment={"min_segment_s": 9.0}).segment != base.segment
    assert _current(segment={"min_segment_s": 9.0}).detect == base.detect
    assert _current(render={"thumbnails": 3}).render != base.render
    assert _current(render={"timeout_s": 99.0}) == base  # a timeout changes no artifact
    assert _current(model="another-model").detect != base.detect
    assert source_fingerprint("a", 1, 1.0) != source_fingerprint("a", 2, 1.0)
    assert source_fingerprint("a", 1, 1.0) != source_fingerprint("a", 1, 2.0)
    assert source_fingerprint("a", 1, 1.0) == source_fingerprint("a", 1, 1.0000001)


@pytest.mark.parametrize(
    ("row_changes", "current_changes", "force", "action"),
    [
        ({}, {}, False, Action.SKIP),
        ({}, {}, True, Action.DETECT),
        ({"source_fingerprint": "old"}, {}, False, Action.CHANGED),
        ({"video_id": "renamed"}, {}, False, Action.CHANGED),
        ({}, {"model": "new"}, False, Action.DETECT),
        ({}, {"segment": {"min_segment_s": 60.0}}, False, Action.RESEGMENT),
        ({}, {"render": {"settings": dataclasses.replace(RUN.render.settings, crf=30)}}, False,
         Action.RENDER),
        ({"detect_fingerprint": None}, {}, False, Action.DETECT),  # a catalog from before
    ],
)  # fmt: skip
def test_plan_action(row_changes, current_changes, force, action):
    row = {**_row(_current()), **row_changes}
    assert plan_action(FP, "a", row, _current(**current_changes), force) is action
    assert plan_action(FP, "a", None, _current()) is Action.NEW


def test_action_counters_name_the_stage():
    assert [a.counter for a in Action] == [
        "inputs_new",
        "inputs_changed",
        "reprocessed_detect",
        "reprocessed_segment",
        "reprocessed_render",
        "inputs_skipped",
    ]


def test_a_probe_restored_from_its_row_gives_the_same_row_back():
    row = _row(_current())
    probe = probe_from_row(row, FOUND)
    assert (probe.uri, probe.video_id, probe.path_fields) == (FOUND.uri, "a", {"day": "day1"})
    rebuilt = json.loads(video_row(probe, video("a").indexed_at, fingerprints=_current()).to_json())
    same = {k for k in row if rebuilt[k] == row[k]}
    # The catalog's own row came from tests.catalog_rows, not from a probe: only the
    # fields a probe gives are compared.
    for name in ("file_name", "container", "duration_s", "display_width", "codec", "fps"):
        assert name in same
    assert rebuilt["source_fingerprint"] == FP and rebuilt["scanned_at"] == row["scanned_at"]


def _motion_json(tmp_path, video_id="a"):
    motion = VideoMotion(
        video_id,
        FOUND.uri,
        times_s=tuple(i / 5 for i in range(20)),
        scores=(0.0,) * 5 + (1.0,) * 10 + (0.0,) * 5,
        people=(1,) * 20,
        segments=(Segment(1.0, 3.0, 1.0, 1.0, 1),),
        chunk_count=1,
        failed_chunks=(),
    )
    doc = motion_document(motion, SegmentParams(), 5.0)
    path = tmp_path / "videos" / video_id / "motion.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc))


def _plan(tmp_path, current, row, force_all=False):
    fn = PlanRerunFn(
        str(tmp_path), current, SegmentParams(min_segment_s=60.0), force_all, frozenset()
    )
    out = list(fn.process((FOUND.uri, {"found": [FOUND], "catalog": [row] if row else []})))
    return [(o.tag, o.value) for o in out]


def test_plan_fn_resumes_from_the_catalog_and_motion_json(tmp_path):
    _motion_json(tmp_path)
    current = _current(segment={"min_segment_s": 60.0})
    out = _plan(tmp_path, current, _row(_current()))
    assert [tag for tag, _ in out] == [PROBES, MOTION]
    assert out[0][1].duration_s == 13.0 and out[1][1].segments == ()  # re-segmented
    assert out[1][1].uri == FOUND.uri


def test_plan_fn_decodes_when_it_cannot_resume_and_skips_what_is_unchanged(tmp_path):
    current = _current(segment={"min_segment_s": 60.0})
    assert _plan(tmp_path, current, _row(_current())) == [(DECODE, FOUND)]  # no motion.json
    assert _plan(tmp_path, _current(), _row(_current())) == []
    assert _plan(tmp_path, _current(), None) == [(DECODE, FOUND)]
    assert _plan(tmp_path, _current(), _row(_current()), force_all=True) == [(DECODE, FOUND)]
    _motion_json(tmp_path)
    partial = {**_row(_current()), "failed_chunks": 1}  # its motion has gaps: detect again
    assert _plan(tmp_path, current, partial) == [(DECODE, FOUND)]


def test_plan_fn_leaves_catalogued_files_that_are_not_inputs_alone(tmp_path):
    fn = PlanRerunFn(str(tmp_path), _current(), SegmentParams(), False, frozenset())
    assert list(fn.process(("gs://archive/gone.mp4", {"found": [], "catalog": [{}]}))) == []


def test_render_fingerprint_ignores_how_the_work_is_split():
    names = {f.name for f in dataclasses.fields(RenderParams)}
    # If one is renamed, exclude_render in pipelines/incremental.py must follow.
    assert {"timeout_s", "render_chunk_s", "render_workers"} <= names

    def render_fingerprint(**render) -> str:
        return run_fingerprints(RunConfig(render=RenderParams(**render))).render

    base = render_fingerprint()
    # More workers (shorter auto chunks), another chunk length or timeout: nothing to redo.
    assert render_fingerprint(render_workers=16, render_chunk_s=30.0, timeout_s=9.0) == base
    assert render_fingerprint(proxy_height=480) != base


def test_run_fingerprints_follow_the_model_bytes_not_its_path(tmp_path):
    from pipelines.run_config import ModelConfig

    a, b, c = tmp_path / "a.task", tmp_path / "b.task", tmp_path / "c.task"
    a.write_bytes(b"model one")
    b.write_bytes(b"model one")
    c.write_bytes(b"model two")

    def fingerprints(path):
        return run_fingerprints(RunConfig(model=ModelConfig(pose_model=str(path))))

    assert fingerprints(a) == fingerprints(b)
    assert fingerprints(c).detect != fingerprints(a).detect
    assert fingerprints(c).segment == fingerprints(a).segment


def test_file_action_prefers_the_row_of_the_current_id_and_redetects_gaps():
    current = _current()
    old_id = {**_row(current), "video_id": "old", "detect_fingerprint": "other"}
    assert file_action(FOUND, [old_id, _row(current)], current) == (Action.SKIP, _row(current))
    assert file_action(FOUND, [old_id], current)[0] is Action.CHANGED
    assert file_action(FOUND, [], current) == (Action.NEW, None)
    resegment = _current(segment={"min_segment_s": 60.0})
    assert file_action(FOUND, [_row(current)], resegment)[0] is Action.RESEGMENT
    partial = {**_row(current), "failed_chunks": 2}
    assert file_action(FOUND, [partial], resegment)[0] is Action.DETECT


def _launch(tmp_path, **find) -> RunConfig:
    """A run over ``tmp_path/archive`` (one file, a.mp4) into ``tmp_path/out``."""
    archive = tmp_path / "archive"
    archive.mkdir(exist_ok=True)
    (archive / "a.mp4").write_bytes(b"never decoded by these tests")
    return RunConfig(
        find=FindConfig(patterns=(normalize_input(str(archive)),), **find),
        sink=SinkConfig(output=str(tmp_path / "out")),
    )


def _catalogue_everything(config: RunConfig) -> None:
    """Write a ``videos`` row, with this run's fingerprints, for every file found now."""
    current = run_fingerprints(config)
    rows = [
        json.loads(
            video(
                f.video_id,
                source_uri=f.uri,
                source_fingerprint=source_fingerprint(f.uri, f.size_bytes, f.mtime),
                detect_fingerprint=current.detect,
                segment_fingerprint=current.segment,
                render_fingerprint=current.render,
            ).to_json()
        )
        for f in find_videos(config, [], fixed_clock).now()
    ]
    write_table_atomically(config.output, "videos", rows)


def test_nothing_to_do_only_when_every_input_is_catalogued_unchanged(tmp_path):
    config = _launch(tmp_path)
    assert nothing_to_do(config, fixed_clock) is None  # no catalog: a.mp4 is new
    _catalogue_everything(config)
    assert nothing_to_do(config, fixed_clock) == {"files_found": 1, "inputs_skipped": 1}
    forced = dataclasses.replace(config, find=dataclasses.replace(config.find, reprocess=True))
    assert nothing_to_do(forced, fixed_clock) is None
    changed = dataclasses.replace(config, segment=SegmentParams(min_segment_s=60.0))
    assert nothing_to_do(changed, fixed_clock) is None
    (tmp_path / "archive" / "b.mp4").write_bytes(b"new")
    assert nothing_to_do(config, fixed_clock) is None


def test_nothing_to_do_leaves_retries_and_find_failures_to_the_pipeline(tmp_path):
    config = _launch(tmp_path, retry_failures=True)
    _catalogue_everything(config)
    assert nothing_to_do(config, fixed_clock) == {"files_found": 1, "inputs_skipped": 1}
    retry = failure(str(tmp_path / "archive" / "c.mp4"))
    write_table_atomically(config.output, "failures", [json.loads(retry.to_json())])
    assert nothing_to_do(config, fixed_clock) is None
    plain = dataclasses.replace(config, find=FindConfig(config.find.patterns))
    assert nothing_to_do(plain, fixed_clock) is not None  # without --retry_failures
    missing = normalize_input(str(tmp_path / "gone.mp4"))
    named = dataclasses.replace(plain, find=FindConfig((*plain.find.patterns, missing)))
    assert nothing_to_do(named, fixed_clock) is None  # its failure row is the pipeline's to write
    (tmp_path / "out" / "catalog" / "videos.jsonl").write_text("{not json\n")
    assert nothing_to_do(plain, fixed_clock) is None  # the pipeline meets the broken catalog
