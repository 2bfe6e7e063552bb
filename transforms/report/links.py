"""Links from ``report/index.html`` to a video's artifacts: relative, percent-encoded, safe.

Pure functions (no Beam, no IO): :func:`relative_link` maps an artifact URI from a catalog row to
the page's relative link, and :func:`artifact_links` renders a card's ladder and file list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from transforms.report.format import bytes_text, escape, finite_number

__all__ = ["artifact_links", "base_name", "first_link", "relative_link"]


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


def base_name(uri: str) -> str:
    """The last part of a path or URI (``/`` or ``\\`` separated)."""
    return uri.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def first_link(candidates: Iterable[str | None], video_id: str) -> str | None:
    """The relative link of the first candidate URI that has one, or None."""
    for uri in candidates:
        link = relative_link(uri, video_id)
        if link:
            return link
    return None


def _anchor(href: str, text: str, title: str = "") -> str:
    tip = f' title="{escape(title)}"' if title else ""
    return f'<a href="{escape(href)}"{tip}>{escape(text)}</a>'


def _ladder(video_id: str, renditions: Iterable[Mapping[str, Any]]) -> list[str]:
    """Links to the renditions, tallest first."""
    ladder: list[tuple[int, str]] = []
    for rendition in renditions:
        link = relative_link(rendition.get("uri"), video_id)
        if not link:
            continue
        height = int(rendition.get("height") or 0)
        kbps = finite_number(rendition.get("bitrate_kbps"))
        tip = ", ".join(
            p
            for p in (
                f"{rendition.get('width')}×{rendition.get('height')}",
                f"{kbps:,.0f} kb/s" if kbps else "",
                bytes_text(rendition.get("size_bytes")),
                str(rendition.get("codec") or ""),
            )
            if p
        )
        ladder.append((height, _anchor(link, f"{height}p" if height else base_name(link), tip)))
    ladder.sort(key=lambda item: -item[0])
    return [anchor for _, anchor in ladder]


def artifact_links(video: Mapping[str, Any], by_type: Mapping[str, list[dict]]) -> str:
    """A card's ``<nav>`` of artifact links (ladder, proxy, reel, timeline, preview, motion).

    Args:
        video: the ``videos`` row.
        by_type: the video's ``assets`` rows grouped by ``asset_type``.

    Returns:
        The HTML, or a muted "No artifacts rendered yet." paragraph when nothing links.
    """
    vid = str(video["video_id"])
    items: list[str] = []
    proxy_rows = by_type.get("proxy", [])
    proxy = first_link([video.get("proxy_uri")] + [a.get("uri") for a in proxy_rows], vid)
    if proxy:
        size = video.get("proxy_size_bytes") or (
            proxy_rows[0].get("size_bytes") if proxy_rows else None
        )
        height = proxy_rows[0].get("height") if proxy_rows else None
        text = f"Proxy {height}p" if height else "Proxy"
        items.append(_anchor(proxy, text, f"proxy, {bytes_text(size)}" if size else "proxy"))
    ladder = _ladder(vid, by_type.get("rendition", []))
    highlights = first_link(
        [video.get("highlights_uri")] + [a.get("uri") for a in by_type.get("highlights", [])], vid
    )
    if highlights:
        items.append(_anchor(highlights, "Highlights", "highlight reel (MP4)"))
    for kind, text in (
        ("timeline", "Timeline (.otio)"),
        ("preview", "Preview"),
        ("motion", "motion.json"),
    ):
        for asset in by_type.get(kind, []):
            link = relative_link(asset.get("uri"), vid)
            if link:
                label = text if kind != "timeline" or link.endswith(".otio") else base_name(link)
                items.append(_anchor(link, label, bytes_text(asset.get("size_bytes"))))
    parts = []
    if ladder:
        parts.append(
            '<li class="links-label">Ladder</li>' + "".join(f"<li>{a}</li>" for a in ladder)
        )
    if items:
        parts.append('<li class="links-label">Files</li>' + "".join(f"<li>{a}</li>" for a in items))
    if not parts:
        return '<p class="links muted">No artifacts rendered yet.</p>'
    return (
        f'<nav class="links" aria-label="Artifacts of {escape(vid)}">'
        f"<ul>{''.join(parts)}</ul></nav>"
    )
