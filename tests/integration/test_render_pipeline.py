"""RenderVideos in the pipeline: every artifact, chunk-parallel long sources, reruns, failures."""

from __future__ import annotations

import json
import pathlib

import pytest

from pipelines.launcher import run
from tests.helpers.media import write_freeze_motion_clip, write_synthetic_clip
from tests.helpers.runs import DIRECT, fixed_clock
from transforms.encoding.readback import probe_output
from transforms.encoding.settings import nvenc_available

pytestmark = pytest.mark.integration


def _rows(out: pathlib.Path, table: str) -> list[dict]:
    path = out / "catalog" / f"{table}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def dance(tmp_path_factory, dancer) -> pathlib.Path:
    """dance.mp4 with stills around it, scaled to 1024x576: 10.2 s at 10 fps (102 frames),
    motion 3-7.2 s, no audio."""
    path = tmp_path_factory.mktemp("render") / "in" / "dance.mp4"
    path.parent.mkdir()
    truth = write_freeze_motion_clip(
        path, dancer, [("freeze", 3.0), ("play", None), ("freeze", 3.0)], size=1024
    )
    assert truth == [(3.0, 7.2)]
    return path


def test_every_artifact_of_a_video(dance, tmp_path):
    out = tmp_path / "out"
    assert run([f"--input={dance}", f"--output={out}", *DIRECT], clock=fixed_clock) == 0
    (video,) = _rows(out, "videos")
    assets = {}
    for row in _rows(out, "assets"):
        assets.setdefault(row["asset_type"], []).append(row)
    assert sorted(assets) == [
        "highlights", "motion", "preview", "proxy", "rendition", "thumbnail", "timeline"
    ]  # fmt: skip
    folder = out / "videos" / video["video_id"]
    (proxy,) = assets["proxy"]
    assert proxy["uri"] == str(folder / "proxy_720p.mp4") == video["proxy_uri"]
    facts = probe_output(proxy["uri"])
    assert (facts["codec"], facts["pix_fmt"], facts["faststart"]) == ("h264", "yuv420p", True)
    assert (facts["width"], facts["height"]) == (1024, 576)  # never upscaled
    assert facts["frame_count"] == 102
    assert abs(facts["duration_s"] - 10.2) < 1 / 10
    # The 576p source gets no 1080p or 720p rendition; 480p is the one rung below it.
    assert [r["height"] for r in assets["rendition"]] == [480]
    assert len(assets["thumbnail"]) == 7  # 6 evenly spaced + the poster
    (reel,) = assets["highlights"]
    assert video["highlights_uri"] == reel["uri"]
    # Segment ~3-7.2 s padded by 2 s before and 3 s after, clamped to 10.2 s: about 1-10.2 s.
    assert 8.0 <= reel["duration_s"] <= 9.5
    assert abs(video["highlights_duration_s"] - reel["duration_s"]) < 1e-6
    for row in _rows(out, "assets"):
        assert pathlib.Path(row["uri"]).stat().st_size == row["size_bytes"]
        assert len(row["md5"]) == 32
    assert not list(out.rglob("*.part")) and not list(out.rglob("*.tmp-*"))
    assert (out / "report" / "index.html").exists()


def test_a_rerun_skips_complete_artifacts(dance, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [f"--input={dance}", f"--output={out}", *DIRECT]
    assert run(argv, clock=fixed_clock) == 0
    proxy = next(out.rglob("proxy_720p.mp4"))
    before = proxy.stat().st_mtime_ns
    first = (out / "catalog" / "assets.jsonl").read_bytes()
    assert run(argv, clock=fixed_clock) == 0
    assert proxy.stat().st_mtime_ns == before  # not encoded again
    assert (out / "catalog" / "assets.jsonl").read_bytes() == first
    # Other settings for the same source: the ladder is rendered again.
    assert run([*argv, "--crf=30"], clock=fixed_clock) == 0
    assert proxy.stat().st_mtime_ns != before


def test_long_sources_are_encoded_in_chunks_and_joined(tmp_path):
    """A 30 s, 25 fps source with audio (750 frames) in 8 s render chunks."""
    src = tmp_path / "in" / "long.mp4"
    src.parent.mkdir()
    truth = write_synthetic_clip(src, duration_s=30.0, fps=25, audio=True, gop_size=25)
    assert truth.frame_count == 750
    out = tmp_path / "out"
    argv = [f"--input={src}", f"--output={out}", "--render=proxy,ladder", "--ladder=480,240,120"]
    assert run([*argv, "--render_chunk_s=8", *DIRECT], clock=fixed_clock) == 0
    (proxy,) = [a for a in _rows(out, "assets") if a["asset_type"] == "proxy"]
    joined = probe_output(proxy["uri"])
    assert joined["frame_count"] == 750
    assert abs(joined["duration_s"] - 30.0) <= 1 / 25
    assert joined["faststart"] and joined["audio_codec"] == "aac"
    assert not list(out.rglob("parts"))  # the chunk files and their folder are gone
    # The same source in one pass: identical frame timestamps.
    single = tmp_path / "single"
    assert run([*argv, f"--output={single}", *DIRECT], clock=fixed_clock) == 0
    (whole,) = [a for a in _rows(single, "assets") if a["asset_type"] == "proxy"]
    assert probe_output(whole["uri"])["pts"] == joined["pts"]
    renditions = [a for a in _rows(out, "assets") if a["asset_type"] == "rendition"]
    # 320x240 source: the proxy is 240p (never upscaled), so 480 is skipped (above the
    # source) and 240 is the proxy itself; 120 is the one rendition.
    assert sorted(r["height"] for r in renditions) == [120]


@pytest.mark.skipif(nvenc_available(), reason="needs a machine without NVENC")
def test_an_encoder_that_fails_is_a_render_failure_and_the_row_stands(dance, tmp_path):
    out = tmp_path / "out"
    argv = [f"--input={dance}", f"--output={out}", "--encoder=h264_nvenc", *DIRECT]
    assert run(argv, clock=fixed_clock) == 0
    (video,) = _rows(out, "videos")
    assert video["proxy_uri"] is None and video["segment_count"] == 1
    failures = _rows(out, "failures")
    assert failures and {f["stage"] for f in failures} == {"render"}
    folder = out / "videos" / video["video_id"]
    assert not (folder / "proxy_720p.mp4").exists() and not (folder / "highlights.mp4").exists()
    assert not list(out.rglob("*.part")) and not list(out.rglob("*.tmp-*"))
    assert (folder / "thumbs" / "000.jpg").exists()  # what does not need the encoder stands
