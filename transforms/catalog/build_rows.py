"""``BuildCatalogRows``: join each video's probe, motion and assets into its catalog rows."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import apache_beam as beam

from transforms.catalog.fingerprints import StageFingerprints
from transforms.catalog.rows import segment_rows, video_row
from transforms.io.deadletter import Clock, utc_now
from transforms.schemas import CatalogRow


class _AssembleFn(beam.DoFn):
    """(video_id, {probe, motion, assets}) -> videos, segments and assets rows."""

    def __init__(self, clock: Clock, fingerprints: StageFingerprints | None):
        self._clock = clock
        self._fingerprints = fingerprints
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
        damage = next(iter(grouped.get("damage", ())), None)
        counts = damage.counts if damage is not None else None
        row = video_row(probe, self._clock(), motion, assets, counts, self._fingerprints)
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
        fingerprints: the run's stage fingerprints, recorded on each ``videos`` row
            (None: none recorded, so the next run does everything again).

    Input: ``{"probe": PCollection[VideoProbe], "motion": PCollection[VideoMotion],
    "assets": PCollection[AssetRow], "damage": PCollection[SourceDamage]}`` (all but probe
    optional).
    Returns: a PCollection of ``VideoRow``, ``SegmentRow`` and ``AssetRow``.
    """

    def __init__(self, clock: Clock = utc_now, fingerprints: StageFingerprints | None = None):
        super().__init__()
        self._clock = clock
        self._fingerprints = fingerprints

    def expand(self, inputs: dict[str, beam.PCollection]):
        keyed = {
            name: pcoll | f"Key{name.title()}" >> beam.Map(lambda x: (x.video_id, x))
            for name, pcoll in inputs.items()
        }
        return (
            keyed
            | "Join" >> beam.CoGroupByKey()
            | "Rows" >> beam.ParDo(_AssembleFn(self._clock, self._fingerprints))
        )
