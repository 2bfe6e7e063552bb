"""The report page: ``<output>/report/index.html``, static and offline, built from the catalog.

One card per video (poster, probe facts, an inline SVG motion timeline, the proxy and the
highlight reel in ``<video>`` players, ladder and artifact links), a failures table, and the
page's own CSS and JavaScript (search, filter and sort; no CDN, no framework). Every link to an
artifact is relative (``../videos/<video_id>/proxy_720p.mp4``), so the output folder can be
copied or served from a bucket as it is.

Modules, one job each:

* ``format``: pure text formatters (escaping, durations, sizes, times);
* ``links``: pure relative links to artifacts, and a card's list of them;
* ``timeline``: the pure inline SVG motion timeline;
* ``card``: one video's card, pure;
* ``page``: :func:`render_report`, the whole page from rows, pure;
* ``catalog_reader``: the catalog rows and ``motion.json`` documents, via ``FileSystems``;
* ``write_report``: :func:`build_report` (the command line's entry) and the
  :class:`WriteReport` PTransform (the end of a pipeline).
"""

from transforms.report.catalog_reader import read_motion_documents
from transforms.report.links import relative_link
from transforms.report.page import render_report
from transforms.report.timeline import render_timeline_svg
from transforms.report.write_report import (
    REPORT_DIR,
    NoCatalogError,
    WriteReport,
    build_report,
    report_uri,
    write_report,
)

__all__ = [
    "REPORT_DIR",
    "NoCatalogError",
    "WriteReport",
    "build_report",
    "read_motion_documents",
    "relative_link",
    "render_report",
    "render_timeline_svg",
    "report_uri",
    "write_report",
]
