"""The report's pure text formatters, against literal expectations."""

from __future__ import annotations

import datetime as dt

from transforms.report.format import (
    attr_number,
    bytes_text,
    clock_text,
    duration_text,
    escape,
    finite_number,
    row_dict,
    span_text,
    time_text,
)
from transforms.schemas import SegmentRow


def test_escape_covers_text_and_attributes():
    assert escape("a\"<b>&'ü") == "a&quot;&lt;b&gt;&amp;&#x27;ü"
    assert escape(None) == ""
    assert escape(3) == "3"


def test_finite_number():
    assert finite_number("2.5") == 2.5
    assert finite_number(None) is None
    assert finite_number("x") is None
    assert finite_number(float("nan")) is None
    assert finite_number(float("inf")) is None


def test_durations_and_clocks():
    assert duration_text(8) == "8.0 s"
    assert duration_text(62) == "1:02"
    assert duration_text(3723) == "1:02:03"
    assert duration_text(None) == "–"
    assert clock_text(2.5, 0.5) == "2.5s"
    assert clock_text(4, 1) == "4s"
    assert clock_text(120, 30) == "2:00"
    assert clock_text(3600, 600) == "1:00:00"
    assert span_text(0.5, 61.25) == "0:00.5–1:01.2"


def test_sizes_and_numbers():
    assert bytes_text(999) == "999 B"
    assert bytes_text(1_234_567) == "1.2 MB"
    assert bytes_text(None) == "–"
    assert attr_number(4.0) == "4"
    assert attr_number(0.5) == "0.5"
    assert attr_number(None) == ""


def test_time_text_is_utc_to_the_minute():
    assert time_text("2026-01-02T03:04:05Z") == "2026-01-02 03:04 UTC"
    assert time_text("2026-01-02T04:04:05+01:00") == "2026-01-02 03:04 UTC"
    assert time_text(dt.datetime(2026, 1, 2, 3, 4)) == "2026-01-02 03:04 UTC"
    assert time_text("yesterday") == "yesterday"
    assert time_text(None) == "–"


def test_row_dict_takes_models_and_dicts():
    row = SegmentRow(
        video_id="v",
        segment_index=0,
        start_s=1.0,
        end_s=2.0,
        duration_s=1.0,
        peak_score=0.5,
        mean_score=0.25,
        max_people=1,
    )
    assert row_dict(row)["start_s"] == 1.0
    assert row_dict({"a": 1}) == {"a": 1}
