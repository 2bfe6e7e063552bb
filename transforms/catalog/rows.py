"""Catalog rows from what the stages found: pure functions (``BuildCatalogRows`` drives them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from transforms.catalog.fingerprints import StageFingerprints, source_fingerprint
from transforms.records import VideoMotion, VideoProbe
from transforms.schemas import AssetRow, SegmentRow, VideoRow
from transforms.version import PIPELINE_VERSION


def epoch_to_datetime(seconds: float | None) -> dt.datetime | None:
    """Seconds since the epoch as an aware UTC datetime (None stays None)."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def segment_rows(motion: VideoMotion) -> list[SegmentRow]:
    """One ``segments`` row per motion segment, indexed in time order."""
    return [
        SegmentRow(
            video_id=motion.video_id,
            segment_index=i,
            start_s=round(seg.start_s, 3),
            end_s=round(seg.end_s, 3),
            duration_s=round(seg.end_s - seg.start_s, 3),
            peak_score=round(seg.peak_score, 4),
            mean_score=round(seg.mean_score, 4),
            max_people=seg.max_people,
        )
        for i, seg in enumerate(motion.segments)
    ]


def video_row(
    probe: VideoProbe,
    indexed_at: dt.datetime,
    motion: VideoMotion | None = None,
    assets: Iterable[AssetRow] = (),
    decode_errors: dict[str, int] | None = None,
    fingerprints: StageFingerprints | None = None,
) -> VideoRow:
    """The ``videos`` row of one source from its probe, motion, rendered assets and damage.

    ``decode_errors`` is what decoding the whole source for its proxy concealed, per stream
    kind (``SourceDamage.counts``); None when it was not decoded whole. ``fingerprints``
    (the run's stage settings) are recorded on the row, beside the source's own, so that
    the next run can skip what has not changed.
    """
    by_type = {a.asset_type: a for a in assets}
    proxy = by_type.get("proxy")
    highlights = by_type.get("highlights")
    return VideoRow(
        video_id=probe.video_id,
        source_uri=probe.uri,
        file_name=probe.file_name,
        file_size_bytes=probe.file_size_bytes,
        source_mtime=epoch_to_datetime(probe.source_mtime),
        container=probe.container,
        duration_s=probe.duration_s,
        width=probe.width,
        height=probe.height,
        display_width=probe.display_width,
        display_height=probe.display_height,
        rotation_deg=probe.rotation_deg,
        sample_aspect_ratio=probe.sample_aspect_ratio,
        codec=probe.codec,
        pix_fmt=probe.pix_fmt,
        bitrate_kbps=probe.bitrate_kbps,
        fps=probe.fps,
        is_vfr=probe.is_vfr,
        frame_count=probe.frame_count,
        has_audio=probe.has_audio,
        audio_codec=probe.audio_codec,
        audio_channels=probe.audio_channels,
        audio_sample_rate=probe.audio_sample_rate,
        path_fields=probe.path_fields,
        segment_count=len(motion.segments) if motion else None,
        motion_s_total=(
            round(sum(s.end_s - s.start_s for s in motion.segments), 3) if motion else None
        ),
        failed_chunks=len(motion.failed_chunks) if motion else None,
        decode_errors=dict(decode_errors) if decode_errors is not None else None,
        proxy_uri=proxy.uri if proxy else None,
        proxy_size_bytes=proxy.size_bytes if proxy else None,
        highlights_uri=highlights.uri if highlights else None,
        highlights_duration_s=highlights.duration_s if highlights else None,
        scanned_at=dt.datetime.fromisoformat(probe.scanned_at),
        indexed_at=indexed_at,
        pipeline_version=PIPELINE_VERSION,
        source_fingerprint=source_fingerprint(probe.uri, probe.file_size_bytes, probe.source_mtime),
        detect_fingerprint=fingerprints.detect if fingerprints else None,
        segment_fingerprint=fingerprints.segment if fingerprints else None,
        render_fingerprint=fingerprints.render if fingerprints else None,
    )
