"""Choosing the streams of a container: the one rule every stage uses.

Probe, detection and render must all look at the same picture: a file whose
first video stream is cover art (an MP3-style attached picture) would otherwise
be probed as one stream and decoded as another.
"""

from __future__ import annotations

import av

from transforms.errors import NoVideoStreamError

ATTACHED_PIC = 0x400
"""``AV_DISPOSITION_ATTACHED_PIC``: a stream holding cover art, not video."""


def pick_video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The video stream to probe, analyse and render: the first that is not cover art.

    Raises:
        NoVideoStreamError: no video stream besides attached pictures (audio only, data).
    """
    for stream in container.streams.video:
        if not int(stream.disposition) & ATTACHED_PIC:
            return stream
    kinds = sorted({s.type for s in container.streams}) or ["none"]
    raise NoVideoStreamError(f"no video stream (streams: {', '.join(kinds)})")


def pick_audio_stream(
    container: av.container.InputContainer,
) -> av.audio.stream.AudioStream | None:
    """The audio stream to describe and encode: the first with a decoder, a rate and channels."""
    for stream in container.streams.audio:
        ctx = stream.codec_context
        if ctx is not None and ctx.name and ctx.sample_rate and ctx.channels:
            return stream
    return None
