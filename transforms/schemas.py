"""The four catalog tables, defined once.

Each table is one pydantic model. The local NDJSON files, the BigQuery tables and
``schemas/*.json`` (checked in, kept in sync by a test) all come from these models.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class CatalogRow(BaseModel):
    """Base of all catalog rows: strict fields, key columns named per table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    TABLE: ClassVar[str]
    KEY: ClassVar[tuple[str, ...]]

    def key(self) -> tuple:
        """The row's primary key, as a tuple that sorts (None sorts first)."""
        return tuple(_sortable(getattr(self, name)) for name in self.KEY)

    def to_json(self) -> str:
        """One NDJSON line, fields in schema order, that BigQuery loads as it is."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def _sortable(value: Any) -> tuple:
    return (value is not None, value if value is not None else 0)


class VideoRow(CatalogRow):
    """One row per video (key: ``video_id``)."""

    TABLE: ClassVar[str] = "videos"
    KEY: ClassVar[tuple[str, ...]] = ("video_id",)

    video_id: str = Field(description="Stable id from --video_id_template or a slug of the path.")
    source_uri: str = Field(description="Absolute path or gs:// URI of the source.")
    file_name: str = Field(description="Base name of the source file.")
    file_size_bytes: int = Field(description="Size of the source in bytes.")
    source_mtime: dt.datetime | None = Field(description="Last modification time of the source.")
    container: str = Field(description="Container format as FFmpeg names it (e.g. mov,mp4,...).")
    duration_s: float = Field(description="Duration of the video stream in seconds.")
    width: int = Field(description="Coded width in pixels.")
    height: int = Field(description="Coded height in pixels.")
    display_width: int = Field(
        description="Width as shown: after sample aspect ratio and rotation."
    )
    display_height: int = Field(
        description="Height as shown: after sample aspect ratio and rotation."
    )
    rotation_deg: int = Field(
        description="Clockwise rotation a player applies to show it upright (0, 90, 180, 270), "
        "from the display matrix; the legacy 'rotate' tag convention."
    )
    sample_aspect_ratio: str = Field(description="Pixel aspect ratio as 'num:den' (1:1 = square).")
    codec: str = Field(description="Video codec name (e.g. h264, hevc, prores).")
    pix_fmt: str | None = Field(description="Pixel format (e.g. yuv420p, yuv422p10le).")
    bitrate_kbps: float | None = Field(
        description="Video bitrate in kbit/s (container's if unknown)."
    )
    fps: float = Field(description="Average frame rate (frames / duration).")
    is_vfr: bool = Field(description="True when frame intervals vary (variable frame rate).")
    frame_count: int = Field(
        description="Video frames: exact from the container index (MP4/MOV), "
        "else estimated as duration_s * fps."
    )
    has_audio: bool = Field(description="True when the source has an audio stream.")
    audio_codec: str | None = Field(description="Audio codec of the first audio stream.")
    audio_channels: int | None = Field(description="Audio channel count.")
    audio_sample_rate: int | None = Field(description="Audio sample rate in Hz.")
    path_fields: dict[str, str] = Field(
        description="Named groups --path_pattern read from the path."
    )
    segment_count: int | None = Field(description="Motion segments found (None when not analysed).")
    motion_s_total: float | None = Field(description="Seconds covered by motion segments.")
    failed_chunks: int | None = Field(description="Analysis chunks that failed (see failures).")
    decode_errors: dict[str, int] | None = Field(
        default=None,
        description="Damaged packets skipped and concealed while decoding the whole source "
        "for its proxy, per stream kind ({'video': n, 'audio': m}); None when not rendered.",
    )
    proxy_uri: str | None = Field(description="URI of the 720p proxy, when rendered.")
    proxy_size_bytes: int | None = Field(description="Size of the proxy in bytes.")
    highlights_uri: str | None = Field(description="URI of the highlight reel (None: no segments).")
    highlights_duration_s: float | None = Field(description="Duration of the highlight reel.")
    scanned_at: dt.datetime = Field(description="When the source was probed.")
    indexed_at: dt.datetime = Field(description="When this row was written.")
    pipeline_version: str = Field(description="reelbeam version that wrote the row.")
    source_fingerprint: str | None = Field(
        default=None, description="Identity of the source read (URI, size, mtime or generation)."
    )
    detect_fingerprint: str | None = Field(
        default=None, description="Detect settings the motion was found with (model, pose_fps)."
    )
    segment_fingerprint: str | None = Field(
        default=None, description="Segment thresholds the segments were found with."
    )
    render_fingerprint: str | None = Field(
        default=None, description="Render settings the artifacts were made with."
    )


class SegmentRow(CatalogRow):
    """One row per motion segment (key: ``video_id``, ``segment_index``)."""

    TABLE: ClassVar[str] = "segments"
    KEY: ClassVar[tuple[str, ...]] = ("video_id", "segment_index")

    video_id: str = Field(description="Video the segment belongs to.")
    segment_index: int = Field(description="0-based index in time order.")
    start_s: float = Field(description="Start, seconds from the start of the source.")
    end_s: float = Field(description="End, seconds from the start of the source.")
    duration_s: float = Field(description="end_s - start_s.")
    peak_score: float = Field(description="Highest motion score in the segment.")
    mean_score: float = Field(description="Mean motion score over the segment's samples.")
    max_people: int = Field(description="Most people detected in one sampled frame.")


class AssetRow(CatalogRow):
    """One row per artifact (key: ``video_id``, ``asset_type``, ``uri``)."""

    TABLE: ClassVar[str] = "assets"
    KEY: ClassVar[tuple[str, ...]] = ("video_id", "asset_type", "uri")

    video_id: str = Field(description="Video the artifact was made from.")
    asset_type: str = Field(
        description="proxy, rendition, thumbnail, preview, highlights, timeline or motion."
    )
    uri: str = Field(description="Where the artifact is.")
    width: int | None = Field(description="Width in pixels (images and video).")
    height: int | None = Field(description="Height in pixels (images and video).")
    duration_s: float | None = Field(description="Duration in seconds (video and animations).")
    bitrate_kbps: float | None = Field(description="Overall bitrate in kbit/s (video).")
    size_bytes: int = Field(description="Size in bytes.")
    md5: str = Field(description="Hex MD5 of the bytes.")
    codec: str | None = Field(description="Video codec or image format.")


class FailureRow(CatalogRow):
    """One row per failure (key: ``input_uri``, ``stage``, ``chunk_index``, ``artifact``)."""

    TABLE: ClassVar[str] = "failures"
    KEY: ClassVar[tuple[str, ...]] = ("input_uri", "stage", "chunk_index", "artifact")

    input_uri: str = Field(description="The input that failed.")
    video_id: str | None = Field(description="Its video_id, if known.")
    stage: str = Field(description="find, probe, detect, merge, render or write.")
    error_type: str = Field(description="Error class (e.g. CorruptMediaError).")
    message: str = Field(description="What went wrong, in one line.")
    permanent: bool = Field(description="False when a retry may succeed.")
    chunk_index: int | None = Field(description="Analysis chunk, for per-chunk failures.")
    artifact: str | None = Field(
        default=None, description="Render failures: the artifact kind (e.g. ladder, preview)."
    )
    failed_at: dt.datetime = Field(description="When it failed.")
    pipeline_version: str = Field(description="reelbeam version that wrote the row.")


TABLES: dict[str, type[CatalogRow]] = {
    model.TABLE: model for model in (VideoRow, SegmentRow, AssetRow, FailureRow)
}

_BQ_TYPES: dict[Any, str] = {
    str: "STRING",
    int: "INTEGER",
    float: "FLOAT",
    bool: "BOOLEAN",
    dt.datetime: "TIMESTAMP",
    dict: "JSON",
}


def _bq_type(annotation: Any) -> tuple[str, str]:
    mode = "REQUIRED"
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        mode = "NULLABLE"
        (annotation,) = [a for a in args if a is not type(None)]
    base = typing.get_origin(annotation) or annotation
    return _BQ_TYPES[base], mode


def bigquery_schema(model: type[CatalogRow]) -> list[dict[str, str]]:
    """The BigQuery JSON schema of one table, generated from its model.

    Args:
        model: one of the row classes in ``TABLES``.

    Returns:
        A list of ``{name, type, mode, description}`` in field order, the format
        ``bq mk --schema`` and the BigQuery client both accept.
    """
    fields = []
    for name, info in model.model_fields.items():
        bq_type, mode = _bq_type(info.annotation)
        if bq_type == "JSON":
            mode = "NULLABLE"  # BigQuery JSON columns cannot be REQUIRED
        fields.append(
            {"name": name, "type": bq_type, "mode": mode, "description": info.description or ""}
        )
    return fields


def render_schema_files() -> dict[str, str]:
    """Text of ``schemas/<table>.json`` for every table (what ``make schemas`` writes)."""
    return {
        f"{table}.json": json.dumps(bigquery_schema(model), indent=2) + "\n"
        for table, model in TABLES.items()
    }
