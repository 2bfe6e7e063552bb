"""What earlier runs left, read back as stage records: probes from rows, motion from ``motion.json``.

A rerun that only re-segments or re-renders takes the probe from the catalog's
``videos`` row and the per-sample scores from ``videos/<id>/motion.json`` instead of
decoding the source again. Pure: no Beam, no IO.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from transforms.motion import SegmentParams, find_segments
from transforms.records import FoundFile, VideoMotion, VideoProbe


def motion_from_document(
    doc: Mapping[str, Any], params: SegmentParams, uri: str = ""
) -> VideoMotion:
    """A ``VideoMotion`` from a ``motion.json`` document, with segments found anew.

    Args:
        doc: the parsed ``motion.json`` (``transforms.artifacts.motion_document``).
        params: the segment thresholds to find segments with.
        uri: the source's URI (``motion.json`` does not hold it).
    """
    times, scores, people = doc["times_s"], doc["scores"], doc["people"]
    return VideoMotion(
        video_id=doc["video_id"],
        uri=uri,
        times_s=tuple(times),
        scores=tuple(scores),
        people=tuple(people),
        segments=tuple(find_segments(times, scores, people, params, 1.0 / doc["pose_fps"])),
        chunk_count=doc["chunk_count"],
        failed_chunks=tuple(doc["failed_chunks"]),
        frames_gated=doc.get("frames_gated", 0),
        tracks=tuple(
            tuple((int(i), float(m)) for i, m in sample) for sample in doc.get("tracks", [])
        ),
        people_dropped=doc.get("people_dropped", 0),
    )


def _iso(value: Any) -> str:
    """A timestamp read back from NDJSON (ISO text) or BigQuery (datetime) as ISO text."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).isoformat()


def probe_from_row(row: Mapping[str, Any], found: FoundFile) -> VideoProbe:
    """The ``VideoProbe`` a ``videos`` row was built from, for a file found unchanged.

    Identity fields (URI, size, mtime, id, path fields) come from ``found``; stream
    fields from the row. Two probe fields are not in the catalog and only analysis
    reads them, which a restored probe never reaches: ``start_time_s`` (the first
    video timestamp, used to place analysis chunks) is 0 and ``frame_count_exact``
    is False.
    """
    return VideoProbe(
        uri=found.uri,
        video_id=found.video_id,
        path_fields=dict(found.path_fields),
        file_name=row["file_name"],
        file_size_bytes=found.size_bytes,
        source_mtime=found.mtime,
        container=row["container"],
        duration_s=float(row["duration_s"]),
        width=int(row["width"]),
        height=int(row["height"]),
        display_width=int(row["display_width"]),
        display_height=int(row["display_height"]),
        rotation_deg=int(row["rotation_deg"]),
        sample_aspect_ratio=row["sample_aspect_ratio"],
        codec=row["codec"],
        pix_fmt=row.get("pix_fmt"),
        bitrate_kbps=row.get("bitrate_kbps"),
        fps=float(row["fps"]),
        is_vfr=bool(row["is_vfr"]),
        frame_count=int(row["frame_count"]),
        frame_count_exact=False,
        has_audio=bool(row["has_audio"]),
        audio_codec=row.get("audio_codec"),
        audio_channels=row.get("audio_channels"),
        audio_sample_rate=row.get("audio_sample_rate"),
        start_time_s=0.0,
        scanned_at=_iso(row["scanned_at"]),
    )
