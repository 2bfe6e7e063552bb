"""Pictures: rotate upright, deinterlace, scale to square pixels and convert, in one filter graph."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import av
from av.video.frame import VideoFrame


def _rotation_filters(rotation_deg: int) -> list[tuple[str, str | None]]:
    return {
        0: [],
        90: [("transpose", "clock")],
        180: [("hflip", None), ("vflip", None)],
        270: [("transpose", "cclock")],
    }[rotation_deg % 360]


_RANGES = {1: "tv", 2: "pc"}  # AVCOL_RANGE_MPEG, AVCOL_RANGE_JPEG
_MATRICES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020"}


_UNSPECIFIED = 2  # AVCOL_SPC/PRI/TRC_UNSPECIFIED
_BT709 = 1
_SMPTE170M = 6  # BT.601 525-line (also the usual tag for 625-line SD)


def color_tags(frame: VideoFrame) -> dict[str, int]:
    """Colour tags for the output: the source's, or the usual ones for its size when untagged.

    Scaling keeps the YUV matrix, so the output must say which one the source used; an
    untagged output would be read as BT.601 when small and BT.709 when HD, shifting colours
    whenever a rung crosses that line. Untagged sources are taken as BT.709 from 720 lines
    up and BT.601 below, as players do.
    """
    default = _BT709 if min(frame.width, frame.height) >= 720 or frame.width >= 1280 else _SMPTE170M
    tags = {}
    for name in ("colorspace", "color_primaries", "color_trc"):
        value = int(getattr(frame, name) or _UNSPECIFIED)
        tags[name] = default if value in (0, _UNSPECIFIED) else value
    if frame.color_range:
        tags["color_range"] = int(frame.color_range)
    return tags


def _scale_colour_args(frame: VideoFrame, pix_fmt: str) -> str:
    """libswscale range/matrix options: YUV output keeps the source's; RGB converts from it."""
    args = ""
    value_range = _RANGES.get(int(frame.color_range or 0))
    if value_range:
        args += f":in_range={value_range}"
        if pix_fmt.startswith("yuv"):
            args += f":out_range={value_range}"
    if not pix_fmt.startswith("yuv"):
        matrix = _MATRICES.get(color_tags(frame)["colorspace"])
        if matrix:
            args += f":in_color_matrix={matrix}"
    return args


class FramePipe:
    """Rotate decoded frames upright and scale them to one or more sizes in one filter graph.

    ``buffer -> [bwdif] -> [transpose|hflip,vflip] -> split -> scale,format,setsar=1 ->
    buffersink`` per output, all in libavfilter/libswscale (no numpy). The graph is rebuilt if
    the decoded frame size or pixel format changes mid-stream. Output frames keep the pts of
    the frame they come from; with ``deinterlace`` they come one frame late (bwdif looks
    ahead), and :meth:`flush` returns the last.

    Args:
        rotation_deg: Clockwise rotation to apply (0, 90, 180, 270).
        sizes: Output ``(width, height)`` per output, in pixels.
        pix_fmt: Output pixel format (``yuv420p`` for H.264, ``rgb24`` for images).
        time_base: Time base of the frames' ``pts``.
        deinterlace: Deinterlace frames flagged interlaced (bwdif, one frame per frame).
    """

    def __init__(
        self,
        rotation_deg: int,
        sizes: Sequence[tuple[int, int]],
        pix_fmt: str,
        time_base: Fraction,
        deinterlace: bool = False,
    ) -> None:
        self._deinterlace = deinterlace
        self._rotation = rotation_deg % 360
        self._sizes = list(sizes)
        self._pix_fmt = pix_fmt
        self._time_base = time_base
        self._key: tuple[int, int, str] | None = None
        self._graph: av.filter.Graph | None = None  # the contexts need it alive
        self._source: Any = None
        self._sinks: list[Any] = []

    def _build(self, frame: VideoFrame) -> None:
        graph = av.filter.Graph()
        source = graph.add_buffer(
            width=frame.width,
            height=frame.height,
            format=frame.format.name,
            time_base=self._time_base,
        )
        last = source
        steps = _rotation_filters(self._rotation)
        if self._deinterlace:
            steps = [("bwdif", "mode=send_frame:parity=auto:deint=interlaced"), *steps]
        for name, args in steps:
            node = graph.add(name, args)
            last.link_to(node)
            last = node
        if len(self._sizes) > 1:
            split = graph.add("split", str(len(self._sizes)))
            last.link_to(split)
        sinks = []
        scale_args = _scale_colour_args(frame, self._pix_fmt)
        for index, (width, height) in enumerate(self._sizes):
            scale = graph.add("scale", f"{width}:{height}:flags=bicubic{scale_args}")
            if len(self._sizes) > 1:
                split.link_to(scale, output_idx=index)
            else:
                last.link_to(scale)
            fmt = graph.add("format", self._pix_fmt)
            scale.link_to(fmt)
            setsar = graph.add("setsar", "1")
            fmt.link_to(setsar)
            sink = graph.add("buffersink")
            setsar.link_to(sink)
            sinks.append(sink)
        graph.configure()
        self._graph, self._source, self._sinks = graph, source, sinks
        self._key = (frame.width, frame.height, frame.format.name)

    def _drain(self) -> list[list[VideoFrame]]:
        out: list[list[VideoFrame]] = []
        for sink in self._sinks:
            frames: list[VideoFrame] = []
            while True:
                try:
                    frame = sink.pull()
                except (BlockingIOError, EOFError):
                    break
                out_tb = Fraction(frame.time_base) if frame.time_base else self._time_base
                if out_tb != self._time_base and frame.pts is not None:
                    # bwdif halves the time base; give the frame back its input timestamp.
                    frame.pts = round(frame.pts * out_tb / self._time_base)
                    frame.time_base = self._time_base
                frames.append(frame)
            out.append(frames)
        return out

    def process(self, frame: VideoFrame) -> list[list[VideoFrame]]:
        """Push one frame; returns, per output, the frames ready (one each, in practice)."""
        key = (frame.width, frame.height, frame.format.name)
        pending: list[list[VideoFrame]] | None = None
        if self._key != key:
            if self._source is not None:
                pending = self.flush()
            self._build(frame)
        self._source.push(frame)
        ready = self._drain()
        if pending:
            ready = [a + b for a, b in zip(pending, ready, strict=True)]
        return ready

    def flush(self) -> list[list[VideoFrame]]:
        """Signal the end of input and return what is left, per output."""
        if self._source is None:
            return [[] for _ in self._sizes]
        self._source.push(None)
        out = self._drain()
        self._graph, self._source, self._sinks, self._key = None, None, [], None
        return out
