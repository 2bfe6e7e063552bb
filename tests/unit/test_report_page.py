"""The whole page from catalog rows: structure, accessibility, failures, filters, determinism."""

from __future__ import annotations

import pytest

from tests.helpers.report import cards_of, parse, sample_rows
from transforms.report.page import render_report


@pytest.fixture()
def rows():
    """The sample catalog of ``tests.helpers.report``."""
    return sample_rows()


def test_one_card_per_video_and_static_assets(rows):
    files = render_report(*rows)
    assert set(files) == {"index.html", "assets/report.css", "assets/report.js"}
    parsed = parse(files["index.html"])
    cards = cards_of(parsed)
    assert [c["data-id"] for c in cards] == ["event1-day1-cam1", "hostile", "still"]
    assert parsed.find("link", rel="stylesheet", href="assets/report.css")
    assert parsed.find("script", src="assets/report.js")
    assert len(parsed.find("script")) == 1  # no inline or injected scripts


def test_page_is_well_formed_and_accessible(rows):
    parsed = parse(render_report(*rows)["index.html"])
    assert parsed.errors == []
    assert parsed.stack == []
    ids = [a["id"] for _, a, _ in parsed.elements if "id" in a]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for img in parsed.find("img"):
        assert img.get("alt"), img
    for tag, attrs, ancestors in parsed.elements:
        if tag in ("input", "select"):
            assert "label" in ancestors or attrs.get("aria-label"), (tag, attrs)
    for svg in parsed.find("svg"):
        assert svg.get("role") == "img" and svg.get("aria-label")
    for video in parsed.find("video"):
        assert video.get("aria-label")
    assert parsed.find("html", lang="en")


def test_failures_table(rows):
    parsed = parse(render_report(*rows)["index.html"])
    body_rows = [a for t, a, anc in parsed.elements if t == "tr" and "tbody" in anc]
    assert len(body_rows) == 2
    assert "moov atom not found <script>alert(1)</script>" in "".join(parsed.text)
    headers = [a for t, a, _ in parsed.elements if t == "th"]
    assert all(h.get("scope") == "col" for h in headers)
    # the card of a video with failed chunks points at the table
    assert any(a.get("href") == "#failures" for a in parsed.find("a"))


def test_no_failures_and_no_videos():
    parsed = parse(render_report([], [], [], [], {})["index.html"])
    assert cards_of(parsed) == []
    text = "".join(parsed.text)
    assert "No videos catalogued yet." in text and "No failures." in text
    assert parsed.errors == []


def test_filters_come_from_the_data(rows):
    parsed = parse(render_report(*rows)["index.html"])
    selects = {a["data-field"] for a in parsed.find("select") if "data-field" in a}
    assert selects == {"event", "day", "camera"}
    option_values = {a.get("value") for a in parsed.find("option")}
    assert {"event1", "event2", 'ev"<x>', "day1", "day2", "cam1"} <= option_values
    assert {"duration:desc", "motion:desc", "name:asc"} <= option_values
    cards = {c["data-id"]: c for c in cards_of(parsed)}
    assert cards["event1-day1-cam1"]["data-motion"] == "2"
    assert cards["still"]["data-duration"] == "90"
    assert cards["still"]["data-analysed"] == "0"


def test_render_is_deterministic(rows):
    assert render_report(*rows) == render_report(*rows)
    as_dicts = [[r.model_dump(mode="json") for r in table] for table in rows[:4]]
    assert render_report(*as_dicts, rows[4]) == render_report(*rows)
