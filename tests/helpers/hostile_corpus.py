"""A hostile-input corpus, generated (never committed): each file states what must happen.

MP4 damage is done by walking the real box tree (``moov/trak/mdia/...``) and changing
exactly the field named, so each case tests what it says.
"""

from __future__ import annotations

import os
import pathlib
import random
import shutil
import struct
from dataclasses import dataclass

import av

from tests.helpers.media import write_audio_only, write_garbage, write_synthetic_clip

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


def boxes(data: bytes | bytearray, start: int = 0, end: int | None = None):
    """(type, offset, size) of the MP4 boxes in ``data[start:end]``, depth first."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos, size
        if kind in _CONTAINERS:
            yield from boxes(data, pos + header, pos + size)
        elif kind == b"stsd":
            yield from boxes(data, pos + 16, pos + size)  # version/flags + entry count
        pos += size


def _box(data, kind: bytes) -> int:
    return next(off for k, off, _ in boxes(data) if k == kind)


def patch(src: pathlib.Path, dst: pathlib.Path, kind: bytes, field_offset: int, value: bytes):
    data = bytearray(src.read_bytes())
    off = _box(data, kind) + field_offset
    data[off : off + len(value)] = value
    dst.write_bytes(bytes(data))


def faststart_copy(src: pathlib.Path, dst: pathlib.Path) -> None:
    """Remux with the index (moov) before the media data, as web-ready files are."""
    with (
        av.open(str(src)) as inp,
        av.open(str(dst), "w", options={"movflags": "+faststart"}) as out,
    ):
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)


@dataclass(frozen=True)
class Case:
    """One hostile input and what must become of it.

    outcome: "catalogued" (a videos row), or "failed" (no videos row, one failure row at
    ``stage`` with ``error_type``), or "skipped" (never taken as an input).
    """

    name: str
    outcome: str
    stage: str | None = None
    error_type: str | None = None
    note: str = ""


def build(folder: pathlib.Path, good_source: pathlib.Path) -> list[Case]:
    """Write the corpus into ``folder``; returns each file's expected outcome."""
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "good.mp4"
    write_synthetic_clip(good, duration_s=6.0, fps=25, gop_size=25)
    fast = folder / "faststart.mp4"
    faststart_copy(good, fast)
    data = good.read_bytes()
    cases = [Case("good.mp4", "catalogued"), Case("faststart.mp4", "catalogued")]

    write_garbage(folder / "zero.mp4", "zero")
    cases.append(Case("zero.mp4", "failed", "probe", "EmptyFileError"))
    write_garbage(folder / "text.mp4", "text")
    cases.append(Case("text.mp4", "failed", "probe", "InvalidDataError"))
    write_garbage(folder / "image.mov", "png")
    cases.append(Case("image.mov", "failed", "probe", "NoVideoStreamError", "a still image"))
    for pct in (10, 50, 90):
        (folder / f"trunc{pct}.mp4").write_bytes(data[: len(data) * pct // 100])
        cases.append(
            Case(f"trunc{pct}.mp4", "failed", "probe", "InvalidDataError", "index (moov) lost")
        )
    fast_data = fast.read_bytes()
    (folder / "fast_trunc60.mp4").write_bytes(fast_data[: len(fast_data) * 60 // 100])
    cases.append(
        Case("fast_trunc60.mp4", "catalogued", note="index intact: good chunks kept, rest failed")
    )
    (folder / "nomoov.mp4").write_bytes(data[: _box(data, b"moov")])  # all but the index
    cases.append(Case("nomoov.mp4", "failed", "probe", "InvalidDataError"))
    corrupt = bytearray(data)
    mdat = _box(corrupt, b"mdat")
    rng = random.Random(3)
    middle = mdat + (len(corrupt) - mdat) // 2
    for i in range(middle, middle + 4000, 7):
        corrupt[i] = rng.randrange(256)
    (folder / "corrupt_packets.mp4").write_bytes(bytes(corrupt))
    cases.append(Case("corrupt_packets.mp4", "catalogued", note="decoder conceals damage"))
    write_audio_only(folder / "audio_only.mp4", 2.0)
    cases.append(Case("audio_only.mp4", "failed", "probe", "NoVideoStreamError"))
    # mdhd v0: version/flags(4) ctime(4) mtime(4) timescale(4) duration(4)
    patch(good, folder / "huge_duration.mp4", b"mdhd", 8 + 16, struct.pack(">I", 0xFFFFFFF0))
    cases.append(
        Case("huge_duration.mp4", "catalogued", note="header ignored: duration from the samples")
    )
    # mdhd timescale 1: 25 fps becomes 25 frames a tick, an absurd rate
    patch(good, folder / "absurd_fps.mp4", b"mdhd", 8 + 12, struct.pack(">I", 1))
    cases.append(Case("absurd_fps.mp4", "failed", "probe", "CorruptMediaError"))
    # the sample entry's fourcc: no decoder for it
    patch(good, folder / "unknown_codec.mp4", b"avc1", 4, b"zzzz")
    cases.append(Case("unknown_codec.mp4", "failed", "probe", "UnsupportedMediaError"))
    for name in ("name with spaces.mp4", 'quote\'s "and" <tags>.mp4', "ünïcødé 日本.mp4"):
        shutil.copy(good_source, folder / name)
        cases.append(Case(name, "catalogued"))
    shutil.copy(good, folder / "same_content_copy.mp4")
    cases.append(Case("same_content_copy.mp4", "catalogued", note="two names, two videos"))
    (folder / "upload.mp4.part").write_bytes(data[: len(data) // 2])
    cases.append(Case("upload.mp4.part", "skipped", note="still being written"))
    (folder / ".hidden.mp4").write_bytes(data)
    cases.append(Case(".hidden.mp4", "skipped"))
    loop = folder / "loop"
    os.symlink(folder, loop)
    if os.geteuid() != 0:
        locked = folder / "locked.mp4"
        shutil.copy(good, locked)
        locked.chmod(0)
        cases.append(Case("locked.mp4", "failed", "probe", "PermissionError"))
    return cases
