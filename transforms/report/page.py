"""The report page: ``index.html`` assembled from catalog rows, with its CSS and JavaScript.

:func:`render_report` is a pure function (no Beam, no IO besides reading the static files
shipped in ``transforms/report/assets/``) from the rows of the four catalog tables and the
cached ``motion.json`` documents to the files of the page: a summary, a search/filter/sort
toolbar built from the data, one card per video and a failures table. No CDN, no framework.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from transforms.report.card import render_card
from transforms.report.format import (
    bytes_text,
    duration_text,
    escape,
    finite_number,
    row_dict,
    time_text,
)
from transforms.schemas import CatalogRow
from transforms.version import PIPELINE_VERSION

__all__ = ["STATIC_FILES", "render_report"]

STATIC_FILES = ("report.css", "report.js")
"""The page's own stylesheet and script, shipped in ``assets/`` beside this module and written
to ``report/assets/``."""


def _failures_table(failures: Sequence[Mapping[str, Any]]) -> str:
    if not failures:
        return (
            '<section id="failures" class="failures" aria-labelledby="failures-h">'
            '<h2 id="failures-h">Failures</h2><p class="muted">No failures.</p></section>'
        )
    rows = []
    for f in failures:
        search = " ".join(
            str(f.get(k) or "") for k in ("input_uri", "video_id", "stage", "error_type", "message")
        ).lower()
        chunk = f.get("chunk_index")
        rows.append(
            f'<tr data-search="{escape(search)}">'
            f'<td class="mono wrap">{escape(f.get("input_uri"))}</td>'
            f"<td>{escape(f.get('video_id') or '–')}</td>"
            f'<td><span class="stage">{escape(f.get("stage"))}</span></td>'
            f"<td>{'–' if chunk is None else escape(chunk)}</td>"
            f'<td class="mono">{escape(f.get("error_type"))}</td>'
            f'<td class="wrap">{escape(f.get("message"))}</td>'
            f"<td>{'permanent' if f.get('permanent') else 'retryable'}</td>"
            f'<td class="nowrap">{escape(time_text(f.get("failed_at")))}</td>'
            "</tr>"
        )
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("Input", "Video", "Stage", "Chunk", "Error", "Message", "Kind", "When")
    )
    return (
        '<section id="failures" class="failures" aria-labelledby="failures-h">'
        f'<h2 id="failures-h">Failures <span class="count">{len(failures)}</span></h2>'
        '<div class="table-wrap"><table>'
        f'<caption class="visually-hidden">Inputs and chunks that failed ({len(failures)})</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        '<p id="failures-none" class="muted" hidden>No failures match the search.</p>'
        "</section>"
    )


def _toolbar(videos: Sequence[Mapping[str, Any]]) -> str:
    values: dict[str, dict[str, int]] = {}
    for video in videos:
        for key, value in (video.get("path_fields") or {}).items():
            values.setdefault(str(key), {})
            values[str(key)][str(value)] = values[str(key)].get(str(value), 0) + 1
    selects = []
    for i, (key, counts) in enumerate(values.items()):
        options = "".join(
            f'<option value="{escape(v)}">{escape(v)} ({n})</option>'
            for v, n in sorted(counts.items())
        )
        selects.append(
            f'<label class="control"><span>{escape(key)}</span>'
            f'<select id="f-{i}" data-field="{escape(key)}"><option value="">All</option>'
            f"{options}</select></label>"
        )
    sorts = (
        ("name:asc", "Name A–Z"),
        ("name:desc", "Name Z–A"),
        ("duration:desc", "Longest first"),
        ("duration:asc", "Shortest first"),
        ("motion:desc", "Most motion (s)"),
        ("share:desc", "Most motion (%)"),
        ("motion:asc", "Least motion"),
        ("peak:desc", "Highest peak"),
        ("size:desc", "Largest file"),
        ("indexed:desc", "Recently indexed"),
    )
    sort_options = "".join(f'<option value="{v}">{t}</option>' for v, t in sorts)
    return (
        '<form class="toolbar" role="search" aria-label="Search, filter and sort videos">'
        '<label class="control grow"><span>Search</span>'
        '<input type="search" id="q" placeholder="Name, path, codec, event…" '
        'autocomplete="off" aria-keyshortcuts="/" title="Press / to search"></label>'
        + "".join(selects)
        + '<label class="control"><span>Motion</span><select id="f-motion">'
        '<option value="">All</option><option value="with">With segments</option>'
        '<option value="without">No segments</option>'
        '<option value="unanalysed">Not analysed</option></select></label>'
        f'<label class="control"><span>Sort</span><select id="sort">{sort_options}</select></label>'
        '<button type="reset" class="reset">Reset</button>'
        "</form>"
    )


def _summary(videos, segments, failures) -> str:
    total = sum(finite_number(v.get("duration_s")) or 0.0 for v in videos)
    moving = sum(finite_number(v.get("motion_s_total")) or 0.0 for v in videos)
    with_motion = sum(1 for v in videos if (v.get("segment_count") or 0) > 0)
    size = sum(finite_number(v.get("file_size_bytes")) or 0.0 for v in videos)
    failed_inputs = len({f.get("input_uri") for f in failures})
    stats = (
        ("Videos", f"{len(videos):,}"),
        ("Footage", duration_text(total)),
        ("Source size", bytes_text(size)),
        ("With motion", f"{with_motion:,}"),
        ("Segments", f"{len(segments):,}"),
        ("Motion", duration_text(moving)),
        ("Failed inputs", f"{failed_inputs:,}"),
    )
    cells = "".join(
        f'<div class="stat{" warn" if k == "Failed inputs" and failed_inputs else ""}">'
        f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>"
        for k, v in stats
    )
    return f'<dl class="summary">{cells}</dl>'


def _static_files() -> dict[str, bytes]:
    folder = resources.files("transforms.report").joinpath("assets")
    return {f"assets/{name}": folder.joinpath(name).read_bytes() for name in STATIC_FILES}


def render_report(
    videos: Iterable[Mapping[str, Any] | CatalogRow],
    segments: Iterable[Mapping[str, Any] | CatalogRow],
    assets: Iterable[Mapping[str, Any] | CatalogRow],
    failures: Iterable[Mapping[str, Any] | CatalogRow],
    motion_by_video: Mapping[str, Mapping[str, Any] | None] | None = None,
    *,
    title: str = "reelbeam catalog",
    source: str | None = None,
) -> dict[str, bytes]:
    """The report page's files from catalog rows: a pure function.

    Args:
        videos, segments, assets, failures: rows of the four catalog tables, as dicts
            (``read_table``) or row models.
        motion_by_video: ``video_id`` -> its ``motion.json`` document (missing: the timeline
            shows the segments only).
        title: the page heading.
        source: where the catalog was read from, shown in the footer.

    Returns:
        Relative path under ``report/`` -> bytes: ``index.html``, ``assets/report.css`` and
        ``assets/report.js``. The same rows give the same bytes (the page carries the
        catalog's newest timestamp, not the time it was rendered).
    """
    video_rows = sorted((row_dict(v) for v in videos), key=lambda v: str(v.get("video_id")))
    segment_rows = sorted(
        (row_dict(s) for s in segments),
        key=lambda s: (str(s.get("video_id")), int(s.get("segment_index") or 0)),
    )
    asset_rows = [row_dict(a) for a in assets]
    failure_rows = sorted(
        (row_dict(f) for f in failures),
        key=lambda f: (str(f.get("input_uri")), str(f.get("stage")), f.get("chunk_index") or -1),
    )
    motion_by_video = motion_by_video or {}
    segs_by_video: dict[str, list[dict]] = defaultdict(list)
    for seg in segment_rows:
        segs_by_video[str(seg.get("video_id"))].append(seg)
    assets_by_video: dict[str, list[dict]] = defaultdict(list)
    for asset in asset_rows:
        assets_by_video[str(asset.get("video_id"))].append(asset)
    failures_by_video: dict[str, list[dict]] = defaultdict(list)
    for failure in failure_rows:
        if failure.get("video_id"):
            failures_by_video[str(failure["video_id"])].append(failure)

    cards = "".join(
        render_card(
            v,
            segs_by_video.get(str(v["video_id"]), []),
            assets_by_video.get(str(v["video_id"]), []),
            motion_by_video.get(str(v["video_id"])),
            failures_by_video.get(str(v["video_id"]), []),
        )
        for v in video_rows
    )
    stamps = [str(v.get("indexed_at")) for v in video_rows if v.get("indexed_at")]
    stamps += [str(f.get("failed_at")) for f in failure_rows if f.get("failed_at")]
    updated = time_text(max(stamps)) if stamps else "–"
    versions = sorted(
        {str(v.get("pipeline_version")) for v in video_rows if v.get("pipeline_version")}
    )
    empty = "" if video_rows else '<p class="empty">No videos catalogued yet.</p>'
    footer_bits = [f"Catalog updated {updated}", f"report by reelbeam {PIPELINE_VERSION}"]
    if versions:
        footer_bits.append("rows by " + ", ".join(versions))
    if source:
        footer_bits.append(f"from {source}")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="reelbeam {escape(PIPELINE_VERSION)}">
<title>{escape(title)}: {len(video_rows)} video{"s" if len(video_rows) != 1 else ""}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/report.css">
<script src="assets/report.js" defer></script>
</head>
<body>
<a class="skip" href="#cards">Skip to the videos</a>
<header class="page-head">
<div class="title"><h1>{escape(title)}</h1><p class="muted">Catalog updated {escape(updated)}</p></div>
{_summary(video_rows, segment_rows, failure_rows)}
</header>
<main>
{_toolbar(video_rows)}
<p id="count" class="count" role="status" aria-live="polite">{len(video_rows)} of {len(video_rows)} videos</p>
<section id="cards" class="cards" aria-label="Videos">
{cards}
</section>
{empty}<p id="no-match" class="empty" hidden>No videos match these filters.</p>
{_failures_table(failure_rows)}
</main>
<footer class="page-foot muted">{escape(" · ".join(footer_bits))}</footer>
</body>
</html>
"""
    files = {"index.html": page.encode("utf-8")}
    files.update(_static_files())
    return files
