"""probe_video on real and generated clips whose ground truth each test states."""

from __future__ import annotations

import time

import av
import pytest

from tests.helpers.media import write_synthetic_clip
from transforms.media.probe import probe_video
from transforms.records import FoundFile


def probe(path):
    return probe_video(FoundFile(str(path), path.stat().st_size, None, path.stem))


def test_real_footage(dancer_small, dancer):
    p = probe(dancer_small)  # 320x180, 5 fps, 21 frames, 4.2 s, no audio
    assert (p.width, p.height, p.display_width, p.display_height) == (320, 180, 320, 180)
    assert (p.fps, p.frame_count, p.frame_count_exact, p.duration_s) == (5.0, 21, True, 4.2)
    assert (p.codec, p.pix_fmt, p.has_audio, p.rotation_deg, p.is_vfr) == (
        "h264", "yuv420p", False, 0, False
    )  # fmt: skip
    d = probe(dancer)  # 600x338, 10 fps, 42 frames, 4.2 s
    assert (d.width, d.fps, d.frame_count, d.duration_s) == (600, 10.0, 42, 4.2)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_from_the_display_matrix(tmp_path, rotation):
    path = tmp_path / f"rot{rotation}.mp4"
    truth = write_synthetic_clip(path, duration_s=1.0, fps=10, width=320, height=180,
                                 rotation_deg=rotation)  # fmt: skip
    p = probe(path)
    assert p.rotation_deg == truth.rotation_deg == rotation
    assert (p.width, p.height) == (320, 180)  # coded
    expected = (180, 320) if rotation in (90, 270) else (320, 180)
    assert (p.display_width, p.display_height) == expected


def test_anamorphic_pixels_widen_the_display(tmp_path):
    path = tmp_path / "anamorphic.mp4"
    write_synthetic_clip(path, duration_s=1.0, fps=10, width=240, height=180, sar=(4, 3))
    p = probe(path)
    assert p.sample_aspect_ratio == "4:3"
    assert (p.display_width, p.display_height) == (320, 180)


def test_variable_frame_rate_and_audio(tmp_path):
    path = tmp_path / "vfr.mp4"
    truth = write_synthetic_clip(path, duration_s=2.0, fps=20, vfr=True, audio=True,
                                 audio_rate=44100, audio_channels=1)  # fmt: skip
    p = probe(path)
    assert p.is_vfr and truth.is_vfr
    assert p.frame_count == truth.frame_count
    assert abs(p.duration_s - truth.duration_s) < 0.05
    assert (p.has_audio, p.audio_codec, p.audio_channels, p.audio_sample_rate) == (
        True, "aac", 1, 44100
    )  # fmt: skip
    cfr = tmp_path / "cfr.mp4"
    write_synthetic_clip(cfr, duration_s=2.0, fps=20)
    assert not probe(cfr).is_vfr


def test_matroska_frame_count_is_estimated_and_10_bit_is_reported(tmp_path):
    path = tmp_path / "clip.mkv"
    truth = write_synthetic_clip(path, duration_s=2.0, fps=25, pix_fmt="yuv420p10le")
    p = probe(path)
    assert not p.frame_count_exact  # Matroska has no per-frame index in its header
    assert p.frame_count == truth.frame_count == 50
    assert (p.pix_fmt, p.container) == ("yuv420p10le", "matroska,webm")


@pytest.mark.integration
def test_probing_an_hour_long_file_reads_only_its_index(tmp_path, dancer_small):
    """70 minutes at 5 fps (21,000 frames, ~53 MB) by stream copy: probed well under 1 s."""
    path = tmp_path / "hour.mp4"
    with av.open(str(dancer_small)) as inp, av.open(str(path), "w") as out:
        src = inp.streams.video[0]
        stream = out.add_stream_from_template(src)
        packets = [p for p in inp.demux(src) if p.dts is not None]
        span = sum(p.duration for p in packets)
        for loop in range(1000):
            for p in packets:
                q = av.Packet(bytes(p))
                q.pts, q.dts = p.pts + loop * span, p.dts + loop * span
                q.duration, q.is_keyframe, q.time_base = p.duration, p.is_keyframe, p.time_base
                q.stream = stream
                out.mux(q)
    started = time.perf_counter()
    p = probe(path)
    elapsed = time.perf_counter() - started
    assert (p.duration_s, p.frame_count, p.fps) == (4200.0, 21000, 5.0)
    assert elapsed < 1.0, f"probing took {elapsed:.2f} s"
