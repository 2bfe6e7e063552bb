"""Building catalog rows from what the stages found (pure functions), and their composite."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import apache_beam as beam

from transforms.io.deadletter import Clock, utc_now
from transforms.records import VideoMotion, VideoProbe
from transforms.schemas import AssetRow, CatalogRow, SegmentRow, VideoRow
from transforms.version import PIPELINE_VERSION


def _epoch_to_datetime(seconds: float | None) -> dt.datetime | None:
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
) -> VideoRow:
    """The ``videos`` row of one source from its probe, motion and rendered assets."""
    by_type = {a.asset_type: a for a in assets}
    proxy = by_type.get("proxy")
    highlights = by_type.get("highlights")
    return VideoRow(
        video_id=probe.video_id,
        source_uri=probe.uri,
        file_name=probe.file_name,
        file_size_bytes=probe.file_size_bytes,
        source_mtime=_epoch_to_datetime(probe.source_mtime),
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
        proxy_uri=proxy.uri if proxy else None,
        proxy_size_bytes=proxy.size_bytes if proxy else None,
        highlights_uri=highlights.uri if highlights else None,
        highlights_duration_s=highlights.duration_s if highlights else None,
        scanned_at=dt.datetime.fromisoformat(probe.scanned_at),
        indexed_at=indexed_at,
        pipeline_version=PIPELINE_VERSION,
    )


class _AssembleFn(beam.DoFn):
    """(video_id, {probe, motion, assets}) -> videos, segments and assets rows."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._catalogued = beam.metrics.Metrics.counter("reelbeam", "videos_catalogued")

    def process(self, element) -> Iterable[CatalogRow]:
        _, grouped = element
        probes = list(grouped["probe"])
        if not probes:
            return
        probe = probes[0]
        motions = list(grouped.get("motion", ()))
        motion = motions[0] if motions else None
        assets = sorted(grouped.get("assets", ()), key=lambda a: a.key())
        row = video_row(probe, self._clock(), motion, assets)
        self._catalogued.inc()
        logging.info(
            "catalogued %s: %s, %.1f s, %dx%d, %.3g fps%s",
            row.video_id,
            row.file_name,
            row.duration_s,
            row.display_width,
            row.display_height,
            row.fps,
            f", {row.segment_count} segments" if row.segment_count is not None else "",
        )
        yield row
        if motion is not None:
            yield from segment_rows(motion)
        yield from assets


class BuildCatalogRows(beam.PTransform):
    """Join each video's probe, motion and assets into its catalog rows.

    Args:
        clock: gives ``indexed_at``.

    Input: ``{"probe": PCollection[VideoProbe], "motion": PCollection[VideoMotion],
    "assets": PCollection[AssetRow]}`` (motion and assets optional).
    Returns: a PCollection of ``VideoRow``, ``SegmentRow`` and ``AssetRow``.
    """

    def __init__(self, clock: Clock = utc_now):
        super().__init__()
        self._clock = clock

    def expand(self, inputs: dict[str, beam.PCollection]):
        keyed = {
            name: pcoll | f"Key{name.title()}" >> beam.Map(lambda x: (x.video_id, x))
            for name, pcoll in inputs.items()
        }
        return (
            keyed | "Join" >> beam.CoGroupByKey() | "Rows" >> beam.ParDo(_AssembleFn(self._clock))
        )
