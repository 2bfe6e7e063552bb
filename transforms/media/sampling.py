"""Decoding only what a chunk needs and sampling frames on a fixed time grid.

Samples sit on the grid ``k / pose_fps`` seconds from the start of the stream, the
same for every chunking of a video; a chunk seeks to the keyframe before its
lead-in and decodes forward from there, never from the start of the file.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np

from transforms.media.damage import DecodeErrors, decode_stream
from transforms.media.geometry import display_size
from transforms.media.streams import pick_video_stream
from transforms.media.timebase import frame_rate
from transforms.records import Chunk

GATE_SIZE = (64, 36)  # (w, h) of the grey thumbnail the still-frame gate compares


@dataclass
class Sample:
    """One sampled frame: its grid index, time, grey thumbnail and (lazily) analysis RGB."""

    k: int
    time_s: float
    owned: bool
    tiny: np.ndarray
    frame: av.VideoFrame
    rgb: np.ndarray | None = None


def analysis_size(width: int, height: int, sar: str, rotation_deg: int, max_side: int):
    """(w, h) to scale coded frames to before rotation: square pixels, longest side <= max_side.

    Returns even sizes; the rotation is applied afterwards on the array, so the size is
    the display size before rotation (``display_size`` with no rotation).
    """
    shown_w, shown_h = display_size(width, height, sar, 0)
    scale = min(1.0, max_side / float(max(shown_w, shown_h)))
    w = max(2, int(round(float(shown_w) * scale / 2)) * 2)
    h = max(2, int(round(float(shown_h) * scale / 2)) * 2)
    return w, h


def to_rgb(frame: av.VideoFrame, size: tuple[int, int], rotation_deg: int) -> np.ndarray:
    """Scaled, upright RGB uint8 array of a frame."""
    rgb = frame.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray()
    if rotation_deg:
        rgb = np.rot90(rgb, k=-(rotation_deg // 90))  # rotation_deg is clockwise
    return np.ascontiguousarray(rgb)


def grid_range(chunk: Chunk, pose_fps: float) -> tuple[int, int, int]:
    """(first context k, first owned k, end k exclusive) of a chunk's sample grid."""
    eps = 1e-9
    ctx_start = max(0.0, chunk.start_s - chunk.overlap_s)
    first_ctx = math.ceil(ctx_start * pose_fps - eps)
    first_owned = math.ceil(chunk.start_s * pose_fps - eps)
    end = math.ceil(chunk.end_s * pose_fps - eps)
    return first_ctx, first_owned, end


def iter_samples(
    container: av.container.InputContainer,
    chunk: Chunk,
    pose_fps: float,
    errors: DecodeErrors | None = None,
) -> Iterator[Sample]:
    """Decode a chunk's range once and yield one frame per grid time, in order.

    Each grid time ``k / pose_fps`` takes the first frame at or after it (half a
    frame early counts); a frame that would serve two grid times serves the first
    only, so no sample repeats a frame. Packets the decoder rejects are skipped and counted
    in ``errors`` (raised without it): the grid time they held takes the next frame.
    """
    stream = pick_video_stream(container)
    stream.thread_type = "AUTO"
    time_base = stream.time_base
    first_ctx, first_owned, end = grid_range(chunk, pose_fps)
    if first_ctx >= end:
        return
    src_fps = float(frame_rate(stream))
    tol = 0.5 / src_fps
    ctx_start = first_ctx / pose_fps
    if ctx_start > 0:
        target = int((ctx_start + chunk.stream_start_s) / time_base)
        container.seek(target, stream=stream, backward=True, any_frame=False)
    k = first_ctx
    last_pts = None
    for frame in decode_stream(container, stream, errors):
        if frame.pts is None:
            continue
        t = float(frame.pts * time_base) - chunk.stream_start_s
        while k < end and t > (k + 1) / pose_fps - tol:
            k += 1  # this frame is late for grid time k: k had no frame of its own
        if k >= end:
            break
        if t < k / pose_fps - tol or frame.pts == last_pts:
            continue
        last_pts = frame.pts
        tiny = frame.reformat(width=GATE_SIZE[0], height=GATE_SIZE[1], format="gray").to_ndarray()
        yield Sample(k=k, time_s=round(t, 6), owned=k >= first_owned, tiny=tiny, frame=frame)
        k += 1
        if k >= end:
            break
