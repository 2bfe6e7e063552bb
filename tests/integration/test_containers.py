"""Every container the default ``--extensions`` lists, and ``--extensions '*'`` on a NAS folder.

Each container gets a small clip written with PyAV's bundled FFmpeg in a codec that
container takes (as cameras, broadcast and DVD archives hold them); each is probed, and
the proxy is rendered from each. A few go through the whole pipeline (detection, proxy,
catalog). Under ``--extensions '*'`` photos and sidecar files beside the videos are
counted (``not_video``), not failure rows.
"""

from __future__ import annotations

import json
import pathlib

import pytest
from PIL import Image

from pipelines.launcher import run
from tests.helpers.media import write_audio_only, write_garbage, write_synthetic_clip
from tests.helpers.runs import DIRECT, fixed_clock
from transforms.encoding.ladder import render_ladder
from transforms.encoding.readback import probe_output
from transforms.media.probe import probe_video
from transforms.paths import DEFAULT_EXTENSIONS
from transforms.probe_videos import NOT_VIDEO, ProbeFileFn
from transforms.progress import PROGRESS_ENV, read_totals
from transforms.records import FoundFile

pytestmark = pytest.mark.integration

FPS = 25
DURATION_S = 2.0

# extension -> (video encoder, audio encoder or None, frame size, FFmpeg demuxer name)
CONTAINERS = {
    "mp4": ("libx264", "aac", (320, 240), "mov,mp4,m4a,3gp,3g2,mj2"),
    "m4v": ("libx264", "aac", (320, 240), "mov,mp4,m4a,3gp,3g2,mj2"),
    "mov": ("libx264", "aac", (320, 240), "mov,mp4,m4a,3gp,3g2,mj2"),
    "avi": ("mpeg4", "libmp3lame", (320, 240), "avi"),
    "mkv": ("libx264", "ac3", (320, 240), "matroska,webm"),
    "webm": ("libvpx-vp9", "libopus", (320, 240), "matroska,webm"),
    "mxf": ("mpeg2video", "pcm_s16le", (320, 240), "mxf"),
    "ts": ("mpeg2video", "mp2", (320, 240), "mpegts"),
    "mts": ("libx264", "ac3", (320, 240), "mpegts"),
    "m2ts": ("libx264", "ac3", (320, 240), "mpegts"),
    "mpg": ("mpeg2video", "mp2", (320, 240), "mpeg"),
    "mpeg": ("mpeg1video", "mp2", (320, 240), "mpeg"),
    "m2v": ("mpeg2video", None, (320, 240), "mpegvideo"),
    "vob": ("mpeg2video", "ac3", (320, 240), "mpeg"),
    "wmv": ("wmv2", "wmav2", (320, 240), "asf"),
    "asf": ("wmv2", "wmav2", (320, 240), "asf"),
    "flv": ("flv", "libmp3lame", (320, 240), "flv"),
    "3gp": ("h263", "aac", (176, 144), "mov,mp4,m4a,3gp,3g2,mj2"),
    "3g2": ("mpeg4", "aac", (320, 240), "mov,mp4,m4a,3gp,3g2,mj2"),
    "dv": ("dvvideo", "pcm_s16le", (720, 576), "dv"),
    "ogv": ("libvpx", "libopus", (320, 240), "ogg"),
}


def test_every_default_extension_has_a_case():
    assert set(CONTAINERS) == set(DEFAULT_EXTENSIONS)


def _write(folder: pathlib.Path, ext: str) -> pathlib.Path:
    vcodec, acodec, (width, height), _ = CONTAINERS[ext]
    path = folder / f"clip_{ext}.{ext}"
    write_synthetic_clip(
        path,
        duration_s=DURATION_S,
        fps=FPS,
        width=width,
        height=height,
        codec=vcodec,
        audio=acodec is not None,
        audio_codec=acodec,
    )
    return path


def _found(path: pathlib.Path) -> FoundFile:
    return FoundFile(str(path), path.stat().st_size, path.stat().st_mtime, path.stem)


@pytest.mark.parametrize("ext", sorted(CONTAINERS))
def test_each_container_probes_and_renders_a_proxy(tmp_path, ext):
    src = _write(tmp_path, ext)
    vcodec, acodec, (width, height), demuxer = CONTAINERS[ext]
    probe = probe_video(_found(src))
    assert probe.container == demuxer
    assert (probe.width, probe.height) == (width, height)
    assert abs(probe.fps - FPS) < 1e-6
    # Program streams and some muxers estimate the length from the bitrate.
    assert abs(probe.duration_s - DURATION_S) <= 0.15
    assert probe.has_audio == (acodec is not None)
    proxy = tmp_path / "proxy.mp4"
    render_ladder(str(src), {240: str(proxy)})
    facts = probe_output(proxy)
    assert facts["codec"] == "h264" and facts["height"] == min(240, height)
    assert abs(facts["frame_count"] - DURATION_S * FPS) <= 3
    assert facts["has_audio"] == (acodec is not None)


def _rows(out: pathlib.Path, table: str) -> list[dict]:
    path = out / "catalog" / f"{table}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_nas_folder_under_any_extension(tmp_path, monkeypatch):
    """Videos in several containers beside a photo, a text and an XMP sidecar."""
    folder = tmp_path / "nas"
    folder.mkdir()
    videos = [_write(folder, ext) for ext in ("mpg", "wmv", "dv", "ogv")]
    Image.new("RGB", (64, 48), (200, 40, 40)).save(folder / "IMG_0001.jpg")
    (folder / "notes.txt").write_text("shot list\n", encoding="utf-8")
    (folder / "clip_mpg.xmp").write_text(
        '<?xml version="1.0"?><x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>\n',
        encoding="utf-8",
    )
    write_audio_only(folder / "voice.m4a", 1.0)
    progress = tmp_path / "progress.jsonl"
    monkeypatch.setenv(PROGRESS_ENV, str(progress))
    out = tmp_path / "out"
    argv = [
        f"--input={folder}",
        f"--output={out}",
        "--extensions=*",
        "--render=proxy",
        *DIRECT,
    ]
    assert run(argv, clock=fixed_clock) == 0
    assert _rows(out, "failures") == []
    rows = _rows(out, "videos")
    assert sorted(r["file_name"] for r in rows) == sorted(v.name for v in videos)
    for row in rows:
        assert row["segment_count"] is not None  # detection ran
        proxy = probe_output(row["proxy_uri"])
        assert abs(proxy["duration_s"] - row["duration_s"]) <= 1 / FPS + 0.15
        assert row["decode_errors"] == {"video": 0, "audio": 0}
    assert read_totals(str(progress))[NOT_VIDEO] == 4  # jpg, txt, xmp, audio-only m4a


def test_a_non_video_named_like_a_video_stays_a_failure_under_any_extension(tmp_path):
    fake = write_garbage(tmp_path / "not_really.mp4", "text")
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (32, 24)).save(photo)
    fn = ProbeFileFn(fixed_clock, any_file=True)
    fn.setup()
    try:
        (failure,) = list(fn.process(_found(fake)))
        assert list(fn.process(_found(photo))) == []
    finally:
        fn.teardown()
    assert failure.tag == "failures" and failure.value.stage == "probe"
