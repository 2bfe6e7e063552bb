"""Encoder settings and the two H.264 encoders behind one interface (libx264, NVENC)."""

from __future__ import annotations

import dataclasses
import functools
from fractions import Fraction

import av
import numpy as np
from av.video.frame import VideoFrame

ENCODERS = ("libx264", "h264_nvenc")
"""Video encoders an :class:`EncodeSettings` may name."""

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
# x264 preset -> NVENC preset (p1 fastest .. p7 best), at about the same speed/quality rank.
_NVENC_PRESETS = {
    "ultrafast": "p1",
    "superfast": "p1",
    "veryfast": "p2",
    "faster": "p3",
    "fast": "p4",
    "medium": "p5",
    "slow": "p6",
    "slower": "p7",
    "veryslow": "p7",
    "placebo": "p7",
}


DEFAULT_THREADS = 4
"""Encoder threads when ``EncodeSettings.threads`` is 0: fixed, so output is machine-independent."""


@dataclasses.dataclass(frozen=True)
class EncodeSettings:
    """How to encode video and audio.

    Attributes:
        crf: Constant rate factor, 0 (lossless) to 51 (worst); 23 is x264's default. With
            NVENC it becomes the constant-quality target ``-cq``.
        preset: x264 speed preset (``ultrafast`` ... ``placebo``); mapped to NVENC's
            ``p1`` ... ``p7``. NVENC presets (``p1`` ... ``p7``) are accepted as they are.
        encoder: ``libx264`` (CPU) or ``h264_nvenc`` (NVIDIA GPU).
        audio_bitrate: AAC bitrate in bit/s for the whole stream (all channels).
        threads: Encoder threads; 0 takes ``DEFAULT_THREADS``. Never the machine's core
            count: x264's frame threads shape its output, and the same source and settings
            must give the same bytes on any worker.
    """

    crf: int = 23
    preset: str = "fast"
    encoder: str = "libx264"
    audio_bitrate: int = 128000
    threads: int = 0

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {self.encoder!r}")
        if not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {self.crf}")
        nvenc_names = set(_NVENC_PRESETS.values())
        if self.preset not in X264_PRESETS and not (
            self.encoder == "h264_nvenc" and self.preset in nvenc_names
        ):
            raise ValueError(
                f"unknown preset {self.preset!r}; use one of {', '.join(X264_PRESETS)}"
            )
        if self.audio_bitrate <= 0:
            raise ValueError(f"audio_bitrate must be positive, got {self.audio_bitrate}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0, got {self.threads}")


def video_encoder_options(settings: EncodeSettings) -> tuple[str, dict[str, str]]:
    """The encoder name and its options for ``settings``: one interface, two implementations.

    libx264 gets ``crf``/``preset`` as they are, High profile (``8x8dct``, so even
    ``ultrafast`` is High), ``stitchable=1`` (headers do not depend on the content, so
    separately encoded chunks share one SPS/PPS and can be joined) and ``mbtree=0``: with the
    macroblock tree on, this x264 gave different bytes for the same frames from one encode to
    the next (e.g. a 426x240 rung, one run in three), and artifacts must be byte-identical
    across runs; CRF rate control without it costs some bitrate on still footage. h264_nvenc gets the equivalent constant-quality VBR: ``rc=vbr``, ``cq=<crf>``,
    ``b=0`` (no bitrate cap) and a ``p1``..``p7`` preset ranked like the x264 one.

    Args:
        settings: Encoding settings.

    Returns:
        ``(codec_name, options)`` for ``OutputContainer.add_stream``.
    """
    if settings.encoder == "h264_nvenc":
        preset = _NVENC_PRESETS.get(settings.preset, settings.preset)
        return "h264_nvenc", {
            "preset": preset,
            "tune": "hq",
            "rc": "vbr",
            "cq": str(settings.crf),
            "b": "0",
            "profile": "high",
            "forced-idr": "1",
        }
    return "libx264", {
        "crf": str(settings.crf),
        "preset": settings.preset,
        "profile": "high",
        # 8x8dct keeps the High profile with ``ultrafast`` (which turns it off and would
        # give Constrained Baseline); the other presets have it on anyway.
        "x264-params": "stitchable=1:8x8dct=1:mbtree=0",
    }


@functools.lru_cache(maxsize=1)
def nvenc_available() -> bool:
    """Whether an NVIDIA H.264 encoder works here: encodes one tiny frame with h264_nvenc.

    Returns:
        True when the encoder opened and produced a packet; False where the FFmpeg build
        lacks it or there is no NVIDIA GPU with encoders (no driver, H100/A100, CPU-only).
    """
    if "h264_nvenc" not in av.codecs_available:
        return False
    try:
        ctx = av.CodecContext.create("h264_nvenc", "w")
        ctx.width, ctx.height = 256, 256
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = Fraction(1, 25)
        ctx.framerate = Fraction(25)
        frame = VideoFrame.from_ndarray(np.full((384, 256), 128, dtype=np.uint8), "yuv420p")
        frame.pts = 0
        packets = list(ctx.encode(frame)) + list(ctx.encode(None))
        return bool(packets)
    except Exception:  # any failure to open or encode means "not available"
        return False
