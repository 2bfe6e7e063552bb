"""Report test helpers: catalog row builders, a small sample catalog, an HTML checker.

Shared by the report tests at every level (unit, pipeline, integration).
"""

from __future__ import annotations

import datetime as dt
import html.parser
import pathlib

from transforms.schemas import AssetRow, FailureRow, SegmentRow, VideoRow

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
HOSTILE = 'a"<b>&ü.mp4'
FULL = "event1-day1-cam1"
"""The fully rendered video of :func:`sample_rows`."""


def video_row(video_id: str, output: str, **overrides) -> VideoRow:
    """A ``videos`` row of a 4 s 640x360 H.264 clip, not analysed, nothing rendered."""
    fields = {
        "video_id": video_id,
        "source_uri": f"/archive/{video_id}.mp4",
        "file_name": f"{video_id}.mp4",
        "file_size_bytes": 1_234_567,
        "source_mtime": NOW,
        "container": "mov,mp4,m4a,3gp,3g2,mj2",
        "duration_s": 4.0,
        "width": 640,
        "height": 360,
        "display_width": 640,
        "display_height": 360,
        "rotation_deg": 0,
        "sample_aspect_ratio": "1:1",
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "bitrate_kbps": 800.0,
        "fps": 25.0,
        "is_vfr": False,
        "frame_count": 100,
        "has_audio": False,
        "audio_codec": None,
        "audio_channels": None,
        "audio_sample_rate": None,
        "path_fields": {},
        "segment_count": None,
        "motion_s_total": None,
        "failed_chunks": None,
        "proxy_uri": None,
        "proxy_size_bytes": None,
        "highlights_uri": None,
        "highlights_duration_s": None,
        "scanned_at": NOW,
        "indexed_at": NOW,
        "pipeline_version": "0.1.0",
    }
    fields.update(overrides)
    return VideoRow(**fields)


def segment_row(video_id: str, index: int, start: float, end: float, peak: float = 1.2):
    """A ``segments`` row from ``start`` to ``end`` seconds, mean score half the peak."""
    return SegmentRow(
        video_id=video_id,
        segment_index=index,
        start_s=start,
        end_s=end,
        duration_s=round(end - start, 3),
        peak_score=peak,
        mean_score=peak / 2,
        max_people=1,
    )


def asset_row(video_id: str, asset_type: str, uri: str, **overrides) -> AssetRow:
    """An ``assets`` row of 1000 bytes."""
    fields = {
        "video_id": video_id,
        "asset_type": asset_type,
        "uri": uri,
        "width": None,
        "height": None,
        "duration_s": None,
        "bitrate_kbps": None,
        "size_bytes": 1000,
        "md5": "0" * 32,
        "codec": None,
    }
    fields.update(overrides)
    return AssetRow(**fields)


def failure_row(input_uri: str, stage: str, message: str, **overrides) -> FailureRow:
    """A permanent ``CorruptMediaError`` failure row."""
    fields = {
        "input_uri": input_uri,
        "video_id": None,
        "stage": stage,
        "error_type": "CorruptMediaError",
        "message": message,
        "permanent": True,
        "chunk_index": None,
        "failed_at": NOW,
        "pipeline_version": "0.1.0",
    }
    fields.update(overrides)
    return FailureRow(**fields)


def motion_doc(video_id: str, duration: float, segments: list[tuple[float, float]], fps=5.0):
    """A ``motion.json`` document: score 0.9 inside ``segments``, 0.02 elsewhere, threshold 0.15."""
    times = [round(i / fps, 3) for i in range(int(duration * fps))]
    scores = [0.9 if any(a <= t < b for a, b in segments) else 0.02 for t in times]
    return {
        "video_id": video_id,
        "pose_fps": fps,
        "chunk_count": 1,
        "failed_chunks": [],
        "frames_gated": 0,
        "params": {"threshold": 0.15},
        "times_s": times,
        "scores": scores,
        "people": [1] * len(times),
        "segments": [[a, b, 0.9, 0.9, 1] for a, b in segments],
    }


def sample_rows() -> tuple[list, list, list, list, dict]:
    """A small catalog: a fully rendered video on GCS, a hostile local one, one not analysed.

    Returns:
        ``(videos, segments, assets, failures, motion_by_video)``, the arguments of
        ``render_report``.
    """
    out = "gs://bucket/out"
    full = FULL
    videos = [
        video_row(
            full,
            out,
            path_fields={"event": "event1", "day": "day1", "camera": "cam1"},
            segment_count=2,
            motion_s_total=2.0,
            failed_chunks=1,
            proxy_uri=f"{out}/videos/{full}/proxy_720p.mp4",
            proxy_size_bytes=2000,
            highlights_uri=f"{out}/videos/{full}/highlights.mp4",
            highlights_duration_s=7.0,
        ),
        video_row(
            "hostile",
            out,
            file_name=HOSTILE,
            source_uri=f"/archive/day2/{HOSTILE}",
            path_fields={"event": 'ev"<x>', "day": "day2"},
            segment_count=1,
            motion_s_total=1.0,
        ),
        video_row("still", out, path_fields={"event": "event2", "day": "day1"}, duration_s=90.0),
    ]
    segments = [
        segment_row(full, 0, 0.5, 1.5),
        segment_row(full, 1, 2.0, 3.0),
        segment_row("hostile", 0, 1.0, 2.0),
    ]
    base = f"{out}/videos/{full}"
    assets = [
        asset_row(full, "proxy", f"{base}/proxy_720p.mp4", height=720, duration_s=4.0),
        asset_row(full, "rendition", f"{base}/rendition_1080p.mp4", width=1920, height=1080),
        asset_row(full, "rendition", f"{base}/rendition_480p.mp4", width=854, height=480),
        *[asset_row(full, "thumbnail", f"{base}/thumbs/{i:03d}.jpg") for i in range(3)],
        asset_row(full, "preview", f"{base}/preview.webp"),
        asset_row(full, "highlights", f"{base}/highlights.mp4", duration_s=7.0),
        asset_row(full, "timeline", f"{base}/highlights.otio"),
        asset_row(full, "motion", f"{base}/motion.json"),
    ]
    failures = [
        failure_row("/archive/bad.mp4", "probe", "moov atom not found <script>alert(1)</script>"),
        failure_row(
            f"/archive/{full}.mp4",
            "detect",
            "chunk timed out",
            video_id=full,
            chunk_index=3,
            permanent=False,
        ),
    ]
    motion = {full: motion_doc(full, 4.0, [(0.5, 1.5), (2.0, 3.0)])}
    return videos, segments, assets, failures, motion


class Page(html.parser.HTMLParser):
    """Collects elements and checks that every non-void element is closed in order."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    VOID |= {"track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.elements: list[tuple[str, dict, list[str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), list(self.stack)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), list(self.stack)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **attrs):
        return [
            a
            for t, a, _ in self.elements
            if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def parse(page: bytes) -> Page:
    """The page parsed by :class:`Page`."""
    parsed = Page()
    parsed.feed(page.decode("utf-8"))
    parsed.close()
    return parsed


def cards_of(parsed: Page) -> list[dict]:
    """The attributes of the page's video cards, in page order."""
    return [a for a in parsed.find("article") if "card" in a.get("class", "").split()]


def write_catalog(output: pathlib.Path, videos, segments, assets, failures) -> None:
    """Write the four tables as ``<output>/catalog/<table>.jsonl``."""
    folder = output / "catalog"
    folder.mkdir(parents=True, exist_ok=True)
    for table, table_rows in (
        ("videos", videos),
        ("segments", segments),
        ("assets", assets),
        ("failures", failures),
    ):
        text = "".join(row.to_json() + "\n" for row in table_rows)
        (folder / f"{table}.jsonl").write_text(text, encoding="utf-8")
