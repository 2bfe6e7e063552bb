"""The report card shows the damage decoding concealed (``videos.decode_errors``)."""

from __future__ import annotations

from tests.helpers.report import parse, video_row
from transforms.report.card import decode_errors_text, render_card


def _video(counts) -> dict:
    row = video_row("v", "gs://bucket/out").model_dump(mode="json")
    row["decode_errors"] = counts
    return row


def test_concealed_damage_is_a_badge_and_a_fact():
    html = render_card(_video({"video": 3, "audio": 1200}), [], [], None, [])
    parsed = parse(html.encode("utf-8"))
    (badge,) = [s for s in parsed.find("span") if s.get("title") == "audio 1,200 · video 3"]
    assert "warn" in badge["class"]
    text = " ".join(parsed.text)
    assert "1,203 damaged packets concealed" in text
    assert "audio 1,200 · video 3 packets concealed" in text


def test_no_damage_shows_nothing():
    for counts in (None, {}, {"video": 0, "audio": 0}, {"video": "x"}, "garbage"):
        html = render_card(_video(counts), [], [], None, [])
        assert "damaged" not in html and "concealed" not in html
        assert decode_errors_text({"decode_errors": counts}) == ""
