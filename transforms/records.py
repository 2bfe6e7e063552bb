"""Typed records that flow between the stages (not the catalog rows: see ``schemas``).

Times carry their unit in the name: ``_s`` is seconds from the start of the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FoundFile:
    """A video file that the find stage matched.

    Attributes:
        uri: absolute local path or ``gs://`` URI.
        size_bytes: size reported by the file system at match time.
        mtime: last modification time, seconds since the epoch (None when unknown).
        video_id: stable identifier from ``--video_id_template`` or a slug of the path.
        path_fields: named groups that ``--path_pattern`` read from the path.
    """

    uri: str
    size_bytes: int
    mtime: float | None
    video_id: str
    path_fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VideoProbe:
    """What probing one file found, without decoding more than its first frame.

    ``frame_count`` is exact when ``frame_count_exact`` (from the container's index,
    e.g. the MP4 ``stts``); otherwise it is estimated as ``duration_s * fps``.
    """

    uri: str
    video_id: str
    path_fields: dict[str, str]
    file_name: str
    file_size_bytes: int
    source_mtime: float | None
    container: str
    duration_s: float
    width: int
    height: int
    display_width: int
    display_height: int
    rotation_deg: int
    sample_aspect_ratio: str
    codec: str
    pix_fmt: str | None
    bitrate_kbps: float | None
    fps: float
    is_vfr: bool
    frame_count: int
    frame_count_exact: bool
    has_audio: bool
    audio_codec: str | None
    audio_channels: int | None
    audio_sample_rate: int | None
    start_time_s: float
    scanned_at: str


@dataclass(frozen=True)
class Segment:
    """A stretch of time in which people move."""

    start_s: float
    end_s: float
    peak_score: float
    mean_score: float
    max_people: int

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class VideoMotion:
    """Everything motion analysis knows of one video, after merging its chunks.

    Attributes:
        times_s, scores, people: one entry per analysed sample, in time order.
        segments: motion segments after gap closing and the minimum length.
        chunk_count: chunks the video was split into.
        failed_chunks: indexes of chunks whose decoding or analysis failed.
        frames_gated: samples the still-frame gate answered without running pose.
        tracks: per sample, ``(person id, motion score)`` of each person matched to
            their previous pose (empty when not recorded); ``scores`` is their maximum.
        people_dropped: detected people left without a pose by ``--max_people``.
    """

    video_id: str
    uri: str
    times_s: tuple[float, ...]
    scores: tuple[float, ...]
    people: tuple[int, ...]
    segments: tuple[Segment, ...]
    chunk_count: int
    failed_chunks: tuple[int, ...]
    frames_gated: int = 0
    tracks: tuple[tuple[tuple[int, float], ...], ...] = ()
    people_dropped: int = 0


@dataclass(frozen=True)
class Chunk:
    """One analysis chunk of a video.

    The chunk *owns* the samples whose time falls in ``[start_s, end_s)``; it decodes
    from ``start_s - overlap_s`` so that its first owned sample has a predecessor to
    score against and the pose tracker is warmed up. Owned ranges of a video's
    chunks tile it without overlap, so merging never counts a sample twice.
    """

    video_id: str
    uri: str
    index: int
    start_s: float
    end_s: float
    overlap_s: float
    chunk_count: int
    rotation_deg: int = 0
    sample_aspect_ratio: str = "1:1"
    stream_start_s: float = 0.0


@dataclass(frozen=True)
class ChunkMotion:
    """Samples a chunk analysed (owned ones only), or its failure (``failed``)."""

    video_id: str
    uri: str
    index: int
    chunk_count: int
    times_s: tuple[float, ...] = ()
    scores: tuple[float, ...] = ()
    people: tuple[int, ...] = ()
    frames_gated: int = 0
    failed: bool = False
    tracks: tuple[tuple[tuple[int, float], ...], ...] = ()
    people_dropped: int = 0
