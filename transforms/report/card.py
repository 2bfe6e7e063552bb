"""One video's card on the report page: media, probe facts, timeline, segments, artifacts.

Pure (no Beam, no IO): :func:`render_card` turns a ``videos`` row and the video's segments,
assets, ``motion.json`` and failures into an ``<article class="card">``. Absent artifacts leave
a placeholder, never a broken link; the ``data-*`` attributes feed the page's search, filter
and sort.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from transforms.report.format import (
    attr_number,
    bytes_text,
    duration_text,
    escape,
    finite_number,
    span_text,
    time_text,
)
from transforms.report.links import artifact_links, base_name, first_link, relative_link
from transforms.report.timeline import render_timeline_svg

__all__ = ["render_card"]

_MAX_SEGMENT_CHIPS = 12
_MAX_THUMBS = 8


def _assets_by_type(assets: Iterable[Mapping[str, Any]]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for asset in assets:
        grouped[str(asset.get("asset_type"))].append(dict(asset))
    for rows in grouped.values():
        rows.sort(key=lambda a: str(a.get("uri")))
    return grouped


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
    rate = finite_number(video.get("audio_sample_rate"))
    if rate:
        parts.append(f"{rate / 1000:g} kHz")
    return " · ".join(parts)


def decode_errors_text(video: Mapping[str, Any]) -> str:
    """``"video 3 · audio 2"``: damaged packets concealed per stream kind ("" when none)."""
    counts = video.get("decode_errors")
    if not isinstance(counts, Mapping):
        return ""
    parts = []
    for kind, n in sorted(counts.items()):
        value = finite_number(n)
        if value:
            parts.append(f"{kind} {int(value):,}")
    return " · ".join(parts)


def _damage_badge(video: Mapping[str, Any]) -> str:
    text = decode_errors_text(video)
    if not text:
        return ""
    total = sum(int(finite_number(n) or 0) for n in video["decode_errors"].values())
    label = f"{total:,} damaged packet{'s' if total != 1 else ''} concealed"
    return f'<span class="badge warn" title="{escape(text)}">{escape(label)}</span>'


def _facts(video: Mapping[str, Any]) -> str:
    fps = finite_number(video.get("fps"))
    rate = f"{fps:.3g} fps" if fps else "–"
    if video.get("is_vfr"):
        rate += ' <span class="badge">VFR</span>'
    codec = [str(video.get("codec") or "?")]
    if video.get("pix_fmt"):
        codec.append(str(video["pix_fmt"]))
    kbps = finite_number(video.get("bitrate_kbps"))
    if kbps:
        codec.append(f"{kbps:,.0f} kb/s")
    container = str(video.get("container") or "").split(",")[0]
    frames = video.get("frame_count")
    rows = [
        ("Duration", escape(duration_text(video.get("duration_s")))
         + (f' <span class="muted">· {int(frames):,} frames</span>' if frames else "")),
        ("Picture", escape(_picture(video))),
        ("Video", escape(" · ".join(codec))),
        ("Frame rate", rate if "badge" in rate else escape(rate)),
        ("Audio", escape(_audio(video))),
        *([("Damage", escape(decode_errors_text(video) + " packets concealed"))]
          if decode_errors_text(video) else []),
        ("File", escape(bytes_text(video.get("file_size_bytes")))
         + (f' <span class="muted">· {escape(container)}</span>' if container else "")),
        ("Modified", escape(time_text(video.get("source_mtime")))),
        ("Indexed", escape(time_text(video.get("indexed_at")))),
    ]  # fmt: skip
    body = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in rows)
    return f'<dl class="facts">{body}</dl>'


def _motion_caption(video: Mapping[str, Any], segments: Sequence[Mapping], motion) -> str:
    count = video.get("segment_count")
    if count is None and not segments and not motion:
        return "Not analysed for motion."
    count = len(segments) if count is None else count
    total = finite_number(video.get("motion_s_total"))
    if total is None:
        total = sum(finite_number(s.get("duration_s")) or 0.0 for s in segments)
    duration = finite_number(video.get("duration_s")) or 0.0
    share = f" ({total / duration:.0%})" if duration > 0 else ""
    parts = [f"{count} segment{'s' if count != 1 else ''}", f"{total:.1f} s moving{share}"]
    peaks = [finite_number(s.get("peak_score")) or 0.0 for s in segments]
    if peaks:
        parts.append(f"peak {max(peaks):.2f}")
    threshold = finite_number(((motion or {}).get("params") or {}).get("threshold"))
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
        start = finite_number(seg.get("start_s")) or 0.0
        end = finite_number(seg.get("end_s")) or start
        text = escape(span_text(start, end))
        title = escape(
            f"peak {(finite_number(seg.get('peak_score')) or 0):.2f}, {end - start:.1f} s"
        )
        if seekable:
            chips.append(
                f'<li><button type="button" class="chip seek" data-seek="{start:g}" '
                f'title="Play from {escape(span_text(start, end))} ({title})">▶ {text}</button></li>'
            )
        else:
            chips.append(f'<li><span class="chip" title="{title}">{text}</span></li>')
    more = len(segments) - _MAX_SEGMENT_CHIPS
    if more > 0:
        chips.append(f'<li><span class="chip muted">+{more} more</span></li>')
    return f'<ul class="segments" aria-label="Motion segments">{"".join(chips)}</ul>'


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


def render_card(
    video: Mapping[str, Any],
    segments: Sequence[Mapping[str, Any]],
    assets: Iterable[Mapping[str, Any]],
    motion: Mapping[str, Any] | None,
    failures: Sequence[Mapping[str, Any]],
) -> str:
    """The ``<article class="card">`` of one video.

    Args:
        video: its ``videos`` row, as a dict.
        segments: its ``segments`` rows, in ``segment_index`` order.
        assets: its ``assets`` rows, any order.
        motion: its ``motion.json`` document, or None (the timeline shows the segments only).
        failures: its ``failures`` rows (a badge links to the failures table).

    Returns:
        The card's HTML; every artifact link is relative to ``report/index.html``.
    """
    by_type = _assets_by_type(assets)
    vid = str(video["video_id"])
    name = str(video.get("file_name") or vid)
    thumbs = by_type.get("thumbnail", [])
    thumb_links = [link for a in thumbs if (link := relative_link(a.get("uri"), vid))]
    poster = thumb_links[len(thumb_links) // 2] if thumb_links else None
    if poster is None:
        poster = first_link([a.get("uri") for a in by_type.get("preview", [])], vid)
    proxy_rows = by_type.get("proxy", [])
    proxy = first_link([video.get("proxy_uri")] + [a.get("uri") for a in proxy_rows], vid)
    proxy_duration = (proxy_rows[0].get("duration_s") if proxy_rows else None) or video.get(
        "duration_s"
    )
    if proxy:
        poster_attr = f' poster="{escape(poster)}"' if poster else ""
        media = (
            f'<video class="proxy" controls preload="metadata" playsinline{poster_attr} '
            f'src="{escape(proxy)}" data-duration="{attr_number(proxy_duration)}" '
            f'aria-label="Proxy of {escape(name)}">'
            f'<a href="{escape(proxy)}">Download the proxy of {escape(name)}</a></video>'
        )
    elif poster:
        media = (
            f'<img class="poster" src="{escape(poster)}" loading="lazy" '
            f'alt="Poster frame of {escape(name)}">'
            '<span class="media-note">No proxy yet</span>'
        )
    else:
        media = (
            f'<div class="placeholder" role="img" aria-label="No preview of {escape(name)} yet">'
            "<span>No preview yet</span></div>"
        )

    fields = video.get("path_fields") or {}
    chips = "".join(
        f'<li class="chip field"><span class="k">{escape(k)}</span> {escape(v)}</li>'
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
    damage = _damage_badge(video)
    if damage:
        badges.append(damage)
    source = str(video.get("source_uri") or "")
    folder = source[: len(source) - len(base_name(source))] if source.endswith(name) else ""
    timeline = render_timeline_svg(
        vid, video.get("duration_s"), segments, motion, seekable=bool(proxy)
    )
    highlights = first_link(
        [video.get("highlights_uri")] + [a.get("uri") for a in by_type.get("highlights", [])], vid
    )
    reel = ""
    if highlights:
        hl_rows = by_type.get("highlights", [])
        hl_duration = video.get("highlights_duration_s") or (
            hl_rows[0].get("duration_s") if hl_rows else None
        )
        summary = "Highlight reel" + (f" · {duration_text(hl_duration)}" if hl_duration else "")
        poster_attr = f' poster="{escape(poster)}"' if poster else ""
        reel = (
            f'<details class="reel"><summary>{escape(summary)}</summary>'
            f'<video class="highlights" controls preload="none" playsinline{poster_attr} '
            f'src="{escape(highlights)}" aria-label="Highlight reel of {escape(name)}">'
            f'<a href="{escape(highlights)}">Download the highlight reel</a></video></details>'
        )
    thumb_strip = ""
    if len(thumb_links) > 1:
        shown = thumb_links[:_MAX_THUMBS]
        thumb_strip = (
            '<ul class="thumbs" aria-label="Thumbnails">'
            + "".join(
                f'<li><a href="{escape(link)}"><img src="{escape(link)}" loading="lazy" '
                f'alt="Thumbnail {i + 1} of {len(thumb_links)} of {escape(name)}"></a></li>'
                for i, link in enumerate(shown)
            )
            + "</ul>"
        )
    duration = finite_number(video.get("duration_s")) or 0.0
    motion_total = finite_number(video.get("motion_s_total"))
    peaks = [finite_number(s.get("peak_score")) or 0.0 for s in segments]
    analysed = video.get("segment_count") is not None or bool(segments) or motion is not None
    data = {
        "id": vid,
        "search": _search_text(video),
        "fields": json.dumps(fields, ensure_ascii=False, sort_keys=True),
        "duration": attr_number(duration),
        "motion": attr_number(motion_total or 0.0),
        "share": attr_number((motion_total or 0.0) / duration if duration > 0 else 0.0),
        "peak": attr_number(max(peaks) if peaks else 0.0),
        "size": attr_number(video.get("file_size_bytes")),
        "indexed": str(video.get("indexed_at") or ""),
        "analysed": "1" if analysed else "0",
        "segments": str(video.get("segment_count") or len(segments)),
    }
    data_attrs = " ".join(f'data-{k}="{escape(v)}"' for k, v in data.items())
    heading_id = f"h-{quote(vid, safe='')}"
    media_class = "media" if proxy or poster else "media bare"
    return (
        f'<article class="card" id="v-{escape(quote(vid, safe=""))}" aria-labelledby="{escape(heading_id)}" '
        f"{data_attrs}>"
        f'<div class="{media_class}">{media}</div>'
        f'<div class="body">'
        f'<header><h2 id="{escape(heading_id)}">{escape(vid)}</h2>'
        f'<p class="source" title="{escape(source)}"><span class="dir">{escape(folder)}</span>'
        f'<span class="file">{escape(name)}</span></p>'
        + (f'<ul class="chips">{chips}</ul>' if chips else "")
        + ("".join(badges))
        + "</header>"
        f"{_facts(video)}"
        f'<figure class="timeline">{timeline}'
        f"<figcaption>{escape(_motion_caption(video, segments, motion))}</figcaption></figure>"
        f"{_segment_chips(segments, bool(proxy))}"
        f"{reel}{thumb_strip}{artifact_links(video, by_type)}"
        "</div></article>"
    )
