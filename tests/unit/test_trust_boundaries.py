"""Allowed roots hold on every path: symlinks resolved, trust refusals never retried."""

from __future__ import annotations

import os

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.retry_inputs import retryable_inputs
from transforms.find import FindVideos, within_roots


def _tree(tmp_path):
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(b"not really a video")
    (allowed / "ok.mp4").write_bytes(b"fine")
    os.symlink(outside / "secret.mp4", allowed / "link.mp4")
    os.symlink(outside, allowed / "door")
    return allowed, outside


def test_a_link_inside_an_allowed_root_that_points_outside_is_outside(tmp_path):
    allowed, _ = _tree(tmp_path)
    roots = [str(allowed)]
    assert within_roots(str(allowed / "ok.mp4"), roots)
    assert not within_roots(str(allowed / "link.mp4"), roots)
    assert not within_roots(str(allowed / "door" / "secret.mp4"), roots)
    assert not within_roots(str(allowed / "door" / "*.mp4"), roots)
    assert not within_roots(str(allowed / ".." / "outside" / "secret.mp4"), roots)


def test_a_list_glob_cannot_reach_outside_through_a_link(tmp_path):
    allowed, _ = _tree(tmp_path)
    listing = allowed / "inputs.txt"
    listing.write_text("*.mp4\n")
    with TestPipeline(runner="DirectRunner") as p:
        found = p | FindVideos(patterns=[], input_list=str(listing), extensions=("mp4",))
        uris = found["found"] | beam.Map(lambda f: os.path.basename(f.uri))
        refused = found["failures"] | beam.Map(
            lambda r: (os.path.basename(r.input_uri), r.error_type)
        )
        assert_that(uris, equal_to(["ok.mp4"]), label="OnlyTheRealFile")
        assert_that(
            refused, equal_to([("link.mp4", "OutsideAllowedRootsError")]), label="LinkRefused"
        )


def test_rows_refused_for_trust_reasons_are_never_retried():
    rows = [
        {"input_uri": "/nas/a.mp4", "error_type": "CorruptMediaError"},
        {"input_uri": "/etc/shadow", "error_type": "OutsideAllowedRootsError"},
        {"input_uri": "/nas/b.mp4", "error_type": "DecodeTimeoutError"},
        {"input_uri": "/nas/a.mp4", "error_type": "CorruptMediaError"},
    ]
    assert retryable_inputs(rows) == ["/nas/a.mp4", "/nas/b.mp4"]
