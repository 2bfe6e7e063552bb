"""The decode-once core: one source decoded once, encoded to every output, optionally cut.

Every output is an MP4 with H.264 High profile video in ``yuv420p`` and, when the source
has audio and it is wanted, AAC audio. Pictures come out upright (a phone's display
rotation is applied to the pixels and no display matrix is written), with square pixels
(anamorphic sources are scaled to their display aspect), deinterlaced when the source is
interlaced, and tagged with the source's YUV matrix (or the one players assume for its
size). Frame timestamps are carried over from the source in its own time base, so
variable-frame-rate video keeps its timing, and audio samples are placed by their
timestamps, so audio stays in sync, also across cuts.

Times are seconds from the start of the source's video stream (``stream.start_time``),
the same origin that the probe and the motion segments use. Ranges are half-open: a
frame belongs to ``[start_s, end_s)`` when its timestamp does. Each output file appears
complete or not at all (``transforms.io.atomic.local_target``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from fractions import Fraction

from av.video.frame import VideoFrame

from transforms.encoding.audio import AUDIO_LAG_S, AudioPlacer, PulledAudio, audio_frames_from
from transforms.encoding.filters import FramePipe, color_tags
from transforms.encoding.mux import EncoderOutput, RenditionInfo, rendition_info
from transforms.encoding.settings import EncodeSettings
from transforms.errors import CorruptMediaError
from transforms.io.atomic import local_target
from transforms.media.damage import DecodeErrors
from transforms.media.geometry import frame_rotation_deg, stream_sar, target_size
from transforms.media.open import open_input
from transforms.media.reader import VideoReader
from transforms.media.streams import pick_audio_stream, pick_video_stream
from transforms.media.timebase import tick_ceil

Window = tuple[float, float | None]
"""``(start_s, end_s)`` of source time; ``end_s`` None: to the end."""


@dataclasses.dataclass(frozen=True)
class _Geometry:
    width: int
    height: int
    sample_aspect_ratio: Fraction
    rotation_deg: int


def _encode_ready(
    ready: Sequence[list[VideoFrame]],
    heights: Sequence[int],
    encs: Mapping[int, EncoderOutput],
    durations: dict[int, int],
) -> None:
    """Encode the frames the filter graph let out, each with its source frame's duration."""
    done: list[int] = []
    for height, frames in zip(heights, ready, strict=True):
        for frame in frames:
            pts = int(frame.pts)
            encs[height].encode_video(frame, durations[pts])
            done.append(pts)
    for pts in set(done):
        del durations[pts]


def transcode(
    src: str,
    outputs: Mapping[int, str],
    settings: EncodeSettings,
    windows: Sequence[Window] | None,
    *,
    with_audio: bool,
    faststart: bool,
    errors: DecodeErrors | None = None,
) -> dict[int, RenditionInfo]:
    """Decode ``src`` once and encode every output (rung height -> local path) from it.

    ``windows`` None means the whole file, with audio demuxed in the same pass. Otherwise the
    windows' frames are laid end to end on the output timeline (frame-exact cuts), and each
    window's audio is read through a second handle on the source, just behind the video.

    Args:
        src: Source video, local path or ``gs://`` URI.
        outputs: Rung height in pixels -> local output path.
        settings: Encoding settings.
        windows: Source time ranges to lay end to end; None: the whole file.
        with_audio: Encode the source's audio too (when it has some).
        faststart: Write ``moov`` before ``mdat`` (``movflags=+faststart``).
        errors: Where damaged packets (skipped, as the ffmpeg CLI conceals them) are counted,
            with the limit past which the source fails; None: counted nowhere, no limit.

    Returns:
        Rung height -> what was written.

    Raises:
        NoVideoStreamError, CorruptMediaError: the source has no (decodable) video in range,
            or more damaged packets than ``errors`` allows.
        av.error.FFmpegError: encoding failed.
    """
    if not outputs:
        raise ValueError("no outputs to render")
    errors = errors if errors is not None else DecodeErrors(source=src)
    heights = list(outputs)
    with open_input(src) as container:
        vstream = pick_video_stream(container)
        vstream.thread_type = "AUTO"
        astream = pick_audio_stream(container) if with_audio else None
        sar = stream_sar(vstream)
        spans: list[Window] = [(0.0, None)] if windows is None else list(windows)

        with contextlib.ExitStack() as stack:
            parts = {h: stack.enter_context(local_target(outputs[h])) for h in heights}
            encs: dict[int, EncoderOutput] = {}
            try:
                placer: AudioPlacer | None = None
                audio_source = None  # (container, stream) read separately for cuts
                if astream is not None:
                    origin_s = Fraction(vstream.start_time or 0) * Fraction(vstream.time_base)
                    sinks = [lambda f, h=h: encs[h].encode_audio(f) for h in heights]
                    placer = AudioPlacer(astream, origin_s, sinks)
                    if windows is not None:
                        other = stack.enter_context(open_input(src))
                        audio_source = (other, pick_audio_stream(other))
                in_pass = placer is not None and windows is None
                reader = VideoReader(
                    container,
                    vstream,
                    audio=astream if in_pass else None,
                    on_audio=placer.feed if in_pass and placer is not None else None,
                    errors=errors,
                )
                tb = reader.time_base
                pipe: FramePipe | None = None
                out_tick = 0  # where the current window starts on the output timeline
                durations: dict[int, int] = {}  # output pts -> duration, until encoded
                for start_s, end_s in spans:
                    start = tick_ceil(start_s, tb)
                    end = None if end_s is None else tick_ceil(end_s, tb)
                    first: int | None = None
                    last_end = 0
                    pulled: PulledAudio | None = None
                    for rel, duration, frame in reader.window(start, end):
                        if pipe is None:
                            rotation = frame_rotation_deg(frame)
                            geometry = _Geometry(frame.width, frame.height, sar, rotation)
                            sizes = [target_size(geometry, h) for h in heights]
                            interlaced = bool(frame.interlaced_frame)
                            pipe = FramePipe(rotation, sizes, "yuv420p", tb, interlaced)
                            audio_spec = (placer.rate, placer.layout) if placer else None
                            colors = color_tags(frame)
                            for h, size in zip(heights, sizes, strict=True):
                                encs[h] = EncoderOutput(
                                    parts[h],
                                    size,
                                    settings,
                                    tb,
                                    reader.rate,
                                    audio_spec,
                                    faststart,
                                    colors,
                                )
                        if first is None:
                            first = rel
                            if placer is not None:
                                audio_end = placer.source_end_s if windows is None else None
                                placer.begin(rel * tb, out_tick * tb, audio_end)
                            if placer is not None and audio_source is not None:
                                other, other_stream = audio_source
                                assert other_stream is not None
                                frames = audio_frames_from(
                                    other, other_stream, rel * tb, placer.origin_s, errors
                                )
                                pulled = PulledAudio(placer, frames)
                        frame.pts = out_tick + rel - first
                        durations[frame.pts] = duration
                        _encode_ready(pipe.process(frame), heights, encs, durations)
                        last_end = rel + duration
                        if pulled is not None:
                            pulled.advance(rel * tb - AUDIO_LAG_S)
                    if first is None:
                        continue  # nothing of the source in this window
                    if pulled is not None and placer is not None:
                        placer.limit(last_end * tb)
                        pulled.advance(last_end * tb)
                    if placer is not None:
                        # A cut's audio ends with its video; the whole file keeps all audio.
                        placer.end(last_end * tb if windows is not None else None)
                    out_tick += last_end - first
                if pipe is None:
                    raise CorruptMediaError(f"no video frames to encode in {src} {spans}")
                _encode_ready(pipe.flush(), heights, encs, durations)
                for enc in encs.values():
                    enc.finish()
            except BaseException:
                for enc in encs.values():
                    enc.abort()
                raise
        duration_s = float(out_tick * tb)
        return {
            h: rendition_info(outputs[h], encs[h].size, encs[h].frames, duration_s) for h in heights
        }
