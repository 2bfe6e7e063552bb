"""Writing MP4s: the encoder output, exact track ends, faststart, and reading box layouts back."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import struct
from collections.abc import Mapping
from fractions import Fraction

import av
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame

from transforms.encoding.settings import DEFAULT_THREADS, EncodeSettings, video_encoder_options


@dataclasses.dataclass(frozen=True)
class RenditionInfo:
    """What was written: the facts an ``assets`` row needs (besides URI and MD5).

    Attributes:
        width: Video width in pixels (square pixels, upright).
        height: Video height in pixels.
        duration_s: Video duration in seconds: the last frame's end minus the first's start.
        frame_count: Video frames written.
        bitrate_kbps: Overall bitrate (video and audio) in kbit/s: file size over duration.
        size_bytes: File size in bytes.
        codec: Video codec name (``h264``).
    """

    width: int
    height: int
    duration_s: float
    frame_count: int
    bitrate_kbps: float
    size_bytes: int
    codec: str


def mp4_top_level_atoms(path: str | os.PathLike[str]) -> list[str]:
    """Types of the top-level boxes of an MP4/MOV file, in file order (e.g. ftyp, moov, mdat).

    Args:
        path: Local file.

    Returns:
        Box types as 4-character strings; parsing stops at a malformed box header.
    """
    atoms: list[str] = []
    with open(path, "rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        pos = 0
        while pos + 8 <= total:
            handle.seek(pos)
            size, kind = struct.unpack(">I4s", handle.read(8))
            if size == 1:
                (size,) = struct.unpack(">Q", handle.read(8))
            elif size == 0:
                size = total - pos
            if size < 8:
                break
            atoms.append(kind.decode("latin-1"))
            pos += size
    return atoms


class VideoPacketWriter:
    """Mux video packets into an MP4 so that the track ends exactly where its last frame ends.

    Each packet gets its frame's presentation duration. FFmpeg's MP4 muxer makes a track last
    from the first sample's dts to the last sample's dts plus its duration; with B-frames the
    last sample in decode order is not the last one shown, so the latest packet is held back
    and, at the end, given the duration that makes the track end at the last frame's end
    (exact for variable frame rates too).
    """

    def __init__(self, container: av.container.OutputContainer) -> None:
        self._container = container
        self._held: av.Packet | None = None
        self._first: tuple[int, int] | None = None  # (pts, dts) of the first packet
        self.end = 0  # latest frame end (pts + duration), stream ticks
        self.count = 0

    def write(self, packet: av.Packet, duration: int) -> None:
        """Mux the packet held back so far and hold ``packet`` (``duration`` in ticks)."""
        packet.duration = duration
        if packet.pts is not None:
            self.end = max(self.end, int(packet.pts) + duration)
            if self._first is None and packet.dts is not None:
                self._first = (int(packet.pts), int(packet.dts))
        if self._held is not None:
            self._container.mux(self._held)
        self._held = packet
        self.count += 1

    def finish(self) -> None:
        """Mux the last packet with the duration that ends the track at the last frame's end."""
        last, self._held = self._held, None
        if last is None:
            return
        if last.dts is not None and self._first is not None:
            first_pts, first_dts = self._first
            wanted = self.end - first_pts - (int(last.dts) - first_dts)
            if wanted > 0:
                last.duration = wanted
        self._container.mux(last)


class EncoderOutput:
    """One MP4 being written: a video encoder and, optionally, an AAC encoder."""

    def __init__(
        self,
        path: str,
        size: tuple[int, int],
        settings: EncodeSettings,
        time_base: Fraction,
        rate: Fraction,
        audio: tuple[int, str] | None,
        faststart: bool,
        colors: Mapping[str, int] | None = None,
    ) -> None:
        options = {"movflags": "+faststart"} if faststart else {}
        self.container = av.open(path, mode="w", format="mp4", options=options)
        self.size = size
        self.time_base = time_base
        codec, codec_options = video_encoder_options(settings)
        stream = self.container.add_stream(codec, rate=rate, options=codec_options)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        ctx = stream.codec_context
        ctx.time_base = time_base
        ctx.thread_count = settings.threads or DEFAULT_THREADS
        # PyAV defaults encoders to slice threads; x264 compresses better and runs faster
        # with frame threads, as the ffmpeg CLI uses them.
        ctx.thread_type = "AUTO"
        for name, value in (colors or {}).items():
            setattr(ctx, name, value)
        self.video = stream
        self.audio = None
        if audio is not None:
            arate, layout = audio
            astream = self.container.add_stream("aac", rate=arate)
            astream.layout = layout
            astream.time_base = Fraction(1, arate)
            astream.codec_context.bit_rate = settings.audio_bitrate
            self.audio = astream
        self._durations: dict[int, int] = {}
        self._writer = VideoPacketWriter(self.container)

    @property
    def frames(self) -> int:
        """Video packets written so far."""
        return self._writer.count

    def encode_video(self, frame: VideoFrame | None, duration: int = 0) -> None:
        """Encode one frame shown for ``duration`` ticks; None flushes the encoder."""
        if frame is not None:
            frame.time_base = self.time_base
            self._durations[int(frame.pts)] = duration
            frame.pict_type = av.video.frame.PictureType.NONE  # let the encoder pick types
        for packet in self.video.encode(frame):
            # Encoders leave packet.duration at 0; MP4 needs it for the last frame's length.
            pts = int(packet.pts) if packet.pts is not None else None
            self._writer.write(packet, self._durations.pop(pts, 0) if pts is not None else 0)
        if frame is None:
            self._writer.finish()

    def encode_audio(self, frame: AudioFrame | None) -> None:
        """Encode one audio frame (ignored without an audio stream); None flushes."""
        if self.audio is None:
            return
        for packet in self.audio.encode(frame):
            self.container.mux(packet)

    def finish(self) -> None:
        """Flush both encoders and close the file."""
        self.encode_video(None)
        self.encode_audio(None)
        self.container.close()

    def abort(self) -> None:
        """Close the file after a failure, ignoring further errors."""
        with contextlib.suppress(Exception):
            self.container.close()


def rendition_info(
    path: str, size: tuple[int, int], frames: int, duration_s: float
) -> RenditionInfo:
    """What was written at ``path``: size, frames, duration and overall bitrate."""
    size_bytes = os.path.getsize(path)
    bitrate = size_bytes * 8 / duration_s / 1000 if duration_s > 0 else 0.0
    return RenditionInfo(
        width=size[0],
        height=size[1],
        duration_s=round(duration_s, 6),
        frame_count=frames,
        bitrate_kbps=round(bitrate, 3),
        size_bytes=size_bytes,
        codec="h264",
    )


def stream_end(stream: av.stream.Stream, first_pts: int, last_end: int) -> int:
    """Where a demuxed MP4 stream ends, in its ticks: its (edit list) duration if known.

    Demuxed packet durations are decode-order timestamp deltas, so ``max(pts + duration)``
    is only a fallback.
    """
    if stream.duration:
        return int(stream.start_time if stream.start_time is not None else first_pts) + int(
            stream.duration
        )
    return last_end
