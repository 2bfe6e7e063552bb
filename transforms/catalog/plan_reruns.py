"""``PlanReruns``: only new or changed files reach probe; the rest resume from the catalog.

Each found file is joined with its ``videos`` row from the catalog as it was at launch
and sent where ``fingerprints.plan_action`` says: to probe and detection (new, changed,
changed detect settings, ``--reprocess``), straight to segmenting and rendering with its
probe taken from the row and its scores from ``motion.json`` (changed segment or render
settings), or nowhere (unchanged: the catalog keeps its rows). Every decision is counted
(``inputs_new``, ``inputs_changed``, ``inputs_skipped``, ``reprocessed_<stage>``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from transforms.artifacts import artifact_uri
from transforms.catalog.fingerprints import (
    Action,
    StageFingerprints,
    plan_action,
    source_fingerprint,
)
from transforms.catalog.restore import motion_from_document, probe_from_row
from transforms.io.atomic import read_bytes
from transforms.motion import SegmentParams
from transforms.progress import report
from transforms.records import FoundFile

DECODE, PROBES, MOTION = "decode", "probes", "motion"


class PlanRerunFn(beam.DoFn):
    """(uri, {found, catalog}) -> FoundFile to ``decode``, or restored probe and motion."""

    def __init__(
        self,
        output: str,
        current: StageFingerprints,
        segment: SegmentParams,
        force_all: bool,
        forced: frozenset[str],
    ):
        self._output = output
        self._current = current
        self._segment = segment
        self._force_all = force_all
        self._forced = forced

    def process(self, element) -> Iterator[pvalue.TaggedOutput]:
        uri, grouped = element
        found_files: list[FoundFile] = list(grouped["found"])
        if found_files:  # else catalogued but not an input of this run: its rows stay
            yield from self._plan(uri, found_files[0], list(grouped["catalog"]))

    def _plan(self, uri: str, found: FoundFile, rows: list[dict]) -> Iterator[pvalue.TaggedOutput]:
        # A changed --video_id_template leaves rows of the old id: prefer the current one.
        row = next((r for r in rows if r.get("video_id") == found.video_id), None)
        row = row or (rows[0] if rows else None)
        action = plan_action(
            source_fingerprint(found.uri, found.size_bytes, found.mtime),
            found.video_id,
            row,
            self._current,
            force=self._force_all or uri in self._forced,
        )
        if action in (Action.RESEGMENT, Action.RENDER) and row.get("failed_chunks"):
            action = Action.DETECT  # its motion is incomplete: resuming would keep the gaps
        restored = None
        if action in (Action.RESEGMENT, Action.RENDER):
            try:
                restored = self._restore(found, row)
            except Exception as exc:  # no or unreadable motion.json: decode it again
                logging.info("%s: cannot resume from the catalog (%s); decoding", uri, exc)
                action = Action.DETECT
        report(action.counter)
        if restored is not None:
            for tag, record in zip((PROBES, MOTION), restored, strict=True):
                yield pvalue.TaggedOutput(tag, record)
        elif action is Action.SKIP:
            logging.info("unchanged, skipped: %s", uri)
        else:
            yield pvalue.TaggedOutput(DECODE, found)

    def _restore(self, found: FoundFile, row: Mapping[str, Any]):
        doc = json.loads(read_bytes(artifact_uri(self._output, found.video_id, "motion.json")))
        if doc.get("video_id") != found.video_id:
            raise ValueError(f"motion.json is for {doc.get('video_id')}")
        return probe_from_row(row, found), motion_from_document(doc, self._segment, found.uri)


class PlanReruns(beam.PTransform):
    """Found files -> what each still needs, given the catalog's ``videos`` rows.

    Args:
        catalog_rows: the ``videos`` rows read at launch (dicts, as stored).
        output: ``--output`` (where ``videos/<id>/motion.json`` is).
        current: this run's stage fingerprints.
        segment: this run's segment thresholds (restored motion is re-segmented with them).
        force_all: ``--reprocess``: decode every file again.
        forced: URIs to decode again whatever the catalog says (``--retry_failures``).

    Returns:
        ``{"decode": FoundFile, "probes": VideoProbe, "motion": VideoMotion}``: files to
        probe and analyse, and the probes and motion of files resumed from the catalog.
    """

    def __init__(
        self,
        catalog_rows: Sequence[Mapping[str, Any]],
        output: str,
        current: StageFingerprints,
        segment: SegmentParams,
        force_all: bool = False,
        forced: Sequence[str] = (),
    ):
        super().__init__()
        self._rows = [dict(r) for r in catalog_rows]
        self._fn = PlanRerunFn(output, current, segment, force_all, frozenset(forced))

    def expand(self, found: beam.PCollection[FoundFile]):
        catalog = (
            found.pipeline
            | "CatalogRows" >> beam.Create(self._rows)
            | "KeyRows" >> beam.Map(lambda r: (r["source_uri"], r))
        )
        keyed = found | "KeyFound" >> beam.Map(lambda f: (f.uri, f))
        planned = (
            {"found": keyed, "catalog": catalog}
            | "Join" >> beam.CoGroupByKey()
            | "Plan" >> beam.ParDo(self._fn).with_outputs(DECODE, PROBES, MOTION)
        )
        return {DECODE: planned[DECODE], PROBES: planned[PROBES], MOTION: planned[MOTION]}
