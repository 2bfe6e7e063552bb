"""A proxy and its ladder renditions from one decode of the source."""

from __future__ import annotations

from collections.abc import Mapping

from transforms.encoding.mux import RenditionInfo
from transforms.encoding.settings import EncodeSettings
from transforms.encoding.transcode import transcode
from transforms.media.damage import DecodeErrors


def render_ladder(
    src: str,
    outputs: Mapping[int, str],
    settings: EncodeSettings | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    errors: DecodeErrors | None = None,
) -> dict[int, RenditionInfo]:
    """Encode a proxy and ladder renditions from ONE decode of the source.

    Every rung (height -> local MP4 path) is fed from the same decoded frames: upright, square
    pixels, ``yuv420p``, H.264 High, the source's frame timestamps (VFR kept), AAC audio
    (source channels for mono/stereo, else stereo; ``settings.audio_bitrate``) placed by its
    timestamps, ``movflags=+faststart``.

    Args:
        src: Source video, local path or ``gs://`` URI.
        outputs: Rung height in pixels -> local output path, e.g.
            ``{720: ".../proxy_720p.mp4", 480: ".../rendition_480p.mp4"}``.
        settings: Encoding settings (defaults: CRF 23, preset fast, libx264).
        start_s: Encode only frames at or after this time (seconds from the source's start).
        end_s: Encode only frames before this time; None: to the end.
        errors: Damaged packets of both streams: skipped, as the ffmpeg CLI conceals them,
            and counted here (see ``transforms.media.damage``).

    Returns:
        Rung height -> what was written.

    Raises:
        NoVideoStreamError, CorruptMediaError: the source has no (decodable) video in range.
        av.error.FFmpegError: decoding or encoding failed.
    """
    settings = settings or EncodeSettings()
    whole = start_s is None and end_s is None
    windows = None if whole else [(float(start_s or 0.0), end_s)]
    return transcode(
        src, outputs, settings, windows, with_audio=True, faststart=True, errors=errors
    )


def encode_ladder_range(
    src: str,
    outputs: Mapping[int, str],
    settings: EncodeSettings | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
    errors: DecodeErrors | None = None,
) -> dict[int, RenditionInfo]:
    """Encode one frame range ``[start_s, end_s)`` to every rung from ONE decode, video only.

    The chunk-parallel form of :func:`render_ladder`: each output is a chunk as
    :func:`encode_video_range` writes it (IDR first frame, timestamps from 0), ready for
    :func:`join_chunks`.

    Args:
        src: Source video, local path or ``gs://`` URI.
        outputs: Rung height in pixels -> local output path.
        settings: Encoding settings; the same for every chunk of a join.
        start_s: First frame time to include (seconds).
        end_s: Frames at or after this time are excluded; None: to the end.
        errors: Damaged video packets, counted (see :func:`render_ladder`).
    """
    settings = settings or EncodeSettings()
    windows = [(float(start_s), None if end_s is None else float(end_s))]
    return transcode(
        src, outputs, settings, windows, with_audio=False, faststart=False, errors=errors
    )
