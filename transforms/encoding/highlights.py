"""Highlight reels: padded motion windows, a frame-exact MP4 and an OpenTimelineIO timeline.

The reel is cut by decoding and re-encoding (not at keyframes): each window contributes the
source frames whose timestamps fall in ``[start_s, end_s)`` and the audio of the same stretch,
laid end to end. The ``.otio`` file describes the same cuts against the source media, so an
editor can reopen them in an NLE.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence

from transforms.encoding.mux import RenditionInfo
from transforms.encoding.settings import EncodeSettings
from transforms.encoding.transcode import transcode
from transforms.io.atomic import write_bytes
from transforms.media.damage import DecodeErrors
from transforms.records import Segment

__all__ = ["highlight_windows", "otio_document", "render_highlights", "write_otio"]

_EPS = 1e-9


def highlight_windows(
    segments: Sequence[Segment], duration_s: float, pre_s: float = 2.0, post_s: float = 3.0
) -> list[tuple[float, float]]:
    """Windows of the highlight reel: segments padded, clamped and merged.

    Args:
        segments: Motion segments (any order).
        duration_s: Video duration in seconds; windows are clamped to ``[0, duration_s]``.
        pre_s: Seconds added before each segment (``--highlight_pre_s``).
        post_s: Seconds added after each segment (``--highlight_post_s``).

    Returns:
        ``[(start_s, end_s), ...]`` in time order, non-empty, with overlapping or touching
        windows merged into one; empty when there are no segments.

    Raises:
        ValueError: Negative padding.
    """
    if pre_s < 0 or post_s < 0:
        raise ValueError(f"padding must be >= 0 (pre_s={pre_s}, post_s={post_s})")
    padded = sorted(
        (max(0.0, s.start_s - pre_s), min(float(duration_s), s.end_s + post_s)) for s in segments
    )
    merged: list[tuple[float, float]] = []
    for start, end in padded:
        if end <= start:
            continue
        if merged and start <= merged[-1][1] + _EPS:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return [(round(a, 6), round(b, 6)) for a, b in merged]


def render_highlights(
    src: str,
    dst: str,
    windows: Sequence[tuple[float, float]],
    settings: EncodeSettings | None = None,
    height: int = 720,
    errors: DecodeErrors | None = None,
) -> RenditionInfo:
    """Render the highlight reel: the windows' frames and audio, cut frame-exactly, one MP4.

    Same picture and audio treatment as the proxy (upright, square pixels, H.264 High
    ``yuv420p``, AAC, ``movflags=+faststart``). Each window holds the frames whose timestamps
    fall in it, each shown for its source duration, so the reel lasts the sum of the windows
    within one frame per cut; its audio is cut at the same source times.

    Args:
        src: Source video, local path or ``gs://`` URI.
        dst: Local output path.
        windows: ``[(start_s, end_s), ...]`` from :func:`highlight_windows`.
        settings: Encoding settings.
        height: Output height in pixels, never upscaled (see ``media.geometry.target_size``).
        errors: Damaged packets: skipped and counted (see ``transforms.media.damage``).

    Returns:
        What was written.

    Raises:
        ValueError: No windows.
        CorruptMediaError: No video frames in any window.
    """
    if not windows:
        raise ValueError("no highlight windows to render")
    spans = [(float(a), float(b)) for a, b in windows]
    for start, end in spans:
        if not 0 <= start < end:
            raise ValueError(f"bad highlight window ({start}, {end})")
    settings = settings or EncodeSettings()
    infos = transcode(
        src, {height: dst}, settings, spans, with_audio=True, faststart=True, errors=errors
    )
    return infos[height]


def _rational_time(value: float, rate: float) -> dict:
    return {"OTIO_SCHEMA": "RationalTime.1", "rate": float(rate), "value": float(value)}


def _time_range(start: float, duration: float, rate: float) -> dict:
    return {
        "OTIO_SCHEMA": "TimeRange.1",
        "duration": _rational_time(duration, rate),
        "start_time": _rational_time(start, rate),
    }


def otio_document(
    source_uri: str,
    windows: Sequence[tuple[float, float]],
    fps: float,
    duration_s: float,
    name: str | None = None,
) -> dict:
    """The OpenTimelineIO JSON (``otio_json``) of the highlight cuts, as a dict.

    Timeline.1 > Stack.1 > Track.1 (video) of Clip.2, one per window, each with an
    ExternalReference.1 to the source. Times are in frames at ``fps``: a window starts at the
    first frame at or after its start and ends before the first frame at or after its end,
    the frames the reel holds (exact for constant-frame-rate sources).

    Args:
        source_uri: The source media (path or ``gs://`` URI) the clips reference.
        windows: ``[(start_s, end_s), ...]``.
        fps: Source frame rate (frames per second), the timeline's rate.
        duration_s: Source duration in seconds (the reference's available range).
        name: Timeline name; default the source's file name.

    Returns:
        A JSON-serialisable dict that ``opentimelineio.adapters.read_from_string`` loads.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    rate = float(fps)
    title = name or os.path.basename(source_uri.rstrip("/")) or source_uri
    clips = []
    for index, (start, end) in enumerate(windows):
        first = math.ceil(start * rate - 1e-6)
        stop = math.ceil(end * rate - 1e-6)
        if stop <= first:
            continue
        clips.append(
            {
                "OTIO_SCHEMA": "Clip.2",
                "metadata": {"reelbeam": {"window_s": [float(start), float(end)]}},
                "name": f"highlight_{index:03d}",
                "source_range": _time_range(first, stop - first, rate),
                "effects": [],
                "markers": [],
                "enabled": True,
                "media_references": {
                    "DEFAULT_MEDIA": {
                        "OTIO_SCHEMA": "ExternalReference.1",
                        "metadata": {},
                        "name": title,
                        "available_range": _time_range(0, round(duration_s * rate, 6), rate),
                        "available_image_bounds": None,
                        "target_url": source_uri,
                    }
                },
                "active_media_reference_key": "DEFAULT_MEDIA",
            }
        )
    track = {
        "OTIO_SCHEMA": "Track.1",
        "metadata": {},
        "name": "Highlights",
        "source_range": None,
        "effects": [],
        "markers": [],
        "enabled": True,
        "children": clips,
        "kind": "Video",
    }
    stack = {
        "OTIO_SCHEMA": "Stack.1",
        "metadata": {},
        "name": "tracks",
        "source_range": None,
        "effects": [],
        "markers": [],
        "enabled": True,
        "children": [track],
    }
    return {
        "OTIO_SCHEMA": "Timeline.1",
        "metadata": {"reelbeam": {"source_uri": source_uri, "fps": rate}},
        "name": f"{title} highlights",
        "global_start_time": None,
        "tracks": stack,
    }


def _otio_with_library(doc: dict) -> str | None:
    """The same timeline built with ``opentimelineio`` objects, or None without the package."""
    try:
        import opentimelineio as otio
    except ImportError:
        return None
    timeline = otio.schema.Timeline(name=doc["name"], metadata=doc["metadata"])
    track = otio.schema.Track(name="Highlights", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for clip in doc["tracks"]["children"][0]["children"]:
        ref = clip["media_references"]["DEFAULT_MEDIA"]
        available = ref["available_range"]
        rate = available["duration"]["rate"]
        track.append(
            otio.schema.Clip(
                name=clip["name"],
                metadata=clip["metadata"],
                media_reference=otio.schema.ExternalReference(
                    target_url=ref["target_url"],
                    available_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(available["start_time"]["value"], rate),
                        otio.opentime.RationalTime(available["duration"]["value"], rate),
                    ),
                ),
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(clip["source_range"]["start_time"]["value"], rate),
                    otio.opentime.RationalTime(clip["source_range"]["duration"]["value"], rate),
                ),
            )
        )
    return otio.adapters.write_to_string(timeline, adapter_name="otio_json")


def write_otio(
    dst: str,
    source_uri: str,
    windows: Sequence[tuple[float, float]],
    fps: float,
    duration_s: float,
    *,
    use_library: bool = True,
) -> int:
    """Write the highlight cuts as an OpenTimelineIO ``.otio`` file (``otio_json``).

    Built with the ``opentimelineio`` package when it is installed; otherwise the same
    timeline is written as plain JSON in the ``otio_json`` schema (see :func:`otio_document`),
    so a worker without the package still writes a file OpenTimelineIO loads.

    Args:
        dst: Local output path (``.otio``).
        source_uri: The source media the clips reference.
        windows: ``[(start_s, end_s), ...]`` from :func:`highlight_windows`.
        fps: Source frame rate.
        duration_s: Source duration in seconds.
        use_library: False writes the plain JSON even when the package is installed.

    Returns:
        Bytes written.
    """
    doc = otio_document(source_uri, windows, fps, duration_s)
    text = _otio_with_library(doc) if use_library else None
    if text is None:
        text = json.dumps(doc, indent=4)
    data = (text.rstrip("\n") + "\n").encode("utf-8")
    write_bytes(dst, data, "application/json")
    return len(data)
