"""The report page: ``<output>/report/index.html``, static and offline, built from the catalog.

:func:`render_report` is a pure function from catalog rows (and the cached ``motion.json``
documents) to the files of the page: ``index.html`` with one card per video (poster, probe
facts, an inline SVG motion timeline, the proxy and the highlight reel in ``<video>`` players,
ladder and artifact links), a failures table, and the page's own CSS and JavaScript (search,
filter and sort; no CDN, no framework). Every link to an artifact is relative
(``../videos/<video_id>/proxy_720p.mp4``), so the output folder can be copied or served from a
bucket as it is. Absent artifacts (no proxy, thumbnail or highlight reel yet) leave a
placeholder, never a broken link.

:func:`write_report` reads the catalog through Beam ``FileSystems`` (local or ``gs://``) and
writes the files atomically; :class:`WriteReport` does the same at the end of a pipeline;
``reelbeam report --output DIR`` (:func:`main`) rebuilds the page from a catalog alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import logging
import math
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any
from urllib.parse import quote

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms.artifacts import artifact_uri
from transforms.catalog.ndjson_store import catalog_path, read_table
from transforms.io.atomic import write_bytes as write_atomically
from transforms.schemas import CatalogRow
from transforms.version import PIPELINE_VERSION

__all__ = [
    "REPORT_DIR",
    "WriteReport",
    "main",
    "read_motion_documents",
    "relative_link",
    "render_report",
    "render_timeline_svg",
    "report_uri",
    "write_report",
]

REPORT_DIR = "report"
"""Folder of the page under ``--output``."""

ASSETS_PACKAGE_DIR = "report_assets"
"""Static files shipped next to this module and copied to ``report/assets/``."""

STATIC_FILES = ("report.css", "report.js")

_MIME = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}

_TIMELINE_W = 400
_TIMELINE_H = 96
_PLOT_TOP = 8
_PLOT_BOTTOM = 74
_PLOT_LEFT = 6
_PLOT_RIGHT = 6
_MAX_POINTS = 400
_MAX_SEGMENT_CHIPS = 12
_MAX_THUMBS = 8


# --------------------------------------------------------------------------------------------
# Small formatting helpers
# --------------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    """Escape text for HTML content and double-quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt_duration(seconds: Any) -> str:
    """``8.0 s`` below a minute, ``1:02`` or ``1:02:03`` above."""
    s = _num(seconds)
    if s is None:
        return "–"
    if s < 60:
        return f"{s:.1f} s"
    total = int(round(s))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _fmt_clock(seconds: float, step: float) -> str:
    """Axis label: ``2.5s`` for sub-second steps and short clips, ``m:ss`` otherwise."""
    if step < 1:
        return f"{seconds:.1f}s"
    if seconds < 60 and step < 10:
        return f"{seconds:.0f}s"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _fmt_span(start: float, end: float) -> str:
    def clock(t: float) -> str:
        minutes, secs = divmod(t, 60)
        return f"{int(minutes)}:{secs:04.1f}"

    return f"{clock(start)}–{clock(end)}"


def _fmt_bytes(size: Any) -> str:
    n = _num(size)
    if n is None:
        return "–"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def _fmt_time(value: Any) -> str:
    """An ISO timestamp as ``2026-01-02 03:04 UTC``."""
    if not value:
        return "–"
    try:
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def _attr_num(value: Any) -> str:
    n = _num(value)
    return "" if n is None else f"{n:g}"


def _as_dict(row: Mapping[str, Any] | CatalogRow) -> dict[str, Any]:
    if isinstance(row, CatalogRow):
        return row.model_dump(mode="json")
    return dict(row)


# --------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------


def relative_link(uri: str | None, video_id: str) -> str | None:
    """The link from ``report/index.html`` to an artifact of ``video_id``, or None.

    Artifacts live at ``<output>/videos/<video_id>/<name>`` (``artifact_uri``), so whatever the
    absolute URI in the row (a local path, ``gs://``), the page links to
    ``../videos/<video_id>/<name>``, percent-encoded, and keeps working when the output folder is
    copied or served from a bucket. ``http(s)`` URIs elsewhere are kept; anything else (an
    artifact outside the output) gets no link.
    """
    if not uri:
        return None
    norm = uri.replace("\\", "/")
    marker = f"videos/{video_id}/"
    index = norm.rfind("/" + marker)
    if index >= 0:
        rest = norm[index + 1 + len(marker) :]
    elif norm.startswith(marker):
        rest = norm[len(marker) :]
    elif norm.startswith(("http://", "https://")):
        return uri
    else:
        return None
    parts = [p for p in rest.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        return None
    return "/".join(["..", "videos", quote(video_id, safe="")] + [quote(p, safe="") for p in parts])


def _base_name(uri: str) -> str:
    return uri.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


# --------------------------------------------------------------------------------------------
# Motion timeline (inline SVG)
# --------------------------------------------------------------------------------------------


def _nice_step(duration: float) -> float:
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400):
        if duration / step <= 6:
            return float(step)
    return float(math.ceil(duration / 6 / 3600) * 3600)


def _downsample(times: Sequence[float], scores: Sequence[float], bins: int) -> list[tuple]:
    """At most ``bins`` points, each bin's highest score (peaks survive)."""
    points = [(t, s) for t, s in zip(times, scores, strict=False) if _num(t) is not None]
    if len(points) <= bins:
        return [(float(t), _num(s) or 0.0) for t, s in points]
    t0, t1 = float(points[0][0]), float(points[-1][0])
    width = (t1 - t0) / bins or 1.0
    best: dict[int, tuple[float, float]] = {}
    for t, s in points:
        b = min(int((float(t) - t0) / width), bins - 1)
        score = _num(s) or 0.0
        if b not in best or score > best[b][1]:
            best[b] = (float(t), score)
    return [best[b] for b in sorted(best)]


def render_timeline_svg(
    video_id: str,
    duration_s: float | None,
    segments: Sequence[Mapping[str, Any]],
    motion: Mapping[str, Any] | None,
    *,
    seekable: bool = False,
) -> str:
    """An inline SVG of the motion score over time, segments shaded, with a time axis.

    Args:
        video_id: used for ids and labels.
        duration_s: the video's duration (the axis spans it; else the last sample or segment).
        segments: the video's ``segments`` rows.
        motion: its ``motion.json`` document (``times_s``, ``scores``, ``params``), or None:
            then only the segments are drawn.
        seekable: segment rectangles carry ``data-seek`` (the page seeks the proxy on click).
    """
    times = list((motion or {}).get("times_s") or [])
    scores = list((motion or {}).get("scores") or [])
    threshold = _num(((motion or {}).get("params") or {}).get("threshold"))
    ends = [_num(s.get("end_s")) or 0.0 for s in segments]
    duration = max(
        [_num(duration_s) or 0.0, (_num(times[-1]) or 0.0) if times else 0.0, *ends, 0.1]
    )
    plot_w = _TIMELINE_W - _PLOT_LEFT - _PLOT_RIGHT
    plot_h = _PLOT_BOTTOM - _PLOT_TOP

    def x(t: float) -> float:
        return _PLOT_LEFT + max(0.0, min(t, duration)) / duration * plot_w

    peaks = [_num(s) or 0.0 for s in scores] + [_num(s.get("peak_score")) or 0.0 for s in segments]
    peak = max(peaks, default=0.0)
    y_max = max(peak, threshold or 0.0, 1e-6) * 1.1

    def y(score: float) -> float:
        return _PLOT_BOTTOM - max(0.0, score) / y_max * plot_h

    n_seg = len(segments)
    label = (
        f"Motion score over {_fmt_duration(duration)} of {video_id}: "
        f"{n_seg} segment{'s' if n_seg != 1 else ''}"
        + ("" if scores else " (no per-sample scores)")
    )
    out = [
        f'<svg class="timeline-svg" viewBox="0 0 {_TIMELINE_W} {_TIMELINE_H}" '
        f'role="img" aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(label)}</title>",
        f'<rect class="plot-bg" x="{_PLOT_LEFT}" y="{_PLOT_TOP}" width="{plot_w}" '
        f'height="{plot_h}"/>',
    ]
    for seg in segments:
        start = _num(seg.get("start_s")) or 0.0
        end = _num(seg.get("end_s")) or start
        x0, x1 = x(start), x(end)
        tip = (
            f"Segment {int(seg.get('segment_index', 0)) + 1}: {_fmt_span(start, end)} "
            f"({end - start:.1f} s), peak {(_num(seg.get('peak_score')) or 0):.2f}, "
            f"mean {(_num(seg.get('mean_score')) or 0):.2f}, "
            f"up to {seg.get('max_people', 0)} people"
        )
        seek = f' data-seek="{start:g}"' if seekable else ""
        out.append(
            f'<rect class="seg"{seek} x="{x0:.1f}" y="{_PLOT_TOP}" '
            f'width="{max(x1 - x0, 1.5):.1f}" height="{plot_h}"><title>{_e(tip)}</title></rect>'
        )
    step = _nice_step(duration)
    tick = 0.0
    while tick <= duration + 1e-9:
        tx = x(tick)
        out.append(
            f'<line class="grid" x1="{tx:.1f}" y1="{_PLOT_TOP}" x2="{tx:.1f}" '
            f'y2="{_PLOT_BOTTOM + 3}"/>'
        )
        anchor = "start" if tick == 0 else ("end" if tx > _TIMELINE_W - 20 else "middle")
        out.append(
            f'<text class="tick" x="{tx:.1f}" y="{_PLOT_BOTTOM + 15}" '
            f'text-anchor="{anchor}">{_e(_fmt_clock(tick, step))}</text>'
        )
        tick += step
    if threshold is not None and threshold > 0:
        ty = y(threshold)
        out.append(
            f'<line class="threshold" x1="{_PLOT_LEFT}" y1="{ty:.1f}" '
            f'x2="{_TIMELINE_W - _PLOT_RIGHT}" y2="{ty:.1f}">'
            f"<title>Motion threshold {threshold:g}</title></line>"
        )
    points = _downsample(times, scores, _MAX_POINTS)
    if points:
        line = " ".join(f"{x(t):.1f},{y(s):.1f}" for t, s in points)
        area = f"{x(points[0][0]):.1f},{_PLOT_BOTTOM} {line} {x(points[-1][0]):.1f},{_PLOT_BOTTOM}"
        out.append(f'<polygon class="score-area" points="{area}"/>')
        out.append(f'<polyline class="score" points="{line}"/>')
    elif not segments:
        out.append(
            f'<text class="no-data" x="{_TIMELINE_W / 2:.0f}" '
            f'y="{(_PLOT_TOP + _PLOT_BOTTOM) / 2 + 4:.0f}" text-anchor="middle">'
            f"{'no motion' if motion is not None else 'not analysed'}</text>"
        )
    out.append(
        f'<line class="axis" x1="{_PLOT_LEFT}" y1="{_PLOT_BOTTOM}" '
        f'x2="{_TIMELINE_W - _PLOT_RIGHT}" y2="{_PLOT_BOTTOM}"/>'
    )
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------


def _assets_by_type(assets: Iterable[Mapping[str, Any]]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for asset in assets:
        grouped[str(asset.get("asset_type"))].append(dict(asset))
    for rows in grouped.values():
        rows.sort(key=lambda a: str(a.get("uri")))
    return grouped


def _first_link(candidates: Iterable[str | None], video_id: str) -> str | None:
    for uri in candidates:
        link = relative_link(uri, video_id)
        if link:
            return link
    return None


def _picture(video: Mapping[str, Any]) -> str:
    dw, dh = video.get("display_width"), video.get("display_height")
    w, h = video.get("width"), video.get("height")
    text = f"{dw}×{dh}" if dw and dh else f"{w}×{h}"
    extra = []
    if (dw, dh) != (w, h) and w and h:
        extra.append(f"coded {w}×{h}")
    if video.get("rotation_deg"):
        extra.append(f"rotated {video['rotation_deg']}°")
    sar = video.get("sample_aspect_ratio")
    if sar and sar != "1:1":
        extra.append(f"SAR {sar}")
    return text + (f" ({', '.join(extra)})" if extra else "")


def _audio(video: Mapping[str, Any]) -> str:
    if not video.get("has_audio"):
        return "none"
    parts = [str(video.get("audio_codec") or "audio")]
    if video.get("audio_channels"):
        parts.append(f"{video['audio_channels']} ch")
    rate = _num(video.get("audio_sample_rate"))
    if rate:
        parts.append(f"{rate / 1000:g} kHz")
    return " · ".join(parts)


def _facts(video: Mapping[str, Any]) -> str:
    fps = _num(video.get("fps"))
    rate = f"{fps:.3g} fps" if fps else "–"
    if video.get("is_vfr"):
        rate += ' <span class="badge">VFR</span>'
    codec = [str(video.get("codec") or "?")]
    if video.get("pix_fmt"):
        codec.append(str(video["pix_fmt"]))
    kbps = _num(video.get("bitrate_kbps"))
    if kbps:
        codec.append(f"{kbps:,.0f} kb/s")
    container = str(video.get("container") or "").split(",")[0]
    frames = video.get("frame_count")
    rows = [
        ("Duration", _e(_fmt_duration(video.get("duration_s")))
         + (f' <span class="muted">· {int(frames):,} frames</span>' if frames else "")),
        ("Picture", _e(_picture(video))),
        ("Video", _e(" · ".join(codec))),
        ("Frame rate", rate if "badge" in rate else _e(rate)),
        ("Audio", _e(_audio(video))),
        ("File", _e(_fmt_bytes(video.get("file_size_bytes")))
         + (f' <span class="muted">· {_e(container)}</span>' if container else "")),
        ("Modified", _e(_fmt_time(video.get("source_mtime")))),
        ("Indexed", _e(_fmt_time(video.get("indexed_at")))),
    ]  # fmt: skip
    body = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in rows)
    return f'<dl class="facts">{body}</dl>'


def _motion_caption(video: Mapping[str, Any], segments: Sequence[Mapping], motion) -> str:
    count = video.get("segment_count")
    if count is None and not segments and not motion:
        return "Not analysed for motion."
    count = len(segments) if count is None else count
    total = _num(video.get("motion_s_total"))
    if total is None:
        total = sum(_num(s.get("duration_s")) or 0.0 for s in segments)
    duration = _num(video.get("duration_s")) or 0.0
    share = f" ({total / duration:.0%})" if duration > 0 else ""
    parts = [f"{count} segment{'s' if count != 1 else ''}", f"{total:.1f} s moving{share}"]
    peaks = [_num(s.get("peak_score")) or 0.0 for s in segments]
    if peaks:
        parts.append(f"peak {max(peaks):.2f}")
    threshold = _num(((motion or {}).get("params") or {}).get("threshold"))
    if threshold is not None:
        parts.append(f"threshold {threshold:g}")
    people = [int(s.get("max_people") or 0) for s in segments]
    if people and max(people) > 0:
        parts.append(f"up to {max(people)} {'person' if max(people) == 1 else 'people'}")
    if motion is None and segments:
        parts.append("no per-sample scores (motion.json missing)")
    return " · ".join(parts)


def _segment_chips(segments: Sequence[Mapping], seekable: bool) -> str:
    if not segments:
        return ""
    chips = []
    for seg in segments[:_MAX_SEGMENT_CHIPS]:
        start = _num(seg.get("start_s")) or 0.0
        end = _num(seg.get("end_s")) or start
        text = _e(_fmt_span(start, end))
        title = _e(f"peak {(_num(seg.get('peak_score')) or 0):.2f}, {end - start:.1f} s")
        if seekable:
            chips.append(
                f'<li><button type="button" class="chip seek" data-seek="{start:g}" '
                f'title="Play from {_e(_fmt_span(start, end))} ({title})">▶ {text}</button></li>'
            )
        else:
            chips.append(f'<li><span class="chip" title="{title}">{text}</span></li>')
    more = len(segments) - _MAX_SEGMENT_CHIPS
    if more > 0:
        chips.append(f'<li><span class="chip muted">+{more} more</span></li>')
    return f'<ul class="segments" aria-label="Motion segments">{"".join(chips)}</ul>'


def _link(href: str, text: str, title: str = "") -> str:
    tip = f' title="{_e(title)}"' if title else ""
    return f'<a href="{_e(href)}"{tip}>{_e(text)}</a>'


def _artifact_links(video: Mapping[str, Any], by_type: Mapping[str, list[dict]]) -> str:
    vid = str(video["video_id"])
    items: list[str] = []
    proxy_rows = by_type.get("proxy", [])
    proxy = _first_link([video.get("proxy_uri")] + [a.get("uri") for a in proxy_rows], vid)
    ladder: list[tuple[int, str]] = []
    if proxy:
        size = video.get("proxy_size_bytes") or (
            proxy_rows[0].get("size_bytes") if proxy_rows else None
        )
        height = proxy_rows[0].get("height") if proxy_rows else None
        text = f"Proxy {height}p" if height else "Proxy"
        items.append(_link(proxy, text, f"proxy, {_fmt_bytes(size)}" if size else "proxy"))
    for rendition in by_type.get("rendition", []):
        link = relative_link(rendition.get("uri"), vid)
        if not link:
            continue
        height = int(rendition.get("height") or 0)
        tip = ", ".join(
            p
            for p in (
                f"{rendition.get('width')}×{rendition.get('height')}",
                f"{_num(rendition.get('bitrate_kbps')):,.0f} kb/s"
                if _num(rendition.get("bitrate_kbps"))
                else "",
                _fmt_bytes(rendition.get("size_bytes")),
                str(rendition.get("codec") or ""),
            )
            if p
        )
        ladder.append((height, _link(link, f"{height}p" if height else _base_name(link), tip)))
    ladder.sort(key=lambda item: -item[0])
    highlights = _first_link(
        [video.get("highlights_uri")] + [a.get("uri") for a in by_type.get("highlights", [])], vid
    )
    if highlights:
        items.append(_link(highlights, "Highlights", "highlight reel (MP4)"))
    for kind, text in (
        ("timeline", "Timeline (.otio)"),
        ("preview", "Preview"),
        ("motion", "motion.json"),
    ):
        for asset in by_type.get(kind, []):
            link = relative_link(asset.get("uri"), vid)
            if link:
                label = text if kind != "timeline" or link.endswith(".otio") else _base_name(link)
                items.append(_link(link, label, _fmt_bytes(asset.get("size_bytes"))))
    parts = []
    if ladder:
        parts.append(
            '<li class="links-label">Ladder</li>' + "".join(f"<li>{a}</li>" for _, a in ladder)
        )
    if items:
        parts.append('<li class="links-label">Files</li>' + "".join(f"<li>{a}</li>" for a in items))
    if not parts:
        return '<p class="links muted">No artifacts rendered yet.</p>'
    return f'<nav class="links" aria-label="Artifacts of {_e(vid)}"><ul>{"".join(parts)}</ul></nav>'


def _search_text(video: Mapping[str, Any]) -> str:
    fields = video.get("path_fields") or {}
    bits = [
        video.get("video_id"),
        video.get("file_name"),
        video.get("source_uri"),
        video.get("codec"),
        *[f"{k}:{v}" for k, v in fields.items()],
        *fields.values(),
    ]
    return " ".join(str(b) for b in bits if b).lower()


def _card(
    video: Mapping[str, Any],
    segments: Sequence[Mapping[str, Any]],
    by_type: Mapping[str, list[dict]],
    motion: Mapping[str, Any] | None,
    failures: Sequence[Mapping[str, Any]],
) -> str:
    vid = str(video["video_id"])
    name = str(video.get("file_name") or vid)
    thumbs = by_type.get("thumbnail", [])
    thumb_links = [link for a in thumbs if (link := relative_link(a.get("uri"), vid))]
    poster = thumb_links[len(thumb_links) // 2] if thumb_links else None
    if poster is None:
        poster = _first_link([a.get("uri") for a in by_type.get("preview", [])], vid)
    proxy_rows = by_type.get("proxy", [])
    proxy = _first_link([video.get("proxy_uri")] + [a.get("uri") for a in proxy_rows], vid)
    proxy_duration = (proxy_rows[0].get("duration_s") if proxy_rows else None) or video.get(
        "duration_s"
    )
    if proxy:
        poster_attr = f' poster="{_e(poster)}"' if poster else ""
        media = (
            f'<video class="proxy" controls preload="metadata" playsinline{poster_attr} '
            f'src="{_e(proxy)}" data-duration="{_attr_num(proxy_duration)}" '
            f'aria-label="Proxy of {_e(name)}">'
            f'<a href="{_e(proxy)}">Download the proxy of {_e(name)}</a></video>'
        )
    elif poster:
        media = (
            f'<img class="poster" src="{_e(poster)}" loading="lazy" '
            f'alt="Poster frame of {_e(name)}">'
            '<span class="media-note">No proxy yet</span>'
        )
    else:
        media = (
            f'<div class="placeholder" role="img" aria-label="No preview of {_e(name)} yet">'
            "<span>No preview yet</span></div>"
        )

    fields = video.get("path_fields") or {}
    chips = "".join(
        f'<li class="chip field"><span class="k">{_e(k)}</span> {_e(v)}</li>'
        for k, v in fields.items()
    )
    badges = []
    failed_chunks = int(video.get("failed_chunks") or 0)
    if failed_chunks:
        badges.append(
            f'<a class="badge warn" href="#failures">{failed_chunks} chunk'
            f"{'s' if failed_chunks != 1 else ''} failed</a>"
        )
    elif failures:
        badges.append(
            f'<a class="badge warn" href="#failures">{len(failures)} failure'
            f"{'s' if len(failures) != 1 else ''}</a>"
        )
    source = str(video.get("source_uri") or "")
    folder = source[: len(source) - len(_base_name(source))] if source.endswith(name) else ""
    timeline = render_timeline_svg(
        vid, video.get("duration_s"), segments, motion, seekable=bool(proxy)
    )
    highlights = _first_link(
        [video.get("highlights_uri")] + [a.get("uri") for a in by_type.get("highlights", [])], vid
    )
    reel = ""
    if highlights:
        hl_rows = by_type.get("highlights", [])
        hl_duration = video.get("highlights_duration_s") or (
            hl_rows[0].get("duration_s") if hl_rows else None
        )
        summary = "Highlight reel" + (f" · {_fmt_duration(hl_duration)}" if hl_duration else "")
        poster_attr = f' poster="{_e(poster)}"' if poster else ""
        reel = (
            f'<details class="reel"><summary>{_e(summary)}</summary>'
            f'<video class="highlights" controls preload="none" playsinline{poster_attr} '
            f'src="{_e(highlights)}" aria-label="Highlight reel of {_e(name)}">'
            f'<a href="{_e(highlights)}">Download the highlight reel</a></video></details>'
        )
    thumb_strip = ""
    if len(thumb_links) > 1:
        shown = thumb_links[:_MAX_THUMBS]
        thumb_strip = (
            '<ul class="thumbs" aria-label="Thumbnails">'
            + "".join(
                f'<li><a href="{_e(link)}"><img src="{_e(link)}" loading="lazy" '
                f'alt="Thumbnail {i + 1} of {len(thumb_links)} of {_e(name)}"></a></li>'
                for i, link in enumerate(shown)
            )
            + "</ul>"
        )
    duration = _num(video.get("duration_s")) or 0.0
    motion_total = _num(video.get("motion_s_total"))
    peaks = [_num(s.get("peak_score")) or 0.0 for s in segments]
    analysed = video.get("segment_count") is not None or bool(segments) or motion is not None
    data = {
        "id": vid,
        "search": _search_text(video),
        "fields": json.dumps(fields, ensure_ascii=False, sort_keys=True),
        "duration": _attr_num(duration),
        "motion": _attr_num(motion_total or 0.0),
        "share": _attr_num((motion_total or 0.0) / duration if duration > 0 else 0.0),
        "peak": _attr_num(max(peaks) if peaks else 0.0),
        "size": _attr_num(video.get("file_size_bytes")),
        "indexed": str(video.get("indexed_at") or ""),
        "analysed": "1" if analysed else "0",
        "segments": str(video.get("segment_count") or len(segments)),
    }
    data_attrs = " ".join(f'data-{k}="{_e(v)}"' for k, v in data.items())
    heading_id = f"h-{quote(vid, safe='')}"
    media_class = "media" if proxy or poster else "media bare"
    return (
        f'<article class="card" id="v-{_e(quote(vid, safe=""))}" aria-labelledby="{_e(heading_id)}" '
        f"{data_attrs}>"
        f'<div class="{media_class}">{media}</div>'
        f'<div class="body">'
        f'<header><h2 id="{_e(heading_id)}">{_e(vid)}</h2>'
        f'<p class="source" title="{_e(source)}"><span class="dir">{_e(folder)}</span>'
        f'<span class="file">{_e(name)}</span></p>'
        + (f'<ul class="chips">{chips}</ul>' if chips else "")
        + ("".join(badges))
        + "</header>"
        f"{_facts(video)}"
        f'<figure class="timeline">{timeline}'
        f"<figcaption>{_e(_motion_caption(video, segments, motion))}</figcaption></figure>"
        f"{_segment_chips(segments, bool(proxy))}"
        f"{reel}{thumb_strip}{_artifact_links(video, by_type)}"
        "</div></article>"
    )


# --------------------------------------------------------------------------------------------
# Page
# --------------------------------------------------------------------------------------------


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
            f'<tr data-search="{_e(search)}">'
            f'<td class="mono wrap">{_e(f.get("input_uri"))}</td>'
            f"<td>{_e(f.get('video_id') or '–')}</td>"
            f'<td><span class="stage">{_e(f.get("stage"))}</span></td>'
            f"<td>{'–' if chunk is None else _e(chunk)}</td>"
            f'<td class="mono">{_e(f.get("error_type"))}</td>'
            f'<td class="wrap">{_e(f.get("message"))}</td>'
            f"<td>{'permanent' if f.get('permanent') else 'retryable'}</td>"
            f'<td class="nowrap">{_e(_fmt_time(f.get("failed_at")))}</td>'
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
            f'<option value="{_e(v)}">{_e(v)} ({n})</option>' for v, n in sorted(counts.items())
        )
        selects.append(
            f'<label class="control"><span>{_e(key)}</span>'
            f'<select id="f-{i}" data-field="{_e(key)}"><option value="">All</option>'
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
    total = sum(_num(v.get("duration_s")) or 0.0 for v in videos)
    moving = sum(_num(v.get("motion_s_total")) or 0.0 for v in videos)
    with_motion = sum(1 for v in videos if (v.get("segment_count") or 0) > 0)
    size = sum(_num(v.get("file_size_bytes")) or 0.0 for v in videos)
    failed_inputs = len({f.get("input_uri") for f in failures})
    stats = (
        ("Videos", f"{len(videos):,}"),
        ("Footage", _fmt_duration(total)),
        ("Source size", _fmt_bytes(size)),
        ("With motion", f"{with_motion:,}"),
        ("Segments", f"{len(segments):,}"),
        ("Motion", _fmt_duration(moving)),
        ("Failed inputs", f"{failed_inputs:,}"),
    )
    cells = "".join(
        f'<div class="stat{" warn" if k == "Failed inputs" and failed_inputs else ""}">'
        f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>"
        for k, v in stats
    )
    return f'<dl class="summary">{cells}</dl>'


def _static_files() -> dict[str, bytes]:
    folder = resources.files("transforms").joinpath(ASSETS_PACKAGE_DIR)
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
    video_rows = sorted((_as_dict(v) for v in videos), key=lambda v: str(v.get("video_id")))
    segment_rows = sorted(
        (_as_dict(s) for s in segments),
        key=lambda s: (str(s.get("video_id")), int(s.get("segment_index") or 0)),
    )
    asset_rows = [_as_dict(a) for a in assets]
    failure_rows = sorted(
        (_as_dict(f) for f in failures),
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
        _card(
            v,
            segs_by_video.get(str(v["video_id"]), []),
            _assets_by_type(assets_by_video.get(str(v["video_id"]), [])),
            motion_by_video.get(str(v["video_id"])),
            failures_by_video.get(str(v["video_id"]), []),
        )
        for v in video_rows
    )
    stamps = [str(v.get("indexed_at")) for v in video_rows if v.get("indexed_at")]
    stamps += [str(f.get("failed_at")) for f in failure_rows if f.get("failed_at")]
    updated = _fmt_time(max(stamps)) if stamps else "–"
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
<meta name="generator" content="reelbeam {_e(PIPELINE_VERSION)}">
<title>{_e(title)}: {len(video_rows)} video{"s" if len(video_rows) != 1 else ""}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/report.css">
<script src="assets/report.js" defer></script>
</head>
<body>
<a class="skip" href="#cards">Skip to the videos</a>
<header class="page-head">
<div class="title"><h1>{_e(title)}</h1><p class="muted">Catalog updated {_e(updated)}</p></div>
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
<footer class="page-foot muted">{_e(" · ".join(footer_bits))}</footer>
</body>
</html>
"""
    files = {"index.html": page.encode("utf-8")}
    files.update(_static_files())
    return files


# --------------------------------------------------------------------------------------------
# Reading the catalog and writing the page
# --------------------------------------------------------------------------------------------


def report_uri(output: str) -> str:
    """``<output>/report/index.html``."""
    return FileSystems.join(output, REPORT_DIR, "index.html")


def _read_json(uri: str) -> dict | None:
    try:
        if not FileSystems.exists(uri):
            return None
        with FileSystems.open(uri) as handle:
            doc = json.loads(handle.read().decode("utf-8"))
        return doc if isinstance(doc, dict) else None
    except Exception as exc:  # a bad motion.json costs its timeline, not the page
        logging.warning("report: cannot read %s: %s", uri, exc)
        return None


def read_motion_documents(
    output: str, videos: Sequence[Mapping[str, Any]], assets: Sequence[Mapping[str, Any]]
) -> dict[str, dict]:
    """``video_id`` -> ``motion.json`` for every video that has one.

    Looks at ``<output>/videos/<id>/motion.json`` first (where the run wrote it, also after the
    output folder was moved), then at the URI of the video's ``motion`` asset row.
    """

    def scheme(uri: str) -> str:
        return uri.split("://", 1)[0] if "://" in uri else "file"

    # A row's URI on another file system (a catalog copied off its bucket) is not worth a
    # round of credential look-ups and retries per video.
    listed = {
        str(a["video_id"]): str(a["uri"])
        for a in assets
        if a.get("asset_type") == "motion" and scheme(str(a.get("uri"))) == scheme(output)
    }

    def load(video_id: str) -> tuple[str, dict | None]:
        for uri in (artifact_uri(output, video_id, "motion.json"), listed.get(video_id)):
            if uri:
                doc = _read_json(uri)
                if doc is not None:
                    return video_id, doc
        return video_id, None

    ids = [str(v["video_id"]) for v in videos]
    with ThreadPoolExecutor(max_workers=16) as pool:
        return {vid: doc for vid, doc in pool.map(load, ids) if doc is not None}


def has_catalog(output: str) -> bool:
    """Whether ``<output>/catalog/videos.jsonl`` or ``failures.jsonl`` exists."""
    return any(FileSystems.exists(catalog_path(output, t)) for t in ("videos", "failures"))


def write_report(output: str) -> str:
    """Read the catalog under ``output`` and write ``<output>/report/``; returns the index URI.

    Each file is written to a temporary name and renamed into place (``index.html`` last), so
    a reader never sees a half-written page.
    """
    videos = read_table(output, "videos")
    segments = read_table(output, "segments")
    assets = read_table(output, "assets")
    failures = read_table(output, "failures")
    motion = read_motion_documents(output, videos, assets)
    files = render_report(
        videos, segments, assets, failures, motion, source=FileSystems.join(output, "catalog")
    )
    index = report_uri(output)
    for rel in sorted(files, key=lambda name: name == "index.html"):
        uri = FileSystems.join(output, REPORT_DIR, *rel.split("/"))
        suffix = "." + rel.rsplit(".", 1)[-1]
        write_atomically(uri, files[rel], _MIME.get(suffix, "application/octet-stream"))
    return index


class _WriteReportFn(beam.DoFn):
    def __init__(self, output: str):
        self._output = output

    def process(self, _unused):
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

    def expand(self, done):
        return (
            done
            | "Done" >> beam.combiners.Count.Globally().without_defaults()
            | "Write" >> beam.ParDo(_WriteReportFn(self._output))
        )


# --------------------------------------------------------------------------------------------
# reelbeam report --output DIR
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``reelbeam report --output DIR``: rebuild the report page from a catalog alone.

    Returns:
        0 and prints the index URI; 2 with one line when there is no catalog under DIR.
    """
    parser = argparse.ArgumentParser(
        prog="reelbeam report",
        description="Rebuild <output>/report/index.html (static, offline) from the catalog.",
    )
    parser.add_argument(
        "--output",
        default="./out",
        help="folder or gs:// prefix that holds catalog/ and videos/ (default: ./out)",
    )
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help (0) or a bad option (2, argparse printed one line)
        return int(exc.code or 0)
    output = args.output
    if "://" not in output:
        output = os.path.abspath(output)
    try:
        found = has_catalog(output)
    except Exception as exc:
        print(f"reelbeam report: error: cannot read {output}: {exc}", file=sys.stderr)
        return 2
    if not found:
        print(
            f"reelbeam report: error: no catalog under {output} "
            f"(expected {catalog_path(output, 'videos')})",
            file=sys.stderr,
        )
        return 2
    print(write_report(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
