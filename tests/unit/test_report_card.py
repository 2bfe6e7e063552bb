"""Video cards on the rendered page: escaping, relative artifact links, absent artifacts."""

from __future__ import annotations

import json

import pytest

from tests.helpers.report import HOSTILE, asset_row, cards_of, parse, sample_rows
from transforms.report.page import render_report


@pytest.fixture()
def rows():
    """The sample catalog of ``tests.helpers.report``."""
    return sample_rows()


def test_hostile_names_are_escaped(rows):
    page = render_report(*rows)["index.html"].decode("utf-8")
    assert HOSTILE not in page
    assert "a&quot;&lt;b&gt;&amp;ü.mp4" in page  # non-ASCII kept as UTF-8
    assert 'ev"<x>' not in page and "ev&quot;&lt;x&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = parse(page.encode("utf-8"))
    (hostile,) = [c for c in cards_of(parsed) if c["data-id"] == "hostile"]
    assert json.loads(hostile["data-fields"]) == {"event": 'ev"<x>', "day": "day2"}
    assert any(HOSTILE in t for t in parsed.text)  # the browser shows the real name


def test_artifact_links_are_relative(rows):
    parsed = parse(render_report(*rows)["index.html"])
    links = [a.get("href") or a.get("src") or a.get("poster") for _, a, _ in parsed.elements]
    links = [link for link in links if link and not link.startswith(("#", "data:"))]
    assert links
    for link in links:
        assert "://" not in link and not link.startswith("/"), link
    base = "../videos/event1-day1-cam1"
    (proxy,) = parsed.find("video", **{"class": "proxy"})
    assert proxy["src"] == f"{base}/proxy_720p.mp4"
    assert proxy["poster"] == f"{base}/thumbs/001.jpg"
    assert proxy["data-duration"] == "4"
    (reel,) = parsed.find("video", **{"class": "highlights"})
    assert reel["src"] == f"{base}/highlights.mp4"
    hrefs = [a["href"] for a in parsed.find("a") if "href" in a]
    for name in ("rendition_1080p.mp4", "rendition_480p.mp4", "highlights.otio", "motion.json"):
        assert f"{base}/{name}" in hrefs
    # the ladder lists the tallest first
    assert hrefs.index(f"{base}/rendition_1080p.mp4") < hrefs.index(f"{base}/rendition_480p.mp4")


def test_graceful_absence_of_artifacts(rows):
    videos, segments, assets, failures, motion = rows
    bare = [v.model_copy(update={"proxy_uri": None, "highlights_uri": None}) for v in videos]
    page = render_report(bare, segments, [], failures, {})["index.html"]
    parsed = parse(page)
    assert len(cards_of(parsed)) == 3
    assert parsed.find("video") == []
    assert parsed.find("img") == []
    assert "No preview yet" in "".join(parsed.text)
    assert "No artifacts rendered yet." in "".join(parsed.text)
    # a thumbnail but no proxy: the thumbnail is the poster image
    thumb = asset_row("still", "thumbnail", "/o/videos/still/thumbs/000.jpg")
    parsed = parse(render_report(bare[2:], [], [thumb], [], {})["index.html"])
    (img,) = parsed.find("img")
    assert img["src"] == "../videos/still/thumbs/000.jpg" and img["alt"]
    assert parsed.find("video") == []
