"""``reelbeam resegment``: new thresholds from motion.json alone, no video decoded."""

import json

import pytest

from pipelines.cli import dispatch as run
from tests.helpers.media import write_freeze_motion_clip
from tests.helpers.runs import DIRECT, fixed_clock

pytestmark = pytest.mark.integration


def _segments(out):
    path = out / "catalog" / "segments.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_resegment_without_the_sources(tmp_path, dancer):
    src = tmp_path / "in" / "dance.mp4"
    src.parent.mkdir()
    # Truth: still 0-3 s, dancing 3-7.2 s, still 7.2-10.2 s.
    assert write_freeze_motion_clip(
        src, dancer, [("freeze", 3.0), ("play", None), ("freeze", 3.0)], size=360
    ) == [(3.0, 7.2)]
    out = tmp_path / "out"
    assert run([f"--input={src}", f"--output={out}", *DIRECT], clock=fixed_clock) == 0
    original = (out / "catalog" / "segments.jsonl").read_bytes()
    (seg,) = _segments(out)
    assert abs(seg["start_s"] - 3.0) <= 0.5 and abs(seg["end_s"] - 7.2) <= 0.5
    src.unlink()  # resegmenting must not need the video

    assert run(["resegment", f"--output={out}", "--min_segment_s=60"], clock=fixed_clock) == 0
    assert _segments(out) == []
    (video,) = [json.loads(x) for x in (out / "catalog" / "videos.jsonl").read_text().splitlines()]
    assert (video["segment_count"], video["motion_s_total"]) == (0, 0.0)

    assert run(["resegment", f"--output={out}"], clock=fixed_clock) == 0
    assert (out / "catalog" / "segments.jsonl").read_bytes() == original
    motion = json.loads((out / "videos" / video["video_id"] / "motion.json").read_text())
    assert len(motion["times_s"]) == len(motion["scores"]) == 51


def test_resegment_needs_a_catalog(tmp_path, capsys):
    assert run(["resegment", f"--output={tmp_path}"]) == 2
    assert "no catalog" in capsys.readouterr().err
