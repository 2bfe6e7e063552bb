"""Writing ``<output>/report/`` from the catalog: a function for the command line, a PTransform
for the end of a pipeline.

:func:`build_report` rebuilds the page from a catalog alone (what ``reelbeam report --output
DIR`` runs); :class:`WriteReport` rewrites it once the catalog of a run is written. Both read
through Beam ``FileSystems`` and publish every file atomically (``transforms.io.atomic``), so a
reader never sees a half-written page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import apache_beam as beam

from transforms.catalog.ndjson_store import catalog_path
from transforms.errors import ReelbeamError
from transforms.io.atomic import write_bytes
from transforms.io.uris import absolute, join_uri
from transforms.report.catalog_reader import has_catalog, read_catalog
from transforms.report.page import render_report

__all__ = [
    "REPORT_DIR",
    "NoCatalogError",
    "WriteReport",
    "build_report",
    "report_uri",
    "write_report",
]

REPORT_DIR = "report"
"""Folder of the page under ``--output``."""

_MIME = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


class NoCatalogError(ReelbeamError):
    """There is no catalog to build a report from (or the output cannot be read)."""


def report_uri(output: str) -> str:
    """``<output>/report/index.html``."""
    return join_uri(output, REPORT_DIR, "index.html")


def write_report(output: str) -> str:
    """Read the catalog under ``output`` and write ``<output>/report/``; returns the index URI.

    Missing catalog tables count as empty (the page then says so). Each file is published
    atomically, ``index.html`` last, so the page never links to assets not yet written.
    """
    catalog = read_catalog(output)
    files = render_report(*catalog, source=join_uri(output, "catalog"))
    for rel in sorted(files, key=lambda name: name == "index.html"):
        uri = join_uri(output, REPORT_DIR, *rel.split("/"))
        suffix = "." + rel.rsplit(".", 1)[-1]
        write_bytes(uri, files[rel], _MIME.get(suffix, "application/octet-stream"))
    return report_uri(output)


def build_report(output: str) -> str:
    """Rebuild the static report page from the catalog under ``output`` alone.

    Args:
        output: the folder or ``gs://`` prefix of a run (holds ``catalog/`` and ``videos/``);
            a relative local path is made absolute.

    Returns:
        The URI of the written ``<output>/report/index.html``.

    Raises:
        NoCatalogError: ``output`` has neither ``catalog/videos.jsonl`` nor
            ``catalog/failures.jsonl``, or cannot be read; the message is one line.
    """
    output = absolute(output)
    try:
        found = has_catalog(output)
    except Exception as exc:
        raise NoCatalogError(f"cannot read {output}: {exc}") from exc
    if not found:
        raise NoCatalogError(
            f"no catalog under {output} (expected {catalog_path(output, 'videos')})"
        )
    return write_report(output)


class _WriteReportFn(beam.DoFn):
    def __init__(self, output: str):
        self._output = output

    def process(self, _unused: int) -> Iterator[str]:
        try:
            uri = write_report(self._output)
        except Exception:  # the report is a view of the catalog: never fail the run for it
            logging.exception("report: could not write the report page")
            return
        logging.info("wrote %s", uri)
        yield uri


class WriteReport(beam.PTransform):
    """Rewrite ``<output>/report/`` once its input is complete (apply after ``WriteCatalog``).

    Takes any PCollection (e.g. ``WriteCatalog``'s ``(table, count)`` output) and writes the page
    once per bundle of it in a streaming pipeline or once at the end of a batch one.

    Returns:
        A PCollection of the index URI.
    """

    def __init__(self, output: str):
        super().__init__()
        self._output = output

    def expand(self, done: beam.PCollection) -> beam.PCollection[str]:
        return (
            done
            | "Done" >> beam.combiners.Count.Globally().without_defaults()
            | "Write" >> beam.ParDo(_WriteReportFn(self._output))
        )
