"""Thumbnails and animated previews (pure functions the render stage calls).

Pictures are upright (the display rotation is applied), have square pixels (the sample aspect
ratio is applied), are deinterlaced when the source is interlaced, and are ``width`` pixels
wide. The frame shown at each wanted time is found by seeking to the keyframe before it and
decoding forward, or by decoding on when the current position is already past that keyframe;
never by decoding from the start for each picture. Each file appears complete or not at
all (``transforms.io.atomic``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
from collections.abc import Sequence

from PIL import Image

from transforms.encoding.filters import FramePipe
from transforms.io.atomic import write_bytes
from transforms.media.damage import DecodeErrors
from transforms.media.geometry import frame_rotation_deg, size_for_width, stream_sar
from transforms.media.open import open_input
from transforms.media.reader import VideoReader
from transforms.media.streams import pick_video_stream
from transforms.media.timebase import tick_floor
from transforms.records import Segment

__all__ = [
    "ImageInfo",
    "preview_times",
    "thumbnail_times",
    "write_preview",
    "write_thumbnails",
]

_JPEG_QUALITY = 85
_WEBP_QUALITY = 70
_MIN_PREVIEW_CLIP_S = 1.0  # shortest excerpt of one segment in a preview


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    """What was written: the facts an ``assets`` row needs (besides URI and MD5).

    Attributes:
        width: Width in pixels.
        height: Height in pixels.
        size_bytes: File size in bytes.
        codec: Image format (``jpeg``, ``webp``).
        time_s: Source time of a thumbnail, seconds (None for animations).
        frame_count: Pictures in the file (1 for a thumbnail).
        duration_s: Play time of an animation in seconds (None for a thumbnail).
    """

    width: int
    height: int
    size_bytes: int
    codec: str
    time_s: float | None = None
    frame_count: int = 1
    duration_s: float | None = None


def _strongest(segments: Sequence[Segment]) -> Segment | None:
    if not segments:
        return None
    return max(segments, key=lambda s: (s.peak_score, s.mean_score, s.duration_s, -s.start_s))


def thumbnail_times(duration_s: float, n: int, segments: Sequence[Segment]) -> list[float]:
    """Times for thumbnails: a poster, then ``n`` evenly spaced times inside the video.

    The evenly spaced times are the middles of ``n`` equal slices of the video (never the
    very first or last frame, which are often black). The poster is the middle of the
    strongest motion segment (highest peak score, then mean score, then length); with no
    segments there is no poster.

    Args:
        duration_s: Video duration in seconds.
        n: Evenly spaced thumbnails wanted (``--thumbnails``); 0 gives only the poster.
        segments: Motion segments of the video (may be empty).

    Returns:
        Times in seconds, rounded to milliseconds: ``[poster] + evenly_spaced`` when there
        are segments, else ``evenly_spaced`` (so ``times[0]`` is always the cover picture).

    Raises:
        ValueError: A negative ``n`` or a non-positive duration.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    times = [round((i + 0.5) * duration_s / n, 3) for i in range(n)]
    best = _strongest(segments)
    if best is not None:
        middle = (max(0.0, best.start_s) + min(duration_s, best.end_s)) / 2
        times.insert(0, round(min(max(middle, 0.0), duration_s), 3))
    return times


def preview_times(
    segments: Sequence[Segment], duration_s: float, seconds: float = 4.0, fps: float = 8
) -> list[float]:
    """Source times of the frames of an animated preview, played at ``fps``.

    With segments, the strongest ones (up to one per second of preview) each give an excerpt
    of ``seconds / k`` from their middle, shown in time order in real time; a segment shorter
    than its share gives all of itself. Without segments, the first ``seconds`` of the video.

    Args:
        segments: Motion segments (may be empty).
        duration_s: Video duration in seconds.
        seconds: Preview length in seconds (at most; shorter when there is less motion).
        fps: Preview frame rate.

    Returns:
        Times in seconds, increasing, at most ``round(seconds * fps)`` of them, at least one.
    """
    if duration_s <= 0 or seconds <= 0 or fps <= 0:
        raise ValueError(
            f"duration_s, seconds and fps must be positive ({duration_s}, {seconds}, {fps})"
        )
    limit = max(1, round(seconds * fps))
    clips: list[tuple[float, float]] = []
    usable = [s for s in segments if min(duration_s, s.end_s) > max(0.0, s.start_s)]
    if usable:
        ranked = sorted(usable, key=lambda s: (-s.peak_score, -s.mean_score, -s.duration_s))
        count = max(1, min(len(ranked), math.floor(seconds / _MIN_PREVIEW_CLIP_S)))
        share = seconds / count
        for seg in sorted(ranked[:count], key=lambda s: s.start_s):
            lo, hi = max(0.0, seg.start_s), min(duration_s, seg.end_s)
            length = min(share, hi - lo)
            start = min(max((lo + hi - length) / 2, lo), hi - length)
            clips.append((start, start + length))
    else:
        clips.append((0.0, min(seconds, duration_s)))
    times: list[float] = []
    for start, end in clips:
        frames = max(1, round((end - start) * fps))
        times.extend(round(start + i / fps, 4) for i in range(frames))
    return sorted(times)[:limit]


def _pictures(
    src: str, times: Sequence[float], width: int, errors: DecodeErrors | None
) -> list[Image.Image]:
    """Upright, square-pixel RGB pictures ``width`` wide of the frames shown at ``times``.

    Damaged packets are skipped and counted in ``errors`` (a fresh, unlimited count when None).
    """
    if width < 2:
        raise ValueError(f"width must be >= 2, got {width}")
    order = sorted(range(len(times)), key=lambda i: times[i])
    pictures: list[Image.Image | None] = [None] * len(times)
    with open_input(src) as container:
        stream = pick_video_stream(container)
        stream.thread_type = "AUTO"
        sar = stream_sar(stream)
        reader = VideoReader(container, stream, errors=errors or DecodeErrors(source=src))
        pipe: FramePipe | None = None
        interlaced = False
        cache: tuple[int, Image.Image] | None = None
        for index in order:
            found = reader.frame_at(tick_floor(max(0.0, float(times[index])), reader.time_base))
            if found is None:
                raise ValueError(f"{src} has no video frames")
            rel, frame = found
            if cache is not None and cache[0] == rel:
                pictures[index] = cache[1].copy()
                continue
            if pipe is None:
                rotation = frame_rotation_deg(frame)
                size = size_for_width(frame.width, frame.height, sar, rotation, width)
                interlaced = bool(frame.interlaced_frame)
                pipe = FramePipe(rotation, [size], "rgb24", reader.time_base, interlaced)
            (ready,) = pipe.process(frame)
            if interlaced:  # bwdif holds the frame back until it sees the next: let it out
                ready += pipe.flush()[0]
            picture = ready[-1].to_image()
            cache = (rel, picture)
            pictures[index] = picture
    return [p for p in pictures if p is not None]


def write_thumbnails(
    src: str,
    times: Sequence[float],
    out_paths: Sequence[str],
    width: int = 320,
    errors: DecodeErrors | None = None,
) -> list[ImageInfo]:
    """Write one JPEG per time: the frame shown then, upright, square pixels, ``width`` wide.

    Times are visited in increasing order from one open file, seeking to the keyframe
    before each (or decoding on when that is cheaper).

    Args:
        src: Source video, local path or ``gs://`` URI.
        times: Source times in seconds (e.g. from :func:`thumbnail_times`); clamped to the
            video (after the last frame gives the last frame).
        out_paths: Local output path per time.
        width: Picture width in pixels; the height follows the display aspect (even).
        errors: Damaged packets: skipped and counted (see ``transforms.media.damage``).

    Returns:
        One ``ImageInfo`` per time, in the order given.

    Raises:
        ValueError: ``times`` and ``out_paths`` differ in length, or no video frames.
    """
    if len(times) != len(out_paths):
        raise ValueError(f"{len(times)} times but {len(out_paths)} output paths")
    if not times:
        return []
    infos = []
    pictures = _pictures(src, times, width, errors)
    for time_s, path, picture in zip(times, out_paths, pictures, strict=True):
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=_JPEG_QUALITY, optimize=True)
        data = buffer.getvalue()
        write_bytes(path, data, "image/jpeg")
        size = len(data)
        infos.append(
            ImageInfo(
                width=picture.width,
                height=picture.height,
                size_bytes=size,
                codec="jpeg",
                time_s=float(time_s),
            )
        )
    return infos


def write_preview(
    src: str,
    dst: str,
    segments: Sequence[Segment],
    duration_s: float,
    seconds: float = 4.0,
    fps: float = 8,
    width: int = 320,
    errors: DecodeErrors | None = None,
) -> ImageInfo:
    """Write a short looping animated WebP sampled from the motion segments.

    Args:
        src: Source video, local path or ``gs://`` URI.
        dst: Local output path (``.webp``).
        segments: Motion segments (may be empty: then the start of the video).
        duration_s: Video duration in seconds.
        seconds: Preview length in seconds (see :func:`preview_times`).
        fps: Preview frame rate.
        width: Picture width in pixels.
        errors: Damaged packets: skipped and counted (see ``transforms.media.damage``).

    Returns:
        What was written (``frame_count`` pictures, ``duration_s`` play time).
    """
    times = preview_times(segments, duration_s, seconds, fps)
    pictures = _pictures(src, times, width, errors)
    frame_ms = max(1, round(1000 / fps))
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="WEBP",
        save_all=True,
        append_images=pictures[1:],
        duration=frame_ms,
        loop=0,
        quality=_WEBP_QUALITY,
        method=4,
        minimize_size=False,
    )
    data = buffer.getvalue()
    write_bytes(dst, data, "image/webp")
    size = len(data)
    with contextlib.suppress(Exception):
        for picture in pictures:
            picture.close()
    first = pictures[0]
    return ImageInfo(
        width=first.width,
        height=first.height,
        size_bytes=size,
        codec="webp",
        frame_count=len(pictures),
        duration_s=round(len(pictures) * frame_ms / 1000, 3),
    )
