"""Benchmark inputs, generated once and cached under ``<repo>/.bench/media`` (git-ignored).

Long inputs are made cheaply: an 8.4-second *base unit* is encoded once per size from the
real footage (``dance.mp4`` from ``tests.helpers.media``: a person dancing, 10 fps, each
frame shown three times at 30 fps), then looped by stream copy with shifted timestamps to
any length (a 1-hour 1080p file takes seconds and no encoding). The real clips are read in
place from their cache outside the repository.

A base unit is ``dance.mp4`` played forward then backward (no jump at the loop point),
scaled to the full 16:9 frame, so every pixel carries texture and motion as real footage
does (black bars would make encoding and decoding unrealistically cheap). It is H.264
High, CRF 20, one keyframe every 2 s (closed GOPs), like a camera file; no audio.

Every file is written under a temporary name and renamed into place, and its name carries
``RECIPE``, so a file that exists is complete and current. ``REELBEAM_BENCH_CACHE``
moves the cache elsewhere.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tests.helpers import media as sample_media

REPO_ROOT = Path(__file__).resolve().parents[1]
RECIPE = 2  # bump when a recipe below changes: cached files get new names
BASE_FPS = 30
BASE_GOP = 60  # frames: a keyframe every 2 s
BASE_CRF = 20
DANCE = sample_media.POSE_DANCE  # dance.mp4: 600x338, 10 fps, 4.2 s, one keyframe
DANCE_SMALL = sample_media.POSE_DANCE_SMALL  # dance_small.mp4: 320x180, 5 fps, 4.2 s

SIZES = {1080: (1920, 1080), 720: (1280, 720)}


def cache_dir() -> Path:
    """The cache folder (created): ``$REELBEAM_BENCH_CACHE`` or ``<repo>/.bench/media``."""
    folder = Path(os.environ.get("REELBEAM_BENCH_CACHE") or REPO_ROOT / ".bench" / "media")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shared_clip(name: str) -> Path:
    """A real clip made from the pinned footage, read in place (``tests.helpers.media.shared_media``)."""
    return sample_media.shared_media(name)


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` (same extension) and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# --------------------------------------------------------------------------------------------
# Base units (encoded once per size)
# --------------------------------------------------------------------------------------------


def _compose(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """One ``dance.mp4`` frame at ``width`` x ``height`` (RGB). The footage is close to 16:9
    (600x338), so scaling it fills the frame with real texture and motion, as camera files do."""
    return frame.reformat(width=width, height=height, format="rgb24").to_ndarray()


def base_unit(height: int) -> Path:
    """The 8.4-second base unit at ``height`` (1080 or 720): 16:9, 30 fps, H.264 High."""
    width, height = SIZES[height]
    path = cache_dir() / f"base_{height}p_r{RECIPE}.mp4"
    if path.is_file():
        return path
    with av.open(str(shared_clip(DANCE))) as container:
        source = list(container.decode(video=0))  # 42 frames at 10 fps
    source = [frame for frame in source for _ in range(BASE_FPS // 10)]  # real time at 30 fps
    order = source + source[::-1]  # forward, then backward: no jump at the loop point
    with _atomic(path) as tmp, av.open(str(tmp), mode="w") as out:
        stream = out.add_stream(
            "libx264",
            rate=BASE_FPS,
            options={
                "crf": str(BASE_CRF),
                "preset": "veryfast",
                "profile": "high",
                "x264-params": f"keyint={BASE_GOP}:min-keyint={BASE_GOP}:scenecut=0",
            },
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, BASE_FPS)
        for index, frame in enumerate(order):
            picture = av.VideoFrame.from_ndarray(_compose(frame, width, height), format="rgb24")
            picture.pts = index
            picture.time_base = Fraction(1, BASE_FPS)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    return path


# --------------------------------------------------------------------------------------------
# Looping by stream copy
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Packets:
    time_base: Fraction
    unit_ticks: int  # length of one loop of the source, in its ticks
    packets: list[tuple[bytes, int, int, bool, int]]  # data, pts, dts, keyframe, duration


def _read_packets(src: Path) -> _Packets:
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        packets = [
            (
                bytes(p),
                int(p.pts),
                int(p.dts if p.dts is not None else p.pts),
                p.is_keyframe,
                int(p.duration or 0),
            )
            for p in container.demux(stream)
            if p.size and p.pts is not None
        ]
        first = min(p[1] for p in packets)
        if stream.duration:
            unit = int(stream.duration)
        else:
            unit = max(p[1] + p[4] for p in packets) - first
        return _Packets(Fraction(stream.time_base), unit, packets)


def loop_copy(src: Path, dst: Path, duration_s: float) -> Path:
    """Loop ``src`` by stream copy into ``dst`` (any container) for about ``duration_s``.

    Each loop's timestamps are shifted by the source's length; the output stops at the
    first keyframe at or after ``duration_s`` (closed GOPs: nothing after it is referenced
    before it), so it lasts ``duration_s`` rounded up to a keyframe. Video only.
    """
    if dst.is_file():
        return dst
    source = _read_packets(src)
    limit = round(Fraction(duration_s) / source.time_base)
    loops = max(1, math.ceil(limit / source.unit_ticks))
    with _atomic(dst) as tmp, av.open(str(src)) as template_container:
        template = template_container.streams.video[0]
        with av.open(str(tmp), mode="w") as out:
            ostream = out.add_stream_from_template(template)
            ostream.time_base = source.time_base
            done = False
            for loop in range(loops):
                offset = loop * source.unit_ticks
                for data, pts, dts, keyframe, duration in source.packets:
                    if keyframe and pts + offset >= limit and (loop or pts):
                        done = True
                        break
                    packet = av.Packet(data)
                    packet.pts, packet.dts = pts + offset, dts + offset
                    packet.duration = duration
                    packet.is_keyframe = keyframe
                    packet.time_base = source.time_base
                    packet.stream = ostream
                    out.mux(packet)
                if done:
                    break
    return dst


def audio_source(duration_s: float) -> Path:
    """A ``duration_s`` long clip with a stereo 48 kHz track (and a tiny video) for the audio pass."""
    from tests.helpers.media.synthetic import write_synthetic_clip

    path = cache_dir() / f"audio_{int(duration_s)}s_r{RECIPE}.mp4"
    if not path.is_file():
        with _atomic(path) as tmp:
            write_synthetic_clip(
                tmp, duration_s=duration_s, fps=5, width=160, height=96, audio=True
            )
    return path


def looped_source(height: int, duration_s: float) -> Path:
    """A ``duration_s`` long 16:9 30 fps source at ``height`` (1080 or 720), looped."""
    name = f"dance_{height}p_{int(duration_s)}s_r{RECIPE}.mp4"
    return loop_copy(base_unit(height), cache_dir() / name, duration_s)


# --------------------------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------------------------


def probe_corpus(count: int) -> list[Path]:
    """``count`` small real files to probe: both shared clips, looped 1-3 times, as MP4,
    MOV and MKV (stream copies, a few hundred KB each)."""
    folder = cache_dir() / f"probe_r{RECIPE}"
    clips = [shared_clip(DANCE), shared_clip(DANCE_SMALL)]
    exts = ("mp4", "mov", "mkv")
    paths = []
    for index in range(count):
        clip = clips[index % 2]
        loops = 1 + (index // 2) % 3
        ext = exts[(index // 6) % 3]
        length = 4.2
        dst = folder / f"{index:04d}_{clip.stem}_x{loops}.{ext}"
        paths.append(loop_copy(clip, dst, length * loops))
    return paths


QUICK_SAMPLE = (
    "dance/day1/cam1.mp4",  # 600x338 10 fps, 8.2 s, a person moving in [2, 6.2) s
    "synthetic/day1/rotated_phone.mp4",  # stored 320x180 rotated 90 degrees, 4 s, AAC tone
)


def _link(src: Path, dst: Path) -> None:
    if dst.is_file():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # another file system: copy
        shutil.copyfile(src, dst)


def mixed_corpus(suite: str) -> Path:
    """A folder of mixed inputs for the end-to-end run (hard links into the cache).

    ``quick``: 2 files of the ``make run`` sample (``tests.helpers.media.build_sample``),
    12 s in all: a 10 fps clip with a person and a rotated phone clip with audio. ``full``: all 4 sample files (29 s), a 2-minute 720p30 source (longer
    than the run's ``--render_chunk_s``, so it takes the chunk-parallel render path) and a
    1-minute 1080p30 source.
    """
    sample = cache_dir() / f"sample_r{RECIPE}"
    built = sample_media.build_sample(sample)
    folder = cache_dir() / f"corpus_{suite}_r{RECIPE}"
    for path in built:
        rel = path.relative_to(sample)
        if suite == "full" or rel.as_posix() in QUICK_SAMPLE:
            _link(path, folder / "sample" / rel)
    if suite == "full":
        for height, seconds in ((720, 120), (1080, 60)):
            _link(
                looped_source(height, seconds), folder / "long" / f"dance_{height}p_{seconds}s.mp4"
            )
    return folder


def media_seconds(path: Path) -> float:
    """Video duration of a file in seconds (from its container)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.duration:
            return float(stream.duration * stream.time_base)
        return (container.duration or 0) / av.time_base
