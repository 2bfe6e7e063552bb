"""Tests for transforms.encoding: every output is read back with real PyAV.

Sources are synthesized with ``tests.helpers.media`` into ``tmp_path`` (small sizes, so
the whole file runs in well under a minute on two cores).
"""

from __future__ import annotations

import dataclasses
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers import media as sm
from tests.helpers.av_sync import assert_in_sync, write_flash_beep
from tests.skip_policy import gpu_present
from transforms.encoding import chunked as chunked_encoding
from transforms.encoding import transcode
from transforms.encoding.chunked import (
    encode_audio,
    encode_video_range,
    join_chunks,
    plan_render_chunks,
)
from transforms.encoding.filters import FramePipe
from transforms.encoding.highlights import render_highlights
from transforms.encoding.ladder import render_ladder
from transforms.encoding.mux import RenditionInfo, mp4_top_level_atoms
from transforms.encoding.readback import probe_output
from transforms.encoding.settings import EncodeSettings, nvenc_available, video_encoder_options
from transforms.media.geometry import target_size
from transforms.media.reader import VideoReader


@dataclasses.dataclass(frozen=True)
class Geo:
    width: int
    height: int
    sample_aspect_ratio: str = "1:1"
    rotation_deg: int = 0


# --------------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------------


def test_settings_defaults_and_validation():
    s = EncodeSettings()
    assert (s.crf, s.preset, s.encoder, s.audio_bitrate, s.threads) == (
        23,
        "fast",
        "libx264",
        128000,
        0,
    )
    for bad in (
        {"encoder": "libx265"},
        {"crf": 52},
        {"preset": "warp"},
        {"audio_bitrate": 0},
        {"threads": -1},
    ):
        with pytest.raises(ValueError):
            EncodeSettings(**bad)
    assert EncodeSettings(encoder="h264_nvenc", preset="p6").preset == "p6"


def test_encoder_options_map_crf_and_preset():
    name, opts = video_encoder_options(EncodeSettings(crf=20, preset="slow"))
    assert name == "libx264"
    assert opts["crf"] == "20" and opts["preset"] == "slow" and opts["profile"] == "high"
    assert "stitchable=1" in opts["x264-params"]
    name, opts = video_encoder_options(EncodeSettings(crf=23, preset="fast", encoder="h264_nvenc"))
    assert name == "h264_nvenc"
    assert opts["rc"] == "vbr" and opts["cq"] == "23" and opts["preset"] == "p4"
    assert opts["b"] == "0" and opts["profile"] == "high"
    _, opts = video_encoder_options(EncodeSettings(preset="ultrafast", encoder="h264_nvenc"))
    assert opts["preset"] == "p1"


def test_nvenc_is_never_claimed_where_the_build_lacks_it(monkeypatch):
    monkeypatch.setattr(av, "codecs_available", set(av.codecs_available) - {"h264_nvenc"})
    assert nvenc_available() is False


def test_nvenc_is_never_claimed_without_a_gpu():
    if gpu_present():
        pytest.skip("an NVIDIA GPU is present: test_encoder_contract[h264_nvenc] runs instead")
    assert nvenc_available() is False


@pytest.mark.parametrize(
    ("geo", "rung", "expected"),
    [
        (Geo(1920, 1080), 720, (1280, 720)),
        (Geo(1920, 1080), 480, (854, 480)),
        (Geo(1440, 1080, "4:3"), 720, (1280, 720)),  # anamorphic HDV -> square pixels
        (Geo(720, 480, "8:9"), 720, (640, 480)),  # NTSC DV: narrower, never upscaled
        (Geo(1920, 1080, "1:1", 90), 720, (406, 720)),  # phone held upright
        (Geo(1920, 1080, "1:1", 270), 480, (270, 480)),
        (Geo(1920, 1080, "1:1", 180), 720, (1280, 720)),
        (Geo(640, 360), 720, (640, 360)),  # smaller than the rung: own height
        (Geo(321, 181), 720, (320, 180)),  # odd: even, rounded down in height
        (Geo(3, 3), 720, (2, 2)),
    ],
)
def test_target_size(geo, rung, expected):
    assert target_size(geo, rung) == expected


def test_target_size_rejects_nonsense():
    with pytest.raises(ValueError):
        target_size(Geo(0, 10), 720)
    with pytest.raises(ValueError):
        target_size(Geo(10, 10), 0)


def test_plan_render_chunks():
    assert plan_render_chunks(100.0, 300.0) == [(0.0, 100.0)]
    assert plan_render_chunks(900.0, 300.0) == [(0.0, 300.0), (300.0, 600.0), (600.0, 900.0)]
    plan = plan_render_chunks(650.0, 300.0)
    assert len(plan) == 3 and plan[0][0] == 0.0 and plan[-1][1] == 650.0
    assert all(a[1] == b[0] for a, b in zip(plan, plan[1:], strict=False))
    # Boundaries move to nearby keyframes, never far.
    keys = [0.0, 2.0, 295.5, 301.0, 599.0, 640.0]
    assert plan_render_chunks(900.0, 300.0, keys) == [(0.0, 301.0), (301.0, 599.0), (599.0, 900.0)]
    assert plan_render_chunks(900.0, 300.0, [0.0, 150.0]) == plan_render_chunks(900.0, 300.0)
    with pytest.raises(ValueError):
        plan_render_chunks(0.0, 300.0)


def test_mp4_top_level_atoms(tmp_path):
    path = tmp_path / "boxes.mp4"
    body = b"".join(
        [
            (16).to_bytes(4, "big") + b"ftypisom" + b"\0" * 4,
            (8).to_bytes(4, "big") + b"moov",
            (1).to_bytes(4, "big") + b"mdat" + (24).to_bytes(8, "big") + b"\0" * 8,
        ]
    )
    path.write_bytes(body)
    assert mp4_top_level_atoms(path) == ["ftyp", "moov", "mdat"]


# --------------------------------------------------------------------------------------------
# Sources and checks
# --------------------------------------------------------------------------------------------

# name -> (write_synthetic_clip kwargs, expected size at 720, expected size at 480)
SOURCES: dict[str, tuple[dict, tuple[int, int], tuple[int, int]]] = {
    "rotated_90": (
        {"width": 320, "height": 180, "rotation_deg": 90, "audio": True},
        (180, 320),
        (180, 320),
    ),
    "rotated_270": ({"width": 320, "height": 180, "rotation_deg": 270}, (180, 320), (180, 320)),
    "anamorphic": ({"width": 480, "height": 360, "sar": (32, 27)}, (568, 360), (568, 360)),
    "anamorphic_hd": (
        {"width": 1440, "height": 1080, "sar": (4, 3), "duration_s": 0.6},
        (1280, 720),
        (854, 480),
    ),
    "vfr_audio": (
        {"width": 320, "height": 240, "vfr": True, "audio": True},
        (320, 240),
        (320, 240),
    ),
    "no_audio": ({"width": 320, "height": 240}, (320, 240), (320, 240)),
    "odd_444": ({"width": 321, "height": 181, "pix_fmt": "yuv444p"}, (320, 180), (320, 180)),
    "10bit": ({"width": 320, "height": 240, "pix_fmt": "yuv420p10le"}, (320, 240), (320, 240)),
    "422_mono_22k": (
        {
            "width": 320,
            "height": 240,
            "pix_fmt": "yuv422p",
            "audio": True,
            "audio_channels": 1,
            "audio_rate": 22050,
        },
        (320, 240),
        (320, 240),
    ),
    "422_10bit": ({"width": 320, "height": 240, "pix_fmt": "yuv422p10le"}, (320, 240), (320, 240)),
    "portrait_6ch": (
        {"width": 360, "height": 640, "audio": True, "audio_channels": 6},
        (360, 640),
        (270, 480),
    ),
    "hd_720p": ({"width": 1280, "height": 720, "duration_s": 0.6}, (1280, 720), (854, 480)),
    "interlaced": (
        {"width": 320, "height": 240, "codec_options": {"x264-params": "interlaced=1:tff=1"}},
        (320, 240),
        (320, 240),
    ),
    "small_360p": ({"width": 640, "height": 360, "audio": True}, (640, 360), (640, 360)),
}


def make_source(folder: Path, name: str, **overrides) -> tuple[str, sm.ClipTruth]:
    kwargs = {"duration_s": 1.2, "fps": 20, **SOURCES.get(name, ({},))[0], **overrides}
    path = folder / f"{name}.mp4"
    truth = sm.write_synthetic_clip(path, **kwargs)
    return str(path), truth


def source_pts(path: str) -> list[int]:
    with av.open(path) as container:
        stream = container.streams.video[0]
        return sorted(p.pts for p in container.demux(stream) if p.size)


def assert_playable_mp4(info: dict, size: tuple[int, int]) -> None:
    assert info["codec"] == "h264"
    assert info["profile"] == "High"
    assert info["pix_fmt"] == "yuv420p"
    assert (info["width"], info["height"]) == size
    assert info["sar"] == "1:1"
    assert info["rotation"] == 0
    assert not info["interlaced"]
    assert info["faststart"], info["atoms"]
    assert info["keyframes"][0] == 0


def assert_audio(info: dict, truth: sm.ClipTruth, duration_s: float) -> None:
    if not truth.has_audio:
        assert not info["has_audio"]
        return
    assert info["audio_codec"] == "aac"
    assert info["audio_rate"] == truth.audio_rate
    assert info["audio_channels"] == (1 if truth.audio_channels == 1 else 2)
    assert abs(info["audio_start_s"]) <= 1e-3
    # Sample-exact: the source's samples of the same stretch (its AAC padding trimmed).
    assert abs(info["audio_duration_s"] - duration_s) <= 1e-3


def red_corner(path: str) -> bool:
    """True when the first frame's top-left corner shows sample_media's red marker."""
    with av.open(path) as container:
        rgb = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    r, g, b = rgb[2:6, 2:6].reshape(-1, 3).mean(axis=0)
    return r > 150 and g < 90 and b < 90


# --------------------------------------------------------------------------------------------
# The ladder
# --------------------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("kind", list(SOURCES))
def test_ladder_edge_cases(tmp_path, kind):
    src, truth = make_source(tmp_path, kind)
    _, size_720, size_480 = SOURCES[kind]
    outputs = {720: str(tmp_path / "proxy_720p.mp4"), 480: str(tmp_path / "rendition_480p.mp4")}
    infos = render_ladder(src, outputs, EncodeSettings(preset="ultrafast"))
    assert set(infos) == {720, 480}
    src_pts = source_pts(src)
    for height, size in ((720, size_720), (480, size_480)):
        info = probe_output(outputs[height])
        assert_playable_mp4(info, size)
        # Display aspect of the source kept (up to rounding the width to even pixels).
        aspect = truth.width * Fraction(*truth.sar) / truth.height
        if truth.rotation_deg in (90, 270):
            aspect = 1 / aspect
        assert abs(info["display_aspect"] - aspect) <= 2 / size[1]
        # Every source frame, with the source's timestamps (VFR kept), and the exact duration.
        assert info["frame_count"] == truth.frame_count
        assert info["pts"] == src_pts
        assert info["duration_s"] == pytest.approx(truth.duration_s, abs=1e-6)
        assert_audio(info, truth, truth.duration_s)
        rendition = infos[height]
        assert isinstance(rendition, RenditionInfo)
        assert (rendition.width, rendition.height) == size
        assert rendition.frame_count == truth.frame_count
        assert rendition.duration_s == pytest.approx(truth.duration_s, abs=1e-6)
        assert rendition.size_bytes == os.path.getsize(outputs[height])
        assert rendition.codec == "h264" and rendition.bitrate_kbps > 0
        if truth.rotation_deg:
            assert red_corner(outputs[height]), "picture is not upright"
        # Untagged sources: the YUV matrix players assume for the source's size is written
        # out, so an HD source's 480p rung is not read as BT.601.
        hd = min(truth.width, truth.height) >= 720 or truth.width >= 1280
        assert info["colorspace"] == (1 if hd else 6)
    assert not list(tmp_path.glob("*.part"))


def counting_readers(monkeypatch) -> list[VideoReader]:
    """Every VideoReader that encode creates from now on, to count decoded frames and seeks."""
    readers: list[VideoReader] = []

    class CountingReader(VideoReader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            readers.append(self)

    monkeypatch.setattr(transcode, "VideoReader", CountingReader)
    return readers


@pytest.mark.integration
def test_ladder_decodes_the_source_once(tmp_path, monkeypatch):
    src, truth = make_source(tmp_path, "rotated_90", duration_s=2.0)
    readers = counting_readers(monkeypatch)
    opened: list[str] = []
    real_open = transcode.open_input

    def counting_open(uri, **kw):
        opened.append(uri)
        return real_open(uri, **kw)

    monkeypatch.setattr(transcode, "open_input", counting_open)
    outputs = {h: str(tmp_path / f"r{h}.mp4") for h in (720, 480, 240)}
    infos = render_ladder(src, outputs, EncodeSettings(preset="ultrafast"))
    assert len(opened) == 1 and len(readers) == 1
    assert readers[0].frames_decoded == truth.frame_count  # not 3x
    assert readers[0].seeks == 0
    assert {h: i.frame_count for h, i in infos.items()} == dict.fromkeys(outputs, truth.frame_count)
    assert infos[240].height == 240 and infos[720].height == 320


@pytest.mark.integration
def test_ladder_range_is_frame_exact(tmp_path):
    src, truth = make_source(tmp_path, "range", duration_s=4.0, fps=25, audio=True, gop_size=25)
    out = str(tmp_path / "range.mp4")
    infos = render_ladder(src, {240: out}, EncodeSettings(preset="ultrafast"), 1.5, 2.5)
    info = probe_output(out)
    # Frames 38 (1.52 s) .. 62 (2.48 s): 25 frames; the last lasts until frame 63 (2.52 s).
    assert info["frame_count"] == 25 == infos[240].frame_count
    assert info["duration_s"] == pytest.approx(1.0, abs=1e-6)
    assert info["pts"][0] == 0 and info["keyframes"][0] == 0
    assert_playable_mp4(info, (320, 240))
    assert_audio(info, truth, 1.0)


@pytest.mark.integration
def test_failed_encode_leaves_no_file(tmp_path, monkeypatch):
    src, _ = make_source(tmp_path, "no_audio")
    garbage = sm.write_garbage(tmp_path / "bad.mp4", "truncated")
    out = tmp_path / "out.mp4"
    with pytest.raises(Exception):  # noqa: B017 - any FFmpeg or media error
        render_ladder(str(garbage), {240: str(out)})
    assert not out.exists() and not list(tmp_path.glob("*.part"))

    calls = {"n": 0}
    real = FramePipe.process

    def failing(self, frame):
        calls["n"] += 1
        if calls["n"] > 5:
            raise RuntimeError("boom")
        return real(self, frame)

    monkeypatch.setattr(FramePipe, "process", failing)
    with pytest.raises(RuntimeError, match="boom"):
        render_ladder(src, {240: str(out), 120: str(tmp_path / "small.mp4")})
    assert not out.exists() and not (tmp_path / "small.mp4").exists()
    assert not list(tmp_path.glob("*.part"))


# --------------------------------------------------------------------------------------------
# Chunk-parallel encoding
# --------------------------------------------------------------------------------------------


def keyframe_times(path: str) -> list[float]:
    with av.open(path) as container:
        stream = container.streams.video[0]
        return [
            float(p.pts * stream.time_base)
            for p in container.demux(stream)
            if p.is_keyframe and p.size
        ]


def gray_frames(path: str, indexes: set[int]) -> dict[int, np.ndarray]:
    out = {}
    with av.open(path) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in indexes:
                out[i] = frame.to_ndarray(format="gray").astype(np.int16)
    return out


def chunked(src: str, tmp: Path, height: int, chunk_s: float, settings: EncodeSettings, keys=None):
    duration = probe_output(src)["duration_s"]
    plan = plan_render_chunks(duration, chunk_s, keys)
    parts = []
    for index, (start, end) in enumerate(plan):
        path = str(tmp / f"chunk{index:03d}.mp4")
        last = index == len(plan) - 1
        encode_video_range(src, path, height, settings, start, None if last else end)
        parts.append(path)
    audio = str(tmp / "audio.m4a")
    has_audio = encode_audio(src, audio, settings) is not None
    joined = str(tmp / "joined.mp4")
    info = join_chunks(parts, audio if has_audio else None, joined)
    return plan, parts, joined, info


@pytest.mark.integration
def test_chunked_encode_joins_to_the_single_pass(tmp_path, monkeypatch):
    """Two minutes at 10 fps: chunks joined by stream copy equal one pass, frame by frame."""
    src = str(tmp_path / "long.mp4")
    truth = sm.write_synthetic_clip(
        src, duration_s=120, fps=10, width=320, height=180, audio=True, gop_size=50
    )
    settings = EncodeSettings(preset="ultrafast")
    single = str(tmp_path / "single.mp4")
    render_ladder(src, {180: single}, settings)
    keys = keyframe_times(src)
    assert chunked_encoding.keyframe_times(src) == keys == [5.0 * i for i in range(24)]
    readers = counting_readers(monkeypatch)
    plan, parts, joined, info = chunked(src, tmp_path, 180, 45.0, settings, keys)
    assert plan == [(0.0, 40.0), (40.0, 80.0), (80.0, 120.0)]  # snapped to keyframes
    # Each chunk seeks once, to its first frame (a keyframe), and decodes only its frames
    # plus the one after its end that tells the last frame's duration.
    assert [r.seeks for r in readers] == [0, 1, 1]
    assert [r.frames_decoded for r in readers] == [401, 401, 400]

    a, b = probe_output(single), probe_output(joined)
    assert b["frame_count"] == a["frame_count"] == truth.frame_count == info.frame_count
    assert b["pts"] == a["pts"]  # same timestamps, none duplicated or missing at the seams
    assert b["duration_s"] == a["duration_s"] == pytest.approx(120.0, abs=1e-6)
    assert info.duration_s == pytest.approx(120.0, abs=1e-6)
    assert_playable_mp4(b, (320, 180))
    seams = [round(start * 10) for start, _ in plan[1:]]
    assert set(seams) <= set(b["keyframes"])  # each chunk starts with an IDR frame
    assert_audio(b, truth, 120.0)
    assert b["audio_duration_s"] == pytest.approx(a["audio_duration_s"], abs=1e-6)
    # Same pictures at the seams (the box moves every frame, so a shift would show).
    near = {i + d for i in seams for d in (-1, 0, 1)}
    fa, fb = gray_frames(single, near), gray_frames(joined, near)
    for i in sorted(near):
        same = np.abs(fa[i] - fb[i]).mean()
        shifted = np.abs(fa[i] - fb[i + 1 if i + 1 in fb else i - 1]).mean()
        assert same < 2.0 and same < shifted / 2, (i, same, shifted)
    with av.open(joined) as container:  # every frame decodes
        assert sum(1 for _ in container.decode(video=0)) == truth.frame_count


@pytest.mark.integration
def test_chunked_vfr_keeps_timestamps(tmp_path):
    src, truth = make_source(tmp_path, "vfr_audio", duration_s=6.0)
    settings = EncodeSettings(preset="ultrafast")
    single = str(tmp_path / "single.mp4")
    render_ladder(src, {240: single}, settings)
    _, _, joined, _ = chunked(src, tmp_path, 240, 2.0, settings)
    a, b = probe_output(single), probe_output(joined)
    assert b["pts"] == a["pts"] == source_pts(src)
    assert b["duration_s"] == pytest.approx(truth.duration_s, abs=1e-6)
    assert_audio(b, truth, truth.duration_s)


@pytest.mark.integration
def test_audio_stays_in_sync(tmp_path):
    """White frames with a tone, black ones silent: whole file, a range, and joined chunks."""
    src = tmp_path / "flash.mp4"
    write_flash_beep(src)
    settings = EncodeSettings(preset="ultrafast")
    whole = str(tmp_path / "whole.mp4")
    render_ladder(str(src), {120: whole}, settings)
    assert assert_in_sync(whole) == 80
    ranged = str(tmp_path / "ranged.mp4")
    render_ladder(str(src), {120: ranged}, settings, 1.55, 5.25)
    assert assert_in_sync(ranged) == 37  # frames 16 .. 52
    _, _, joined, _ = chunked(str(src), tmp_path, 120, 3.0, settings)
    assert assert_in_sync(joined) == 80
    assert probe_output(joined)["pts"] == probe_output(whole)["pts"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("ext", "options"),
    [
        ("mkv", {"audio": True}),  # 1/1000 time base, no per-stream duration
        ("ts", {"audio": True}),  # start time 0.08 s, no index, one keyframe: seeks fail
        ("avi", {"codec": "mpeg4"}),
        ("webm", {"audio": True}),  # VP9 + Opus
        ("mov", {"audio": True, "rotation_deg": 180}),
    ],
)
def test_other_containers(tmp_path, ext, options):
    src = str(tmp_path / f"clip.{ext}")
    truth = sm.write_synthetic_clip(src, duration_s=3.0, fps=25, width=320, height=240, **options)
    settings = EncodeSettings(preset="ultrafast")
    single = str(tmp_path / "single.mp4")
    render_ladder(src, {240: single}, settings)
    a = probe_output(single)
    assert_playable_mp4(a, (320, 240))
    assert a["frame_count"] == truth.frame_count
    assert a["duration_s"] == pytest.approx(3.0, abs=1e-6)
    assert a["has_audio"] == truth.has_audio
    if truth.has_audio:  # without a container duration, AAC padding may stay (< 1 frame)
        assert abs(a["audio_duration_s"] - 3.0) <= 1024 / a["audio_rate"] + 1e-3
    _, _, joined, _ = chunked(src, tmp_path, 240, 1.0, settings)
    b = probe_output(joined)
    assert b["pts"] == a["pts"] and b["duration_s"] == a["duration_s"]
    high = str(tmp_path / "high.mp4")
    info = render_highlights(src, high, [(0.5, 1.0), (2.0, 2.6)], settings, height=240)
    assert info.frame_count == 12 + 15 and info.duration_s == pytest.approx(1.08, abs=1e-6)


def test_join_rejects_mismatched_chunks(tmp_path):
    src, _ = make_source(tmp_path, "no_audio", duration_s=0.5)
    a, b = str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4")
    encode_video_range(src, a, 240, EncodeSettings(preset="ultrafast"))
    encode_video_range(src, b, 120, EncodeSettings(preset="ultrafast"))
    with pytest.raises(ValueError, match="does not match"):
        join_chunks([a, b], None, str(tmp_path / "j.mp4"))
    with pytest.raises(ValueError):
        join_chunks([], None, str(tmp_path / "j.mp4"))
    assert not (tmp_path / "j.mp4").exists() and not list(tmp_path.glob("*.part"))


def test_encode_audio_without_audio_writes_nothing(tmp_path):
    src, _ = make_source(tmp_path, "no_audio", duration_s=0.5)
    assert encode_audio(src, str(tmp_path / "a.m4a")) is None
    assert not (tmp_path / "a.m4a").exists()


# --------------------------------------------------------------------------------------------
# The encoder contract, on every encoder this machine has
# --------------------------------------------------------------------------------------------

ENCODER_PARAMS = [
    "libx264",
    pytest.param("h264_nvenc", marks=pytest.mark.gpu),
]


@pytest.mark.integration
@pytest.mark.parametrize("encoder", ENCODER_PARAMS)
def test_encoder_contract(tmp_path, encoder):
    if encoder == "h264_nvenc" and not gpu_present():
        # Skipped only where no GPU is present; with one, a broken NVENC path fails here.
        pytest.skip("h264_nvenc needs an NVIDIA GPU with NVENC; none is present")
    settings = EncodeSettings(encoder=encoder, preset="fast", crf=23)
    src, truth = make_source(tmp_path, "rotated_90", duration_s=3.0)
    out = str(tmp_path / "proxy.mp4")
    render_ladder(src, {720: out}, settings)
    info = probe_output(out)
    assert_playable_mp4(info, (180, 320))
    assert info["frame_count"] == truth.frame_count
    assert info["duration_s"] == pytest.approx(truth.duration_s, abs=1e-6)
    assert_audio(info, truth, truth.duration_s)
    assert red_corner(out)
    _, _, joined, _ = chunked(src, tmp_path, 720, 1.0, settings)
    chunk_info = probe_output(joined)
    assert_playable_mp4(chunk_info, (180, 320))
    assert chunk_info["pts"] == info["pts"]
    assert chunk_info["duration_s"] == pytest.approx(truth.duration_s, abs=1e-6)
