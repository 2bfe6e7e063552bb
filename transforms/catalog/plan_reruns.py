"""``PlanReruns``: only new or changed files reach probe; the rest resume from the catalog.

The catalog's ``videos`` rows are read as the run's first step, where the run writes
them (BigQuery with ``--bigquery_dataset``, else the NDJSON files), on a worker: not
while the graph is built, where a big catalog would bloat the job. Each found file is
joined with its row and sent where ``fingerprints.file_action`` says: to probe and
detection (new, changed, changed detect settings, ``--reprocess``), straight to
segmenting and rendering with its probe taken from the row and its scores from
``motion.json`` (changed segment or render settings), or nowhere (unchanged: the
catalog keeps its rows). Every decision is counted (``inputs_new``,
``inputs_changed``, ``inputs_skipped``, ``reprocessed_<stage>``).
The launcher plans with the same ``file_action`` before it builds anything, and starts
no pipeline when every input is skipped (``pipelines.incremental.nothing_to_do``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from transforms.artifacts import artifact_uri
from transforms.catalog.bigquery_client import read_rows
from transforms.catalog.bigquery_sql import parse_dataset
from transforms.catalog.fingerprints import Action, StageFingerprints, file_action
from transforms.catalog.ndjson_store import read_table
from transforms.catalog.restore import motion_from_document, probe_from_row
from transforms.io.filesystems import read_bytes
from transforms.motion import SegmentParams
from transforms.progress import report
from transforms.records import FoundFile

DECODE, PROBES, MOTION = "decode", "probes", "motion"


def read_video_rows(
    output: str,
    bigquery_dataset: str | None = None,
    client_factory: Callable[[str], Any] | None = None,
) -> list[dict]:
    """Every ``videos`` row of the catalog, as a dict (see ``ReadVideoRowsFn``)."""
    if not bigquery_dataset:
        return read_table(output, "videos")
    project, dataset = parse_dataset(bigquery_dataset)
    client = client_factory(project)
    try:
        return read_rows(client, project, dataset, "videos")
    finally:
        if hasattr(client, "close"):
            client.close()


class ReadVideoRowsFn(beam.DoFn):
    """(anything) -> every ``videos`` row of the catalog, as a dict.

    Args:
        output: ``--output`` (the NDJSON catalog is under it).
        bigquery_dataset: ``PROJECT:DATASET`` when the catalog is in BigQuery, else None.
        client_factory: ``factory(project) -> bigquery.Client`` (BigQuery only).
    """

    def __init__(
        self,
        output: str,
        bigquery_dataset: str | None = None,
        client_factory: Callable[[str], Any] | None = None,
    ):
        self._output = output
        self._dataset = bigquery_dataset
        self._client_factory = client_factory

    def process(self, _) -> Iterator[dict]:
        rows = read_video_rows(self._output, self._dataset, self._client_factory)
        logging.info("the catalog holds %d videos", len(rows))
        yield from rows


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
        force = self._force_all or uri in self._forced
        action, row = file_action(found, rows, self._current, force)
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
        output: ``--output`` (the NDJSON catalog and ``videos/<id>/motion.json``).
        current: this run's stage fingerprints.
        segment: this run's segment thresholds (restored motion is re-segmented with them).
        bigquery_dataset: ``PROJECT:DATASET`` when the catalog is in BigQuery, else None.
        client_factory: ``factory(project) -> bigquery.Client`` (BigQuery only; picklable).
        force_all: ``--reprocess``: decode every file again.
        forced: URIs to decode again whatever the catalog says (``--retry_failures``).

    Returns:
        ``{"decode": FoundFile, "probes": VideoProbe, "motion": VideoMotion}``: files to
        probe and analyse, and the probes and motion of files resumed from the catalog.
    """

    def __init__(
        self,
        output: str,
        current: StageFingerprints,
        segment: SegmentParams,
        *,
        bigquery_dataset: str | None = None,
        client_factory: Callable[[str], Any] | None = None,
        force_all: bool = False,
        forced: Sequence[str] = (),
    ):
        super().__init__()
        self._read = ReadVideoRowsFn(output, bigquery_dataset, client_factory)
        self._fn = PlanRerunFn(output, current, segment, force_all, frozenset(forced))

    def expand(self, found: beam.PCollection[FoundFile]):
        catalog = (
            found.pipeline
            | "Catalog" >> beam.Create([None])
            | "ReadVideoRows" >> beam.ParDo(self._read)
            | "KeyRows" >> beam.Map(lambda r: (r["source_uri"], r))
        )
        keyed = found | "KeyFound" >> beam.Map(lambda f: (f.uri, f))
        planned = (
            {"found": keyed, "catalog": catalog}
            | "Join" >> beam.CoGroupByKey()
            | "Plan" >> beam.ParDo(self._fn).with_outputs(DECODE, PROBES, MOTION)
        )
        return {DECODE: planned[DECODE], PROBES: planned[PROBES], MOTION: planned[MOTION]}
