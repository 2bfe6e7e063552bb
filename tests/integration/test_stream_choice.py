"""One video stream for every stage: a file whose FIRST video stream is cover art.

Ground truth of the fixture: stream 0 is a 64x64 MJPEG attached picture
(disposition ``attached_pic``); stream 1 is the real video, H.264 128x96 at 25 fps,
25 frames (1.0 s), brightness rising frame by frame. Probe, motion detection
(sampling and analysis) and render must all read stream 1.
"""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest

from transforms.chunk_analysis import DetectParams, analyse_chunk
from transforms.encoding.chunked import keyframe_times
from transforms.encoding.ladder import render_ladder
from transforms.encoding.readback import probe_output
from transforms.encoding.settings import EncodeSettings
from transforms.encoding.stills import write_thumbnails
from transforms.media.open import open_input
from transforms.media.probe import probe_video
from transforms.media.sampling import iter_samples
from transforms.media.streams import ATTACHED_PIC, pick_video_stream
from transforms.records import Chunk, FoundFile

WIDTH, HEIGHT, FPS, FRAMES = 128, 96, 25, 25


def _boxes(data: bytes, start: int, end: int) -> list[tuple[str, int, int]]:
    boxes, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        boxes.append((kind.decode("latin-1"), pos, size))
        pos += size
    return boxes


def write_cover_art_first(path: Path) -> None:
    """An MP4 whose stream 0 is cover art and stream 1 the real H.264 video."""
    out = av.open(str(path), "w", format="mp4")
    cover = out.add_stream("mjpeg")
    cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
    cover.disposition = av.stream.Disposition.attached_pic
    video = out.add_stream("libx264", rate=FPS)
    video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    picture = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 200, np.uint8), format="rgb24")
    for packet in [*cover.encode(picture.reformat(format="yuvj420p")), *cover.encode(None)]:
        out.mux(packet)
    for i in range(FRAMES):
        frame = av.VideoFrame.from_ndarray(
            np.full((HEIGHT, WIDTH, 3), 20 + i * 8, np.uint8), format="rgb24"
        )
        frame.pts = i
        for packet in video.encode(frame):
            out.mux(packet)
    for packet in video.encode(None):
        out.mux(packet)
    out.close()
    # FFmpeg's demuxer creates the cover-art stream when it reads ``udta``; the muxer
    # writes it after the tracks. Moving ``udta`` first (moov keeps its size, so no
    # offset changes) makes the cover art stream 0, as in many tagged files.
    data = bytearray(path.read_bytes())
    _, pos, size = next(b for b in _boxes(data, 0, len(data)) if b[0] == "moov")
    kids = _boxes(data, pos + 8, pos + size)
    order = sorted(kids, key=lambda b: {"mvhd": 0, "udta": 1}.get(b[0], 2))
    data[pos + 8 : pos + size] = b"".join(bytes(data[p : p + n]) for _, p, n in order)
    path.write_bytes(bytes(data))


@pytest.fixture
def cover_first(tmp_path) -> Path:
    path = tmp_path / "cover_first.mp4"
    write_cover_art_first(path)
    with av.open(str(path)) as container:
        streams = container.streams.video
        assert int(streams[0].disposition) & ATTACHED_PIC  # the fixture is what it claims
        assert (streams[1].codec_context.name, streams[1].width) == ("h264", WIDTH)
    return path


class _ShapeTimeline:
    def __init__(self, shapes):
        self.shapes = shapes

    def detect(self, rgb, timestamp_ms):
        self.shapes.append((rgb.shape, float(rgb.mean())))
        return []

    def close(self):
        pass


class _ShapeBackend:
    name = "shapes"

    def __init__(self):
        self.shapes: list = []

    def timeline(self):
        return _ShapeTimeline(self.shapes)

    def close(self):
        pass


@pytest.mark.integration
def test_probe_detect_and_render_all_use_the_real_video_stream(cover_first, tmp_path):
    with open_input(str(cover_first)) as container:
        assert pick_video_stream(container).index == 1

    probe = probe_video(FoundFile(str(cover_first), cover_first.stat().st_size, None, "c"))
    assert (probe.codec, probe.width, probe.height) == ("h264", WIDTH, HEIGHT)
    assert (probe.fps, probe.frame_count) == (FPS, FRAMES)

    chunk = Chunk("c", str(cover_first), 0, 0.0, 1.0, overlap_s=0.0, chunk_count=1)
    with open_input(str(cover_first)) as container:
        samples = list(iter_samples(container, chunk, 5.0))
    assert [s.time_s for s in samples] == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert all((s.frame.width, s.frame.height) == (WIDTH, HEIGHT) for s in samples)
    backend = _ShapeBackend()
    with open_input(str(cover_first)) as container:
        result = analyse_chunk(container, chunk, backend, DetectParams(gate_threshold=0.0))
    assert len(result.times_s) == 5
    assert [shape for shape, _ in backend.shapes] == [(HEIGHT, WIDTH, 3)] * 5
    means = [mean for _, mean in backend.shapes]
    assert means == sorted(means) and means[-1] > means[0] + 20  # the rising video, not a still

    out = tmp_path / "proxy.mp4"
    infos = render_ladder(str(cover_first), {720: str(out)}, EncodeSettings(preset="ultrafast"))
    info = infos[720]
    read = probe_output(out)
    assert (info.width, info.height, info.frame_count) == (WIDTH, HEIGHT, FRAMES)
    assert (read["width"], read["height"], read["frame_count"]) == (WIDTH, HEIGHT, FRAMES)
    (thumb,) = write_thumbnails(str(cover_first), [0.5], [str(tmp_path / "t.jpg")])
    assert (thumb.width, thumb.height) == (320, 240)  # 4:3 video, not the square cover
    assert keyframe_times(str(cover_first)) == [0.0]
