"""Tests for transforms.encoding.stills and .highlights, read back with PyAV, Pillow and OTIO."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import media as sm
from tests.helpers.av_sync import FPS, assert_in_sync, write_flash_beep
from transforms.encoding.highlights import (
    highlight_windows,
    otio_document,
    render_highlights,
    write_otio,
)
from transforms.encoding.readback import probe_output
from transforms.encoding.settings import EncodeSettings
from transforms.encoding.stills import (
    preview_times,
    thumbnail_times,
    write_preview,
    write_thumbnails,
)
from transforms.media.reader import VideoReader
from transforms.records import Segment


def seg(start: float, end: float, peak: float = 1.0, mean: float = 0.5) -> Segment:
    return Segment(start_s=start, end_s=end, peak_score=peak, mean_score=mean, max_people=1)


# --------------------------------------------------------------------------------------------
# Times and windows (pure)
# --------------------------------------------------------------------------------------------


def test_thumbnail_times_evenly_spaced_without_segments():
    assert thumbnail_times(60.0, 6, []) == [5.0, 15.0, 25.0, 35.0, 45.0, 55.0]
    assert thumbnail_times(1.0, 1, []) == [0.5]
    assert thumbnail_times(10.0, 0, []) == []
    with pytest.raises(ValueError):
        thumbnail_times(10.0, -1, [])
    with pytest.raises(ValueError):
        thumbnail_times(0.0, 3, [])


def test_thumbnail_times_poster_first_from_the_strongest_segment():
    segments = [seg(2, 4, peak=0.5), seg(10, 20, peak=0.9), seg(30, 31, peak=0.9, mean=0.1)]
    times = thumbnail_times(40.0, 4, segments)
    assert times == [15.0, 5.0, 15.0, 25.0, 35.0]
    # Clamped into the video.
    assert thumbnail_times(10.0, 1, [seg(8, 30)])[0] == 9.0


def test_preview_times():
    times = preview_times([], 60.0, seconds=4.0, fps=8)
    assert times == [i / 8 for i in range(32)]
    assert preview_times([], 1.0, seconds=4.0, fps=8) == [i / 8 for i in range(8)]
    segments = [seg(10, 20, peak=0.5), seg(40, 41, peak=0.9), seg(50, 60, peak=0.1)]
    times = preview_times(segments, 60.0, seconds=4.0, fps=8)
    assert times == sorted(times) and len(times) <= 32
    # The strongest three segments, excerpts from their middles, in time order.
    assert any(14 <= t < 16.5 for t in times) and any(40 <= t < 41 for t in times)
    assert any(54 <= t < 56.5 for t in times)
    assert all(10 <= t < 20 or 40 <= t < 41 or 50 <= t < 60 for t in times)


def test_highlight_windows_pad_clamp_merge():
    assert highlight_windows([], 60.0) == []
    assert highlight_windows([seg(10, 12)], 60.0) == [(8.0, 15.0)]
    assert highlight_windows([seg(1, 2), seg(58, 59)], 60.0) == [(0.0, 5.0), (56.0, 60.0)]
    # Overlapping after padding, and exactly touching, both merge; order does not matter.
    assert highlight_windows([seg(20, 21), seg(10, 12), seg(16, 17)], 60.0) == [(8.0, 24.0)]
    assert highlight_windows([seg(10, 12), seg(17, 18)], 60.0) == [(8.0, 21.0)]
    assert highlight_windows([seg(10, 12), seg(17.5, 18)], 60.0) == [(8.0, 15.0), (15.5, 21.0)]
    assert highlight_windows([seg(10, 12)], 60.0, pre_s=0, post_s=0) == [(10.0, 12.0)]
    with pytest.raises(ValueError):
        highlight_windows([seg(1, 2)], 10.0, pre_s=-1)


def test_otio_document_schema():
    doc = otio_document("gs://bucket/a/v.mp4", [(0.5, 2.0), (4.0, 6.02)], 25.0, 10.0)
    assert doc["OTIO_SCHEMA"] == "Timeline.1"
    assert doc["tracks"]["OTIO_SCHEMA"] == "Stack.1"
    (track,) = doc["tracks"]["children"]
    assert track["OTIO_SCHEMA"] == "Track.1" and track["kind"] == "Video"
    clips = track["children"]
    assert [c["OTIO_SCHEMA"] for c in clips] == ["Clip.2", "Clip.2"]
    ranges = [
        (c["source_range"]["start_time"]["value"], c["source_range"]["duration"]["value"])
        for c in clips
    ]
    assert ranges == [(13, 37), (100, 51)]  # frames 13..49 and 100..150 at 25 fps
    ref = clips[0]["media_references"]["DEFAULT_MEDIA"]
    assert ref["OTIO_SCHEMA"] == "ExternalReference.1"
    assert ref["target_url"] == "gs://bucket/a/v.mp4"
    assert ref["available_range"]["duration"]["value"] == 250


@pytest.mark.parametrize("use_library", [True, False])
def test_write_otio_loads_in_opentimelineio(tmp_path, use_library):
    dst = tmp_path / "highlights.otio"
    windows = [(1.0, 3.0), (5.5, 7.0)]
    size = write_otio(str(dst), "/archive/v.mp4", windows, 30.0, 9.0, use_library=use_library)
    assert size == dst.stat().st_size and not list(tmp_path.glob("*.part"))
    json.loads(dst.read_text())  # plain JSON either way
    otio = pytest.importorskip("opentimelineio")
    timeline = otio.adapters.read_from_file(str(dst))
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["highlight_000", "highlight_001"]
    assert [c.media_reference.target_url for c in clips] == ["/archive/v.mp4"] * 2
    got = [
        (c.source_range.start_time.to_seconds(), c.source_range.duration.to_seconds())
        for c in clips
    ]
    assert got == [(1.0, 2.0), (5.5, 1.5)]
    assert timeline.duration().to_seconds() == pytest.approx(3.5)
    assert clips[0].media_reference.available_range.duration.to_seconds() == pytest.approx(9.0)


@pytest.mark.integration
def test_highlights_cut_frame_exactly_with_audio_in_sync(tmp_path):
    src = tmp_path / "flash.mp4"
    write_flash_beep(src)
    segments = [seg(2.37, 2.9), seg(6.25, 6.55)]
    windows = highlight_windows(segments, 8.0, pre_s=1.0, post_s=0.5)
    assert windows == [(1.37, 3.4), (5.25, 7.05)]
    dst = str(tmp_path / "highlights.mp4")
    info = render_highlights(src=str(src), dst=dst, windows=windows, settings=EncodeSettings())
    out = probe_output(dst)
    total = sum(b - a for a, b in windows)
    assert abs(out["duration_s"] - total) <= len(windows) / FPS
    # Frames 14..33 and 53..70: the frames whose timestamps fall in the windows.
    assert out["frame_count"] == 20 + 18 == info.frame_count
    assert out["duration_s"] == pytest.approx(3.8, abs=1e-6) == info.duration_s
    assert out["codec"] == "h264" and out["profile"] == "High" and out["faststart"]
    assert out["audio_codec"] == "aac" and out["audio_channels"] == 1
    assert abs(out["audio_duration_s"] - out["duration_s"]) <= 1e-3
    assert assert_in_sync(dst) == 38
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.integration
def test_highlights_of_a_rotated_anamorphic_source(tmp_path):
    src = tmp_path / "phone.mp4"
    truth = sm.write_synthetic_clip(
        src, duration_s=3.0, fps=25, width=320, height=240, rotation_deg=270, sar=(4, 3)
    )
    dst = str(tmp_path / "h.mp4")
    info = render_highlights(str(src), dst, [(0.5, 1.0), (2.0, 2.8)], height=720)
    out = probe_output(dst)
    assert (out["width"], out["height"]) == (240, 426) == (info.width, info.height)
    assert out["rotation"] == 0 and out["sar"] == "1:1" and not out["has_audio"]
    assert out["frame_count"] == round(1.3 * float(truth.fps))
    with pytest.raises(ValueError):
        render_highlights(str(src), dst, [])


# --------------------------------------------------------------------------------------------
# Thumbnails and previews
# --------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_thumbnails_upright_square_and_seeking(tmp_path, monkeypatch):
    src = tmp_path / "phone.mp4"
    truth = sm.write_synthetic_clip(
        src, duration_s=60.0, fps=10, width=192, height=108, rotation_deg=90, gop_size=20
    )
    readers: list[VideoReader] = []

    class CountingReader(VideoReader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            readers.append(self)

    monkeypatch.setattr("transforms.encoding.stills.VideoReader", CountingReader)
    times = thumbnail_times(truth.duration_s, 6, [seg(20, 30, peak=0.9), seg(40, 41, peak=0.2)])
    assert len(times) == 7 and times[0] == 25.0
    paths = [str(tmp_path / "thumbs" / f"{i:03d}.jpg") for i in range(len(times))]
    infos = write_thumbnails(str(src), times, paths)
    assert [i.time_s for i in infos] == times
    for info, path in zip(infos, paths, strict=True):
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert image.size == (320, 568) == (info.width, info.height)  # 108x192 upright
            r, g, b = np.asarray(image.convert("RGB"))[2:10, 2:10].reshape(-1, 3).mean(axis=0)
            assert r > 150 and g < 90 and b < 90  # the red marker is top-left: upright
        assert info.codec == "jpeg" and info.size_bytes == Path(path).stat().st_size
    # Seeks to the keyframe before each time: a few GOPs decoded, never the whole file.
    (reader,) = readers
    assert reader.frames_decoded <= len(times) * 20 + 10 < truth.frame_count
    assert 1 <= reader.seeks <= len(times)
    # The poster (25.0 s) and the thumbnail at 25.0 s show the same frame.
    a = np.asarray(Image.open(paths[0]), dtype=float)
    b = np.asarray(Image.open(paths[3]), dtype=float)
    assert np.abs(a - b).mean() < 1.0
    with pytest.raises(ValueError):
        write_thumbnails(str(src), [1.0], [])


@pytest.mark.integration
def test_thumbnails_of_an_anamorphic_source_have_square_pixels(tmp_path):
    src = tmp_path / "anamorphic.mp4"
    sm.write_synthetic_clip(src, duration_s=1.0, fps=10, width=480, height=360, sar=(32, 27))
    (info,) = write_thumbnails(str(src), [99.0], [str(tmp_path / "t.jpg")], width=320)
    assert (info.width, info.height) == (320, 202)  # 568.9x360 shown -> 320x202.5 -> even


@pytest.mark.integration
@pytest.mark.parametrize("with_segments", [True, False])
def test_preview_is_an_animated_webp(tmp_path, with_segments):
    src = tmp_path / "clip.mp4"
    truth = sm.write_synthetic_clip(src, duration_s=12.0, fps=15, width=320, height=180)
    segments = [seg(3.0, 5.0, peak=0.8), seg(8.0, 11.0, peak=0.5)] if with_segments else []
    dst = tmp_path / "preview.webp"
    info = write_preview(str(src), str(dst), segments, truth.duration_s)
    with Image.open(dst) as image:
        assert image.format == "WEBP" and image.is_animated
        assert image.n_frames == info.frame_count == 32
        assert image.size == (320, 180) == (info.width, info.height)
        assert image.info.get("loop") == 0
        first = np.asarray(image.convert("RGB"), dtype=float)
        image.seek(image.n_frames - 1)
        last = np.asarray(image.convert("RGB"), dtype=float)
    assert np.abs(first - last).mean() > 1.0  # it moves
    assert info.codec == "webp" and info.duration_s == pytest.approx(4.0)
    assert info.size_bytes == dst.stat().st_size and not list(tmp_path.glob("*.part"))
