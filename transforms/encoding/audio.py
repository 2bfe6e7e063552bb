"""Audio: resample to AAC's rates and layouts and place samples on the output timeline by timestamp."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction

import av
import numpy as np
from av.audio.frame import AudioFrame

from transforms.media.damage import DecodeErrors, decode_stream
from transforms.media.timebase import ticks

_AAC_RATES = frozenset(
    {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
)
_AUDIO_SEEK_MARGIN_S = Fraction(1)  # audio decoded before a cut, then trimmed (AAC warm-up)
AUDIO_LAG_S = Fraction(1, 2)
"""In cuts, audio is placed this far behind the video (seconds): it never runs ahead."""
_SAMPLE_JITTER = 2  # timestamp rounding (samples) still treated as contiguous audio


def audio_target(stream: av.audio.stream.AudioStream) -> tuple[int, str]:
    """AAC output rate and layout: the source's rate if AAC has it, mono stays mono, else stereo."""
    ctx = stream.codec_context
    rate = ctx.sample_rate if ctx.sample_rate in _AAC_RATES else 48000
    channels = ctx.channels or 2
    return rate, "mono" if channels == 1 else "stereo"


class AudioPlacer:
    """Cut audio to source-time windows and lay it out, sample-exact, on the output timeline.

    Decoded frames are resampled to float planar at the output rate and layout. Each sample
    goes to ``out_start + (source time - window start)``; a gap in the source becomes silence
    and an overlap is dropped, so audio stays in sync with the video whatever its timestamps.
    """

    def __init__(
        self,
        stream: av.audio.stream.AudioStream,
        origin_s: Fraction,
        sinks: Sequence[Callable[[AudioFrame | None], None]],
    ) -> None:
        self.rate, self.layout = audio_target(stream)
        self.channels = 1 if self.layout == "mono" else 2
        self.origin_s = origin_s
        # Where the source's audio ends by its container (edit list), so the encoder padding
        # of its last frame, which decoders do not trim, is not carried over as silence.
        self.source_end_s: Fraction | None = None
        if stream.duration and stream.time_base:
            start = Fraction(stream.start_time or 0)
            self.source_end_s = (start + stream.duration) * Fraction(stream.time_base) - origin_s
        self._sinks = list(sinks)
        self._resampler: av.AudioResampler | None = None
        self._window: tuple[int, int | None, int] | None = None  # src start, src end, out start
        self._early: list[AudioFrame] = []
        self._next_src: int | None = None
        self.cursor = 0  # samples written

    def begin(
        self, src_start_s: Fraction, out_start_s: Fraction, src_end_s: Fraction | None = None
    ) -> None:
        """Start a window whose source time ``src_start_s`` lands at ``out_start_s``.

        Samples at or after ``src_end_s`` (when given) are dropped.
        """
        end = None if src_end_s is None else round(src_end_s * self.rate)
        self._window = (round(src_start_s * self.rate), end, round(out_start_s * self.rate))
        self._resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
        self._next_src = None
        early, self._early = self._early, []
        for frame in early:
            self.feed(frame)

    def feed(self, frame: AudioFrame) -> None:
        """Place one decoded frame (held back until a window begins)."""
        if self._window is None or self._resampler is None:
            self._early.append(frame)
            return
        for out in self._resampler.resample(frame):
            self._place(out)

    def limit(self, src_end_s: Fraction) -> None:
        """From now on, drop samples of this window at or after ``src_end_s``."""
        if self._window is None:
            return
        start, end, out_start = self._window
        new_end = round(src_end_s * self.rate)
        self._window = (start, new_end if end is None else min(end, new_end), out_start)

    def end(self, src_end_s: Fraction | None) -> None:
        """Finish the window: drop samples at or after ``src_end_s`` (None: keep all)."""
        if self._window is None or self._resampler is None:
            return
        if src_end_s is not None:
            self.limit(src_end_s)
        for out in self._resampler.resample(None):
            self._place(out)
        self._window = None
        self._resampler = None

    def src_time_s(self) -> Fraction | None:
        """Source time (s) just after the last sample seen, None before any."""
        return None if self._next_src is None else Fraction(self._next_src, self.rate)

    def _place(self, frame: AudioFrame) -> None:
        assert self._window is not None
        start, end, out_start = self._window
        data = frame.to_ndarray()
        count = data.shape[1]
        if count == 0:
            return
        if frame.pts is not None and frame.time_base is not None:
            first = round((frame.pts * Fraction(frame.time_base) - self.origin_s) * self.rate)
            if self._next_src is not None and abs(first - self._next_src) <= _SAMPLE_JITTER:
                first = self._next_src
        else:
            first = self._next_src if self._next_src is not None else start
        self._next_src = first + count
        lo = max(first, start)
        hi = first + count if end is None else min(first + count, end)
        if hi <= lo:
            return
        data = data[:, lo - first : hi - first]
        position = out_start + (lo - start)
        if position < self.cursor:
            data = data[:, self.cursor - position :]
            position = self.cursor
        if data.shape[1] == 0:
            return
        if position > self.cursor:
            self._emit(np.zeros((self.channels, position - self.cursor), dtype=np.float32))
        self._emit(data)

    def _emit(self, data: np.ndarray) -> None:
        frame = AudioFrame.from_ndarray(
            np.ascontiguousarray(data, dtype=np.float32), format="fltp", layout=self.layout
        )
        frame.sample_rate = self.rate
        frame.pts = self.cursor
        frame.time_base = Fraction(1, self.rate)
        self.cursor += data.shape[1]
        for sink in self._sinks:
            sink(frame)


def audio_frames_from(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    src_start_s: Fraction,
    origin_s: Fraction,
    errors: DecodeErrors | None = None,
) -> Iterator[AudioFrame]:
    """Decoded audio frames from a little before ``src_start_s`` (seconds from the origin).

    Damaged packets are skipped and counted in ``errors`` (raised without it); the placer
    fills the gap they leave with silence, so later audio keeps its time.
    """
    target_s = origin_s + src_start_s - _AUDIO_SEEK_MARGIN_S
    time_base = Fraction(stream.time_base or Fraction(1, stream.codec_context.sample_rate))
    container.seek(max(0, ticks(target_s, time_base)), stream=stream, backward=True)
    yield from decode_stream(container, stream, errors)


class PulledAudio:
    """Audio for one cut, read from its own container and kept just behind the video."""

    def __init__(self, placer: AudioPlacer, frames: Iterator[AudioFrame]) -> None:
        self._placer = placer
        self._frames = frames
        self._done = False

    def advance(self, src_s: Fraction) -> None:
        """Place the source's audio up to about ``src_s`` seconds."""
        while not self._done:
            seen = self._placer.src_time_s()
            if seen is not None and seen >= src_s:
                return
            frame = next(self._frames, None)
            if frame is None:
                self._done = True
                return
            self._placer.feed(frame)
