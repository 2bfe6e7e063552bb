"""Chunk-parallel encoding: plan frame-exact ranges, encode each, encode the audio once, join.

A long source's proxy and ladder are encoded as exact frame ranges on different
workers (:func:`plan_render_chunks`, :func:`keyframe_times`,
``ladder.encode_ladder_range`` or :func:`encode_video_range`), its audio once
(:func:`encode_audio`), and the chunks joined by stream copy (:func:`join_chunks`).
"""

from __future__ import annotations

import contextlib
import heapq
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction

import av
from av.audio.frame import AudioFrame

from transforms.encoding.audio import AudioPlacer, audio_target
from transforms.encoding.mux import RenditionInfo, VideoPacketWriter, rendition_info, stream_end
from transforms.encoding.settings import EncodeSettings
from transforms.encoding.transcode import transcode
from transforms.errors import CorruptMediaError
from transforms.io.atomic import local_target
from transforms.media.damage import DecodeErrors, decode_stream
from transforms.media.open import open_input
from transforms.media.streams import pick_audio_stream, pick_video_stream


def plan_render_chunks(
    duration_s: float,
    render_chunk_s: float,
    keyframe_times: Sequence[float] | None = None,
) -> list[tuple[float, float]]:
    """Split a source into chunks of about ``render_chunk_s`` for parallel encoding.

    Chunks are frame-exact half-open ranges that tile ``[0, duration_s)``; the end of one is
    the start of the next (the same float), so every frame falls in exactly one chunk. With
    ``keyframe_times`` each inner boundary moves to the nearest source keyframe within a
    quarter chunk, so a chunk's seek lands on its first frame and nothing is decoded twice.

    Args:
        duration_s: Source video duration in seconds (``VideoProbe.duration_s``).
        render_chunk_s: Wanted chunk length in seconds (``--render_chunk_s``).
        keyframe_times: Optional keyframe times of the source (seconds from its start).

    Returns:
        ``[(start_s, end_s), ...]``; a single ``(0, duration_s)`` for a short source. The last
        end is ``duration_s``: pass ``end_s=None`` to :func:`encode_video_range` for the last
        chunk if the duration may be short of the last frame.

    Raises:
        ValueError: Non-positive duration or chunk length.
    """
    if duration_s <= 0 or render_chunk_s <= 0:
        raise ValueError(
            f"duration_s and render_chunk_s must be positive ({duration_s}, {render_chunk_s})"
        )
    count = max(1, math.ceil(duration_s / render_chunk_s - 1e-9))
    step = duration_s / count
    bounds = [round(i * step, 6) for i in range(1, count)]
    keys = sorted(float(t) for t in keyframe_times or () if 0 < t < duration_s)
    if keys:
        snapped = []
        for bound in bounds:
            nearest = min(keys, key=lambda t, b=bound: abs(t - b))
            snapped.append(nearest if abs(nearest - bound) <= step / 4 else bound)
        bounds = snapped
    edges = [0.0] + sorted(set(b for b in bounds if 0 < b < duration_s)) + [float(duration_s)]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def keyframe_times(src: str) -> list[float]:
    """Keyframe times of the source's video (seconds from its start), from the container index.

    Reads only the index (no decoding), so it is cheap on ``gs://`` too. Index timestamps are
    decode times; they are shifted so the first keyframe is at 0, which is exact for streams
    whose keyframes all have the same reorder delay (closed GOPs, e.g. camera and x264 H.264).

    Args:
        src: Source video, local path or ``gs://`` URI.

    Returns:
        Increasing times in seconds; empty when the container has no index (e.g. MPEG-TS).
    """
    with open_input(src) as container:
        stream = pick_video_stream(container)
        time_base = Fraction(stream.time_base or 1)
        try:
            entries = stream.index_entries
            stamps = [e.timestamp for e in entries if e.is_keyframe] if entries else []
            first = entries[0].timestamp if entries else 0
        except Exception:  # no readable index
            return []
    return sorted({round(float((t - first) * time_base), 6) for t in stamps if t >= first})


def encode_video_range(
    src: str,
    dst: str,
    height: int,
    settings: EncodeSettings | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
    errors: DecodeErrors | None = None,
) -> RenditionInfo:
    """Encode the video frames in ``[start_s, end_s)`` to a video-only MP4 chunk.

    Seeks to the keyframe before ``start_s``, decodes forward and drops earlier frames. The
    chunk starts with an IDR frame (closed GOP), its first frame has timestamp 0 and its last
    frame lasts until the next source frame, so :func:`join_chunks` can lay chunks end to end.

    Args:
        src: Source video, local path or ``gs://`` URI.
        dst: Local output path.
        height: Rung height in pixels (see :func:`target_size`).
        settings: Encoding settings; must be the same for every chunk of a join.
        start_s: First frame time to include (seconds).
        end_s: Frames at or after this time are excluded; None: to the end.
        errors: Damaged packets, counted (see ``transcode``).

    Returns:
        What was written.
    """
    settings = settings or EncodeSettings()
    windows = [(float(start_s), None if end_s is None else float(end_s))]
    outputs = {height: dst}
    infos = transcode(
        src, outputs, settings, windows, with_audio=False, faststart=False, errors=errors
    )
    return infos[height]


def encode_audio(
    src: str, dst: str, settings: EncodeSettings | None = None, errors: DecodeErrors | None = None
) -> float | None:
    """Encode the whole source's audio once, to an AAC ``.m4a``, for :func:`join_chunks`.

    Samples are placed by timestamp relative to the video stream's start, exactly as
    :func:`render_ladder` places them.

    Args:
        src: Source video, local path or ``gs://`` URI.
        dst: Local output path (MP4/M4A).
        settings: Only ``audio_bitrate`` is used.
        errors: Damaged audio packets: skipped (their time becomes silence) and counted.

    Returns:
        Audio duration in seconds, or None (nothing written) when the source has no audio.
    """
    settings = settings or EncodeSettings()
    with open_input(src) as container:
        vstream = pick_video_stream(container)
        astream = pick_audio_stream(container)
        if astream is None:
            return None
        origin_s = Fraction(vstream.start_time or 0) * Fraction(vstream.time_base)
        with local_target(dst) as part:
            out = av.open(part, mode="w", format="mp4")
            try:
                rate, layout = audio_target(astream)
                ostream = out.add_stream("aac", rate=rate)
                ostream.layout = layout
                ostream.time_base = Fraction(1, rate)
                ostream.codec_context.bit_rate = settings.audio_bitrate

                def sink(frame: AudioFrame | None) -> None:
                    for packet in ostream.encode(frame):
                        out.mux(packet)

                placer = AudioPlacer(astream, origin_s, [sink])
                placer.begin(Fraction(0), Fraction(0), placer.source_end_s)
                for frame in decode_stream(container, astream, errors):
                    placer.feed(frame)
                placer.end(None)
                sink(None)
                out.close()
            except BaseException:
                with contextlib.suppress(Exception):
                    out.close()
                raise
        return placer.cursor / placer.rate


def _chunk_timing(path: str) -> tuple[int, int, dict[int, int]]:
    """A chunk's first pts, its end and each frame's presentation duration, in its ticks."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        pts = sorted(int(p.pts) for p in container.demux(stream) if p.pts is not None and p.size)
        if not pts:
            raise CorruptMediaError(f"chunk {path} has no video packets")
        end = stream_end(stream, pts[0], pts[-1] + 1)
        durations = {a: b - a for a, b in zip(pts, pts[1:] + [end], strict=True)}
        return pts[0], end, durations


def join_chunks(chunk_paths: Sequence[str], audio_path: str | None, dst: str) -> RenditionInfo:
    """Join chunk MP4s end to end by stream copy (no re-encode) and mux the audio in.

    Chunk ``k`` is shifted to start where chunk ``k - 1`` ends (each chunk's first frame has
    timestamp 0 and its last frame lasts until the next chunk's first), so the joined frames
    keep the source's timestamps. Video and audio packets are interleaved by time, and the
    output is one MP4 with ``movflags=+faststart``.

    Args:
        chunk_paths: Chunks from :func:`encode_video_range`, in order, same settings and size.
        audio_path: Audio from :func:`encode_audio`, or None for no audio.
        dst: Local output path.

    Returns:
        What was written.

    Raises:
        ValueError: No chunks, or chunks that differ in codec, size or headers (SPS/PPS).
        CorruptMediaError: A chunk without video packets.
    """
    if not chunk_paths:
        raise ValueError("no chunks to join")
    with contextlib.ExitStack() as stack:
        inputs = [stack.enter_context(av.open(path)) for path in chunk_paths]
        template = inputs[0].streams.video[0]
        for path, container in zip(chunk_paths, inputs, strict=True):
            stream = container.streams.video[0]
            same = (
                stream.codec_context.name == template.codec_context.name
                and (stream.width, stream.height) == (template.width, template.height)
                and bytes(stream.codec_context.extradata or b"")
                == bytes(template.codec_context.extradata or b"")
            )
            if not same:
                raise ValueError(f"chunk {path} does not match the first chunk's stream headers")
        audio_in = stack.enter_context(av.open(audio_path)) if audio_path else None
        out_tb = Fraction(template.time_base)
        with local_target(dst) as part:
            out = av.open(part, mode="w", format="mp4", options={"movflags": "+faststart"})
            try:
                vout = out.add_stream_from_template(template)
                vout.time_base = out_tb
                aout = None
                if audio_in is not None and audio_in.streams.audio:
                    atemplate = audio_in.streams.audio[0]
                    aout = out.add_stream_from_template(atemplate)
                    aout.time_base = atemplate.time_base
                writer = VideoPacketWriter(out)

                def video_packets() -> Iterator[tuple[Fraction, int, av.Packet, int]]:
                    offset = 0  # where the current chunk starts, out_tb ticks
                    last_dts: int | None = None
                    for path, container in zip(chunk_paths, inputs, strict=True):
                        first, end, durations = _chunk_timing(path)
                        stream = container.streams.video[0]
                        scale = Fraction(stream.time_base) / out_tb
                        for packet in container.demux(stream):
                            if packet.pts is None or packet.size == 0:
                                continue
                            duration = round(durations.get(int(packet.pts), 0) * scale)
                            pts = offset + round((packet.pts - first) * scale)
                            dts_in = packet.dts if packet.dts is not None else packet.pts
                            dts = offset + round((dts_in - first) * scale)
                            if last_dts is not None and dts <= last_dts:
                                dts = last_dts + 1
                            if dts > pts:
                                raise ValueError(
                                    f"cannot join {path}: its decode order would pass its "
                                    "presentation (chunks encoded with different settings?)"
                                )
                            last_dts = dts
                            packet.pts, packet.dts = pts, dts
                            packet.time_base = out_tb
                            packet.stream = vout
                            yield Fraction(dts) * out_tb, 0, packet, duration
                        offset += round((end - first) * scale)

                def audio_packets() -> Iterator[tuple[Fraction, int, av.Packet, int]]:
                    if audio_in is None or aout is None:
                        return
                    stream = audio_in.streams.audio[0]
                    for packet in audio_in.demux(stream):
                        if packet.dts is None or packet.size == 0:
                            continue
                        packet.stream = aout
                        time = Fraction(packet.dts) * Fraction(stream.time_base)
                        yield time, 1, packet, int(packet.duration or 0)

                merged = heapq.merge(
                    video_packets(), audio_packets(), key=lambda item: (item[0], item[1])
                )
                for _, kind, packet, duration in merged:
                    if kind == 0:
                        writer.write(packet, duration)
                    else:
                        out.mux(packet)
                writer.finish()
                out.close()
            except BaseException:
                with contextlib.suppress(Exception):
                    out.close()
                raise
        size = (template.width, template.height)
        frames, end = writer.count, writer.end
    return rendition_info(dst, size, frames, float(end * out_tb))
