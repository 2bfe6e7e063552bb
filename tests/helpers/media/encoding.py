"""PyAV encoding plumbing shared by the clip writers: streams, muxing, tones, atomic writes.

Every writer in this package goes through these helpers, so encoder settings (fixed thread
count, quiet fast presets) and the temp-then-rename write exist once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

Rate = int | float | Fraction

ENCODER_THREADS = 2  # fixed, so that x264 output does not depend on the machine's core count
TONE_HZ = (440.0, 660.0, 550.0, 770.0, 330.0, 880.0, 495.0, 605.0)
SUBSAMPLING_CODECS = frozenset({"libx264", "libx265"})


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same extension) and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def as_rate(value: Rate) -> Fraction:
    """Turn a frame rate given as int, float or Fraction into a positive Fraction."""
    rate = Fraction(value) if isinstance(value, (int, Fraction)) else Fraction(str(value))
    rate = rate.limit_denominator(1001)
    if rate <= 0:
        raise ValueError(f"frame rate must be positive, got {value!r}")
    return rate


def default_video_codec(path: Path) -> str:
    return "libvpx-vp9" if path.suffix.lower() == ".webm" else "libx264"


def default_audio_codec(path: Path) -> str:
    return "libopus" if path.suffix.lower() in (".webm", ".opus", ".ogg") else "aac"


def video_codec_options(codec: str, crf: int | None) -> dict[str, str]:
    """Fast, quiet default options per encoder."""
    if codec == "libx264":
        return {"preset": "veryfast", "crf": str(23 if crf is None else crf)}
    if codec == "libx265":
        return {
            "preset": "ultrafast",
            "crf": str(28 if crf is None else crf),
            "x265-params": "log-level=error",
        }
    if codec == "libvpx-vp9":
        return {"deadline": "realtime", "cpu-used": "8", "crf": str(36 if crf is None else crf)}
    if codec == "libsvtav1":
        return {"preset": "12", "crf": str(40 if crf is None else crf)}
    return {}


def check_dimensions(codec: str, pix_fmt: str, width: int, height: int) -> None:
    """Reject sizes the encoder cannot take, with a message saying what to do instead."""
    if width < 2 or height < 2:
        raise ValueError(f"frame size must be at least 2x2, got {width}x{height}")
    if codec not in SUBSAMPLING_CODECS:
        return
    chroma = av.VideoFormat(pix_fmt, 2, 2).components
    if len(chroma) < 2:  # gray formats
        return
    odd_w = width % 2 and chroma[1].width == 1
    odd_h = height % 2 and chroma[1].height == 1
    if odd_w or odd_h:
        raise ValueError(
            f"{codec} cannot encode {width}x{height} in {pix_fmt}: its chroma is subsampled, so "
            "the subsampled dimensions must be even. Use pix_fmt='yuv444p' for odd sizes "
            "(or yuv422p for an odd height only), or a codec such as libvpx-vp9."
        )


def add_video_stream(
    container: OutputContainer,
    codec: str,
    *,
    fps: Fraction,
    width: int,
    height: int,
    pix_fmt: str,
    time_base: Fraction,
    gop_size: int | None = None,
    sar: Fraction | None = None,
    rotation_deg: int = 0,
    options: Mapping[str, str] | None = None,
) -> VideoStream:
    """Add and configure a video stream; ``rotation_deg`` is clockwise (module convention)."""
    stream = container.add_stream(codec, rate=fps, options=dict(options or {}))
    assert isinstance(stream, VideoStream)
    stream.width = width
    stream.height = height
    stream.pix_fmt = pix_fmt
    stream.time_base = time_base
    ctx = stream.codec_context
    ctx.time_base = time_base
    ctx.thread_count = ENCODER_THREADS
    if gop_size is not None:
        ctx.gop_size = gop_size
    if sar is not None and sar != 1:
        ctx.sample_aspect_ratio = sar
    if rotation_deg:
        # PyAV's set_display_rotation takes the counter-clockwise angle (as frame.rotation
        # reports it); the written tkhd matrix is the phone-style one ({0,1,-1,0} for 90).
        stream.set_display_rotation(-rotation_deg)
    return stream


def mux_video(
    container: OutputContainer, packets: Sequence[av.Packet], gaps: Mapping[int, int] | None
) -> None:
    """Mux encoded video packets, giving each its frame's duration.

    libx264 leaves ``packet.duration`` at 0 even when ``frame.duration`` is set, so MP4 would
    guess the last frame's duration from the previous gap; setting it keeps the container
    duration exact. ``gaps`` maps a pts to its duration in the encoder time base; None means 1.
    """
    for packet in packets:
        if packet.pts is not None:
            packet.duration = 1 if gaps is None else gaps.get(packet.pts, 0)
        container.mux(packet)


def channel_layout(channels: int) -> str:
    layouts = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 8: "7.1"}
    if channels not in layouts:
        raise ValueError(f"unsupported channel count {channels}; use one of {sorted(layouts)}")
    return layouts[channels]


def add_audio_stream(
    container: OutputContainer, codec: str, rate: int, channels: int
) -> AudioStream:
    stream = container.add_stream(codec, rate=rate)
    assert isinstance(stream, AudioStream)
    stream.layout = channel_layout(channels)
    stream.time_base = Fraction(1, rate)
    if codec in ("aac", "wmav2"):  # wmav2 has no default bitrate: it does not open without
        stream.codec_context.bit_rate = 64_000 * channels
    return stream


CLICK_S = 0.01  # length of one click of ``ToneWriter(click_every_s=...)``


class ToneWriter:
    """Encode a sine tone (one pitch per channel) in pieces, so it interleaves with video.

    With ``click_every_s`` the tone sounds only for ``CLICK_S`` at every multiple of it and
    is silent between: clicks whose onsets mark known times, to check audio sync.
    """

    def __init__(
        self,
        container: OutputContainer,
        stream: AudioStream,
        rate: int,
        channels: int,
        click_every_s: float | None = None,
    ) -> None:
        self._container = container
        self._stream = stream
        self._rate = rate
        self._channels = channels
        self._layout = channel_layout(channels)
        self._written = 0
        self._click_every_s = click_every_s

    def write_until(self, seconds: float) -> None:
        """Encode samples up to ``seconds`` (rounded to a whole sample)."""
        end = round(seconds * self._rate)
        chunk = 1024
        while self._written < end:
            count = min(chunk, end - self._written)
            t = (np.arange(self._written, self._written + count) / self._rate)[np.newaxis, :]
            hz = np.array(TONE_HZ[: self._channels])[:, np.newaxis]
            samples = (0.2 * np.sin(2.0 * np.pi * hz * t)).astype(np.float32)
            if self._click_every_s:
                phase = np.mod(t[0], self._click_every_s)
                samples *= (phase < CLICK_S).astype(np.float32) * 2.5
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples), format="fltp", layout=self._layout
            )
            frame.sample_rate = self._rate
            frame.pts = self._written
            frame.time_base = Fraction(1, self._rate)
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
            self._written += count

    def finish(self, seconds: float) -> int:
        """Encode the rest up to ``seconds``, flush the encoder and return the sample count."""
        self.write_until(seconds)
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        return self._written


# Synthetic clips
