"""``VideoReader``: decoded frames of one stream, frame-exact ranges, forward-or-seek logic."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from fractions import Fraction

import av
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame

from transforms.media.damage import DecodeErrors, decode_packet, demux_packets
from transforms.media.timebase import frame_rate, ticks

_FORWARD_S = 2.0  # decode forward instead of seeking when the next cut starts this close


class VideoReader:
    """Decoded video frames of one stream, with frame-exact ranges and forward-or-seek logic.

    Frame times are ``rel`` ticks: ``pts - stream.start_time`` in the stream's time base.
    When ``on_audio`` is given, the audio stream's frames decoded along the way (same demux
    pass, file order) are handed to it; that mode never seeks. With ``errors``, packets
    their decoder rejects are skipped and counted there (the frame before lasts until the
    next one decodes), as the ffmpeg CLI conceals them; without, the error is raised.
    """

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.video.stream.VideoStream,
        audio: av.audio.stream.AudioStream | None = None,
        on_audio: Callable[[AudioFrame], None] | None = None,
        errors: DecodeErrors | None = None,
    ) -> None:
        self._container = container
        self._stream = stream
        self._audio = audio if on_audio is not None else None
        self._on_audio = on_audio
        self.errors = errors
        self.time_base = Fraction(stream.time_base or Fraction(1, 90000))
        self.origin = int(stream.start_time or 0)
        self.rate = frame_rate(stream)
        self._default_dur = max(1, round(1 / (self.rate * self.time_base)))
        self._gen: Iterator[VideoFrame] | None = None
        self._pending: tuple[int, VideoFrame] | None = None
        self._last_rel: int | None = None
        self._last_gap: int | None = None
        self._keys: list[int] | None = None
        self._shown: tuple[int, VideoFrame] | None = None  # what frame_at returned last
        self._exhausted = False
        self.frames_decoded = 0
        self.seeks = 0

    def _frames(self) -> Iterator[VideoFrame]:
        streams = [self._stream] + ([self._audio] if self._audio is not None else [])
        for packet in demux_packets(self._container, streams, self.errors):
            if self._audio is not None and packet.stream is self._audio:
                assert self._on_audio is not None
                for aframe in decode_packet(packet, self.errors):
                    self._on_audio(aframe)
                continue
            for frame in decode_packet(packet, self.errors):
                self.frames_decoded += 1
                yield frame

    def _next(self) -> tuple[int, VideoFrame] | None:
        if self._pending is not None:
            item, self._pending = self._pending, None
            return item
        if self._gen is None:
            self._gen = self._frames()
        frame = next(self._gen, None)
        if frame is None:
            return None
        last = self._last_rel
        if frame.pts is None:
            rel = (last + (self._last_gap or self._default_dur)) if last is not None else 0
        else:
            rel = int(frame.pts) - self.origin
        if last is not None and rel <= last:  # broken timestamps: keep them strictly increasing
            rel = last + 1
        if last is not None:
            self._last_gap = rel - last
        self._last_rel = rel
        return rel, frame

    def _seek(self, rel: int) -> None:
        """Seek to the keyframe at or before ``rel``; ``rel <= 0`` rewinds to the file start."""
        self.seeks += 1
        if rel > 0:
            self._container.seek(
                self.origin + rel, stream=self._stream, backward=True, any_frame=False
            )
        else:
            # A timestamp seek to the very start fails in some demuxers (MPEG-TS without
            # keyframe index); the container-level rewind, or byte 0, does not.
            try:
                self._container.seek(0)
            except av.error.FFmpegError:
                self._container.seek(0, unsupported_byte_offset=True)
        self._gen = None
        self._pending = None
        self._last_rel = None
        self._last_gap = None
        self._shown = None
        self._exhausted = False

    def _keyframes(self) -> list[int]:
        """Keyframe timestamps from the container's index (empty when it has none)."""
        if self._keys is None:
            try:
                entries = self._stream.index_entries
                self._keys = [e.timestamp for e in entries if e.is_keyframe] if entries else []
            except Exception:  # an index PyAV cannot read: fall back to the distance rule
                self._keys = []
        return self._keys

    def _forward_is_cheaper(self, current: int | None, start: int) -> bool:
        """Whether decoding on from ``current`` reaches ``start`` at no more cost than a seek."""
        if self._gen is None or current is None or current > start:
            return False
        keys = self._keyframes()
        if keys:
            # A seek lands on the last keyframe at or before the target; if we are already
            # past it, going on decodes fewer frames than seeking back to it.
            index = bisect.bisect_right(keys, self.origin + start) - 1
            return keys[max(0, index)] - self.origin <= current
        return (start - current) * self.time_base <= _FORWARD_S

    def _position_at(self, start: int) -> None:
        """Make the next frame one at or before ``start`` (the keyframe before, at worst)."""
        if self._gen is None and self._pending is None and start <= 0:
            return  # fresh reader: decode from the beginning
        current = self._pending[0] if self._pending is not None else self._last_rel
        if self._forward_is_cheaper(current, start):
            return
        if self._on_audio is not None:
            raise RuntimeError("a reader that also decodes audio cannot seek")
        step = 1
        target = start
        while True:
            self._seek(target)
            item = self._next()
            if (item is not None and item[0] <= start) or target <= 0:
                self._pending = item
                return
            # The demuxer landed after the wanted frame (sparse or imprecise index) or found
            # no keyframe at all (e.g. MPEG-TS whose only keyframe is the first): back off.
            target = max(0, start - ticks(step, self.time_base))
            step *= 2

    def frame_at(self, time: int) -> tuple[int, VideoFrame] | None:
        """The frame on screen at ``time`` ticks: the last one with ``rel <= time``.

        Times before the first frame give the first frame; after the last, the last. Calls
        with increasing times decode forward when that is cheaper than seeking.
        """
        shown = self._shown
        if (
            shown is not None
            and shown[0] <= time
            and (
                (self._pending is not None and time < self._pending[0])
                or (self._pending is None and self._gen is not None and self._exhausted)
            )
        ):
            return shown
        self._position_at(time)
        prev: tuple[int, VideoFrame] | None = None
        while True:
            item = self._next()
            if item is None:
                self._exhausted = True
                self._shown = prev
                return prev
            if item[0] > time:
                self._pending = item
                self._last_rel = item[0]
                self._shown = prev or item
                return self._shown
            prev = item

    def _eof_duration(self, rel: int, frame: VideoFrame) -> int:
        """How long the stream's last frame lasts: to the container's stream end if known."""
        typical = self._last_gap or self._default_dur
        if self._stream.duration:
            start = self._stream.start_time if self._stream.start_time is not None else 0
            to_end = int(start) + int(self._stream.duration) - self.origin - rel
            if 0 < to_end <= 4 * typical:  # a broken or estimated duration is not trusted
                return to_end
        if frame.duration and frame.duration > 0:
            return int(frame.duration)
        return typical

    def window(self, start: int, end: int | None) -> Iterator[tuple[int, int, VideoFrame]]:
        """Frames with ``start <= rel < end`` as ``(rel, duration, frame)``, in ticks.

        A frame's duration runs to the next frame's timestamp (also past ``end``); the last
        frame of the stream lasts until the stream's end as the container states it.
        """
        self._position_at(start)
        prev: tuple[int, VideoFrame] | None = None
        while True:
            item = self._next()
            if item is None:
                if prev is not None:
                    yield prev[0], self._eof_duration(prev[0], prev[1]), prev[1]
                return
            rel = item[0]
            if rel < start:
                continue
            if prev is not None:
                yield prev[0], rel - prev[0], prev[1]
                prev = None
            if end is not None and rel >= end:
                self._pending = item
                self._last_rel = rel
                return
            prev = item
