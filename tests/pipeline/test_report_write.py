"""The report written from a catalog on disk: ``build_report`` and the ``WriteReport`` PTransform."""

from __future__ import annotations

import json
import pathlib

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.helpers.report import FULL, cards_of, parse, sample_rows, write_catalog
from transforms.report import NoCatalogError, WriteReport, build_report

ASSETS = pathlib.Path(__file__).resolve().parents[2] / "transforms" / "report" / "assets"


@pytest.fixture()
def rows():
    """The sample catalog of ``tests.helpers.report``."""
    return sample_rows()


def test_build_report_from_a_catalog(tmp_path, rows):
    videos, segments, assets, failures, motion = rows
    out = tmp_path / "out"
    write_catalog(out, videos, segments, assets, failures)
    doc_path = out / "videos" / FULL / "motion.json"
    doc_path.parent.mkdir(parents=True)
    doc_path.write_text(json.dumps(motion[FULL]))
    (out / "videos" / "hostile").mkdir()
    (out / "videos" / "hostile" / "motion.json").write_text("{not json")  # costs a timeline only

    assert build_report(str(out)) == str(out / "report" / "index.html")
    names = sorted(p.relative_to(out / "report").as_posix() for p in (out / "report").rglob("*"))
    assert names == ["assets", "assets/report.css", "assets/report.js", "index.html"]
    for name in ("report.css", "report.js"):
        assert (out / "report" / "assets" / name).read_bytes() == (ASSETS / name).read_bytes()

    page = (out / "report" / "index.html").read_bytes()
    parsed = parse(page)
    assert parsed.errors == []
    # What the catalog on disk says, stated independently of the code under test.
    assert [c["data-id"] for c in cards_of(parsed)] == [FULL, "hostile", "still"]
    text = "".join(parsed.text)
    assert "reelbeam catalog: 3 videos" in text  # the <title>
    assert "Catalog updated 2026-01-02 03:04 UTC" in text
    assert f"from {out / 'catalog'}" in text  # the footer names the catalog it read
    body_rows = [a for t, a, anc in parsed.elements if t == "tr" and "tbody" in anc]
    assert len(body_rows) == 2  # one per failure row
    assert "moov atom not found <script>alert(1)</script>" in text
    (proxy,) = parsed.find("video", **{"class": "proxy"})
    assert proxy["src"] == f"../videos/{FULL}/proxy_720p.mp4"
    # motion.json was read from videos/<id>/ for the full video; the broken one was skipped.
    assert page.count(b'class="score"') == 1
    full_card = page.split(b'<article class="card" id="v-hostile"')[0]
    assert b'class="score"' in full_card and b"threshold 0.15" in full_card
    assert "no per-sample scores (motion.json missing)" in text  # the hostile card says why


def test_build_report_without_catalog(tmp_path):
    with pytest.raises(NoCatalogError) as raised:
        build_report(str(tmp_path / "nothing"))
    message = str(raised.value).strip().splitlines()
    assert len(message) == 1 and "no catalog" in message[0]
    assert not (tmp_path / "nothing" / "report").exists()


def test_write_report_transform(tmp_path, rows):
    out = tmp_path / "out"
    write_catalog(out, *rows[:4])
    with TestPipeline(runner="DirectRunner") as pipeline:
        uris = pipeline | beam.Create([("videos", 3), ("segments", 3)]) | WriteReport(str(out))
        assert_that(uris, equal_to([str(out / "report" / "index.html")]), label="IndexUri")
    assert (out / "report" / "index.html").is_file()
