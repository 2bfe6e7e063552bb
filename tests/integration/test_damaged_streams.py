"""Damaged packets inside a readable stream are concealed, counted, and every artifact made.

Clean clips are written with PyAV (a click every 0.5 s on the audio, so sync can be
measured), then a few audio and video packets in the middle are overwritten with random
bytes (``damage_packets``). The proxy must last as long as the source within one frame,
its clicks must sound when the source's do within one frame (after the damage too), and
the damage must be counted per stream kind.
"""

from __future__ import annotations

import json
import pathlib
import shutil

import av
import numpy as np
import pytest

from pipelines.launcher import run
from tests.helpers.media import write_synthetic_clip
from tests.helpers.media.garbage import damage_packets
from tests.helpers.runs import DIRECT, fixed_clock
from transforms.encoding.chunked import encode_audio
from transforms.encoding.ladder import render_ladder
from transforms.encoding.readback import probe_output
from transforms.errors import CorruptMediaError
from transforms.media.damage import DecodeErrors
from transforms.media.probe import probe_video
from transforms.records import FoundFile

pytestmark = pytest.mark.integration

FPS = 25
CLICK_EVERY_S = 0.5
DURATION_S = 6.0

CASES = [
    ("avi", "mpeg4", "ac3"),
    ("avi", "mpeg4", "libmp3lame"),
    ("mkv", "libx264", "aac"),
    ("mkv", "libx264", "ac3"),
    ("mp4", "libx264", "aac"),
    ("mp4", "libx264", "libmp3lame"),
]


def click_onsets(path: str | pathlib.Path) -> list[float]:
    """Times (s) where the first audio stream gets loud after at least 0.2 s of quiet."""
    onsets: list[float] = []
    last = -10.0
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            if frame.pts is None:
                continue
            start = float(frame.pts * frame.time_base)
            level = np.abs(frame.to_ndarray().astype(np.float32))
            level = level.max(axis=0) if level.ndim > 1 else level
            if frame.format.name.startswith("s16"):
                level /= 32768.0
            for index in np.nonzero(level > 0.1)[0]:
                t = start + index / frame.sample_rate
                if t - last > 0.2:
                    onsets.append(t)
                last = t
    return onsets


def _damaged_clip(folder: pathlib.Path, ext: str, vcodec: str, acodec: str) -> pathlib.Path:
    clean = folder / f"clean.{ext}"
    write_synthetic_clip(
        clean,
        duration_s=DURATION_S,
        fps=FPS,
        codec=vcodec,
        audio=True,
        audio_codec=acodec,
        audio_click_every_s=CLICK_EVERY_S,
        gop_size=FPS,
    )
    damaged = folder / f"damaged_{acodec}.{ext}"
    shutil.copy(clean, damaged)
    damage_packets(damaged, "audio", at=0.4)
    damage_packets(damaged, "video", at=0.5)
    return damaged


@pytest.mark.parametrize(("ext", "vcodec", "acodec"), CASES)
def test_a_damaged_clip_renders_complete_and_in_sync(tmp_path, ext, vcodec, acodec):
    src = _damaged_clip(tmp_path, ext, vcodec, acodec)
    probe = probe_video(FoundFile(str(src), src.stat().st_size, None, "damaged"))
    errors = DecodeErrors(source=str(src))
    proxy = tmp_path / "proxy.mp4"
    render_ladder(str(src), {240: str(proxy)}, errors=errors)

    counts = errors.as_dict()
    assert counts["audio"] > 0 and counts["video"] > 0, counts
    facts = probe_output(proxy)
    assert abs(facts["duration_s"] - probe.duration_s) <= 1 / FPS + 1e-6
    assert facts["audio_codec"] == "aac"
    assert abs(facts["audio_duration_s"] - probe.duration_s) <= 1 / FPS + 1e-6
    # Every click of the source is in the proxy at the same time, within one frame: the
    # damaged audio became silence of its own length instead of pulling later audio early.
    expected = click_onsets(src.with_name(f"clean.{ext}"))
    got = click_onsets(proxy)
    assert len(expected) == round(DURATION_S / CLICK_EVERY_S)
    assert len(got) == len(expected), (got, expected)
    for want, have in zip(expected, got, strict=True):
        assert abs(have - want) <= 1 / FPS, (got, expected)


def test_the_whole_audio_of_a_long_source_is_placed_by_timestamps(tmp_path):
    """The chunked render encodes the audio once (``encode_audio``): it conceals alike."""
    src = _damaged_clip(tmp_path, "avi", "mpeg4", "ac3")
    errors = DecodeErrors(source=str(src))
    audio = tmp_path / "audio.m4a"
    duration_s = encode_audio(str(src), str(audio), errors=errors)
    assert errors.as_dict()["audio"] > 0
    assert duration_s is not None and abs(duration_s - DURATION_S) <= 1 / FPS
    expected = click_onsets(src.with_name("clean.avi"))
    got = click_onsets(audio)
    assert len(got) == len(expected)
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) <= 1 / FPS


def test_past_the_limit_the_file_fails(tmp_path):
    src = _damaged_clip(tmp_path, "mkv", "libx264", "aac")
    with pytest.raises(CorruptMediaError, match="max_decode_errors"):
        render_ladder(str(src), {240: str(tmp_path / "p.mp4")}, errors=DecodeErrors(max_errors=2))
    assert not (tmp_path / "p.mp4").exists()


def _rows(out: pathlib.Path, table: str) -> list[dict]:
    path = out / "catalog" / f"{table}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_pipeline_catalogs_damage_and_makes_every_artifact(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    src = _damaged_clip(folder, "avi", "mpeg4", "ac3")
    (folder / "clean.avi").unlink()
    out = tmp_path / "out"
    argv = [f"--input={folder}", f"--output={out}", "--ladder=240", *DIRECT]
    assert run(argv, clock=fixed_clock) == 0
    assert _rows(out, "failures") == []
    (video,) = _rows(out, "videos")
    assert video["file_name"] == src.name
    assert video["decode_errors"]["audio"] > 0 and video["decode_errors"]["video"] > 0
    kinds = {a["asset_type"] for a in _rows(out, "assets")}
    assert {"proxy", "thumbnail", "preview", "motion"} <= kinds
    proxy = probe_output(video["proxy_uri"])
    assert abs(proxy["duration_s"] - video["duration_s"]) <= 1 / FPS + 1e-6
    page = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert "damaged packets concealed" in page
    # A rerun reuses the proxy and still reports the damage (kept in the render manifest).
    assert run(argv, clock=fixed_clock) == 0
    (again,) = _rows(out, "videos")
    assert again["decode_errors"] == video["decode_errors"]


def test_a_damaged_first_packet_does_not_fail_the_probe(tmp_path):
    src = tmp_path / "first.mkv"
    write_synthetic_clip(src, duration_s=3.0, fps=FPS, gop_size=FPS)
    damage_packets(src, "video", count=1, at=0.0)
    probe = probe_video(FoundFile(str(src), src.stat().st_size, None, "first"))
    assert (probe.width, probe.height) == (320, 240) and probe.rotation_deg == 0


def test_a_long_damaged_source_is_rendered_in_chunks_with_its_damage_counted(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _damaged_clip(folder, "mkv", "libx264", "ac3")
    (folder / "clean.mkv").unlink()
    out = tmp_path / "out"
    argv = [f"--input={folder}", f"--output={out}", "--render=proxy", "--render_chunk_s=2"]
    assert run([*argv, *DIRECT], clock=fixed_clock) == 0
    assert _rows(out, "failures") == []
    (video,) = _rows(out, "videos")
    assert video["decode_errors"]["audio"] > 0 and video["decode_errors"]["video"] > 0
    proxy = probe_output(video["proxy_uri"])
    assert abs(proxy["duration_s"] - video["duration_s"]) <= 1 / FPS + 1e-6
    assert not list(out.rglob("parts"))
