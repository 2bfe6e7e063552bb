"""Reading an encoded MP4 back: the facts tests and checks compare against the contract."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

import av

from transforms.encoding.mux import mp4_top_level_atoms, stream_end
from transforms.media.geometry import frame_rotation_deg, stream_sar
from transforms.media.streams import pick_video_stream


def probe_output(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Describe an encoded MP4 (for tests and checks): demuxes every packet, decodes one frame.

    Args:
        path: Local MP4 file.

    Returns:
        A dict with ``codec``, ``profile``, ``pix_fmt``, ``width``, ``height``, ``sar``,
        ``display_aspect`` (width * SAR / height), ``rotation`` (clockwise degrees from the
        first frame's display matrix), ``interlaced`` and ``colorspace`` (first frame's flag
        and YUV matrix, FFmpeg's AVColorSpace number), ``atoms`` and ``faststart`` (``moov`` before
        ``mdat``), ``time_base``, ``pts`` (sorted video timestamps in ticks), ``frame_count``
        (video packets), ``keyframes`` (their indexes), ``duration_s`` (last frame end minus
        first start), ``start_s``, ``has_audio``, ``audio_codec``, ``audio_rate``,
        ``audio_channels``, ``audio_start_s``, ``audio_duration_s`` and ``size_bytes``.
    """
    path = os.fspath(path)
    atoms = mp4_top_level_atoms(path)
    info: dict[str, Any] = {
        "atoms": atoms,
        "faststart": "moov" in atoms
        and "mdat" in atoms
        and atoms.index("moov") < atoms.index("mdat"),
        "size_bytes": os.path.getsize(path),
    }
    with av.open(path) as container:
        stream = pick_video_stream(container)
        ctx = stream.codec_context
        sar = stream_sar(stream)
        tb = Fraction(stream.time_base)
        packets = [
            (p.pts, p.duration or 0, p.is_keyframe)
            for p in container.demux(stream)
            if p.pts is not None and p.size
        ]
        packets.sort()
        pts = [p[0] for p in packets]
        end = max((p + d for p, d, _ in packets), default=0)
        info.update(
            codec=ctx.name,
            profile=ctx.profile,
            pix_fmt=ctx.pix_fmt,
            width=ctx.width,
            height=ctx.height,
            sar=f"{sar.numerator}:{sar.denominator}",
            display_aspect=float(ctx.width * sar / ctx.height),
            time_base=tb,
            pts=pts,
            frame_count=len(pts),
            keyframes=[i for i, p in enumerate(packets) if p[2]],
            duration_s=float((stream_end(stream, pts[0], end) - pts[0]) * tb) if pts else 0.0,
            start_s=float(pts[0] * tb) if pts else None,
        )
    with av.open(path) as container:
        first = next(container.decode(pick_video_stream(container)), None)
        info["rotation"] = frame_rotation_deg(first) if first is not None else 0
        info["interlaced"] = bool(first.interlaced_frame) if first is not None else False
        info["colorspace"] = int(first.colorspace or 0) if first is not None else None
    with av.open(path) as container:
        info["has_audio"] = bool(container.streams.audio)
        info.update(audio_codec=None, audio_rate=None, audio_channels=None)
        info.update(audio_start_s=None, audio_duration_s=None)
        if container.streams.audio:
            astream = container.streams.audio[0]
            actx = astream.codec_context
            samples = 0
            start = None
            for frame in container.decode(astream):
                if start is None and frame.pts is not None:
                    start = float(frame.pts * Fraction(frame.time_base))
                samples += frame.samples
            if astream.duration:
                audio_duration = float(astream.duration * Fraction(astream.time_base))
            else:
                audio_duration = samples / actx.sample_rate if actx.sample_rate else None
            info.update(
                audio_codec=actx.name,
                audio_rate=actx.sample_rate,
                audio_channels=actx.channels,
                audio_start_s=start,
                audio_duration_s=audio_duration,
            )
    return info
