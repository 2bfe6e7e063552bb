"""A source whose picture and sound say the time, and the check that a cut keeps them in sync.

White frames with a 1 kHz tone in even seconds, black frames with silence in odd seconds:
an output is in sync when every frame's brightness matches its audio.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

FPS = 10
RATE = 48000


def write_flash_beep(path: Path, seconds: int = 8) -> None:
    """Write the flash-and-beep clip: H.264 160x120 at FPS, mono AAC at RATE."""
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        video.codec_context.time_base = Fraction(1, FPS)
        video.codec_context.gop_size = FPS * 2
        audio = container.add_stream("aac", rate=RATE)
        audio.layout = "mono"
        written = 0
        for i in range(seconds * FPS):
            on = (i // FPS) % 2 == 0
            picture = np.full((120 * 3 // 2, 160), 128, dtype=np.uint8)
            picture[:120] = 235 if on else 16
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            container.mux(video.encode(frame))
            end = (i + 1) * RATE // FPS
            t = np.arange(written, end) / RATE
            samples = (0.5 * np.sin(2 * np.pi * 1000 * t) * on).astype(np.float32)[np.newaxis]
            aframe = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            aframe.sample_rate, aframe.pts, aframe.time_base = RATE, written, Fraction(1, RATE)
            container.mux(audio.encode(aframe))
            written = end
        container.mux(video.encode(None))
        container.mux(audio.encode(None))


def assert_in_sync(path: str) -> int:
    """Every frame: bright iff its audio is loud. Returns the number of frames checked."""
    with av.open(path) as container:
        frames = [
            (float(f.pts * f.time_base), float(f.to_ndarray(format="gray").mean()))
            for f in container.decode(video=0)
        ]
    with av.open(path) as container:
        chunks = [(f.pts, f.to_ndarray()[0]) for f in container.decode(audio=0)]
    total = max(p + len(a) for p, a in chunks)
    sound = np.zeros(max(total, 1))
    for pts, samples in chunks:
        start = max(pts, 0)
        sound[start : pts + len(samples)] = samples[start - pts :]
    for index, (time, luma) in enumerate(frames):
        end = frames[index + 1][0] if index + 1 < len(frames) else time + 1 / FPS
        lo, hi = time + 0.25 * (end - time), time + 0.75 * (end - time)
        rms = float(np.sqrt(np.mean(sound[int(lo * RATE) : int(hi * RATE)] ** 2)))
        assert (luma > 128) == (rms > 0.1), f"out of sync at {time:.3f} s: luma {luma}, rms {rms}"
    return len(frames)
