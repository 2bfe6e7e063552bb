"""Damaged packets concealed, not fatal: decoding that skips what does not decode and counts it.

The ffmpeg CLI reports a packet its decoder rejects, drops it and decodes on; the
decoder conceals what depends on it. Every decode loop of reelbeam does the same
through :func:`decode_packet` and :func:`decode_stream`, counting each rejected
packet (or demuxer read error) per stream kind in a :class:`DecodeErrors`. Video
keeps its timing because a frame lasts until the next one's timestamp; audio stays
in sync because samples are placed by their timestamps, a gap becoming silence
(``transforms.encoding.audio.AudioPlacer``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av

from transforms.errors import CorruptMediaError

KINDS = ("video", "audio")
"""Stream kinds whose damage is counted (the keys of ``decode_errors``)."""

NO_LIMIT = -1
"""``max_errors`` that never fails a file for its damage."""

DEFAULT_MAX_ERRORS = 1000
"""``--max_decode_errors``: damaged packets one decoding pass conceals before the file fails."""

_LOG = logging.getLogger(__name__)


def _concealable(exc: BaseException) -> bool:
    """Whether a decoder or demuxer error is damage in the data (not memory, not the end)."""
    return isinstance(exc, av.error.FFmpegError) and not isinstance(
        exc, (MemoryError, EOFError, BlockingIOError)
    )


class DecodeErrors:
    """Damaged packets met in one decoding pass, per stream kind, with a limit.

    Args:
        max_errors: More damaged packets than this (all kinds together) fail the pass with
            ``CorruptMediaError``; ``NO_LIMIT`` (-1) never does.
        source: Named in the log line and the error message.
    """

    def __init__(self, max_errors: int = NO_LIMIT, source: str = "") -> None:
        self.max_errors = max_errors
        self.source = source
        self.counts: dict[str, int] = dict.fromkeys(KINDS, 0)

    @property
    def total(self) -> int:
        """Damaged packets of every kind."""
        return sum(self.counts.values())

    def add(self, kind: str, exc: BaseException, time_s: float | None = None) -> None:
        """Count one damaged packet of ``kind`` (at source time ``time_s`` when known).

        Raises:
            CorruptMediaError: past ``max_errors``.
        """
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.counts[kind] == 1:
            where = f" at {time_s:.3f} s" if time_s is not None else ""
            _LOG.warning("%s: damaged %s packet%s concealed: %s", self.source, kind, where, exc)
        if self.max_errors >= 0 and self.total > self.max_errors:
            raise CorruptMediaError(
                f"more than {self.max_errors} damaged packets ({self.as_dict()}) in "
                f"{self.source or 'the source'} (--max_decode_errors)"
            ) from exc

    def merge(self, counts: dict[str, int]) -> None:
        """Add counts from another pass over a disjoint part of the same source."""
        for kind, n in counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + int(n)

    def as_dict(self) -> dict[str, int]:
        """``{"video": n, "audio": m}``, the ``decode_errors`` of a ``videos`` row."""
        return dict(self.counts)


@dataclass(frozen=True)
class SourceDamage:
    """The damage a source's full decode (its proxy and ladder) concealed, per stream kind.

    Attributes:
        video_id: The source's ``video_id``.
        counts: ``{"video": n, "audio": m}``: packets skipped, the ``videos.decode_errors``.
    """

    video_id: str
    counts: dict[str, int]


def _packet_time_s(packet: av.Packet) -> float | None:
    stamp = packet.pts if packet.pts is not None else packet.dts
    if stamp is None or packet.time_base is None:
        return None
    return float(stamp * Fraction(packet.time_base))


def decode_packet(packet: av.Packet, errors: DecodeErrors | None) -> list:
    """The frames of one packet; a packet its decoder rejects gives none and is counted.

    Without ``errors`` the decoder's error is raised as it is.
    """
    if errors is None:
        return list(packet.decode())
    try:
        return list(packet.decode())
    except Exception as exc:
        if not _concealable(exc):
            raise
        errors.add(packet.stream.type, exc, _packet_time_s(packet))
        return []


def demux_packets(
    container: av.container.InputContainer, streams: list, errors: DecodeErrors | None
) -> Iterator[av.Packet]:
    """Packets of ``streams`` in file order; a read error past the start ends them, counted.

    As in the ffmpeg CLI, a demuxer that cannot read on ends the input there (what was read
    stands); without ``errors``, or before any packet, the error is raised.
    """
    packets = container.demux(*streams)
    seen = False
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except Exception as exc:
            if errors is None or not seen or not _concealable(exc):
                raise
            errors.add(streams[0].type if streams else "video", exc)
            return
        seen = True
        yield packet


def decode_stream(
    container: av.container.InputContainer, stream, errors: DecodeErrors | None
) -> Iterator:
    """Decoded frames of one stream, damaged packets skipped and counted in ``errors``."""
    for packet in demux_packets(container, [stream], errors):
        yield from decode_packet(packet, errors)
