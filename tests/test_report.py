"""The report page: ``render_report`` on rows, ``write_report``/``reelbeam report`` on a catalog,
and the page in real headless Chromium (Debian's ``chromium``), driven over the DevTools protocol.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import html.parser
import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest

from transforms import report
from transforms.schemas import AssetRow, FailureRow, SegmentRow, VideoRow

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
HOSTILE = 'a"<b>&ü.mp4'


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


def video_row(video_id: str, output: str, **overrides) -> VideoRow:
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


@pytest.fixture()
def rows():
    """A small catalog: a fully rendered video on GCS, a hostile local one, one not analysed."""
    out = "gs://bucket/out"
    full = "event1-day1-cam1"
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


class _Page(html.parser.HTMLParser):
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


def parse(page: bytes) -> _Page:
    parsed = _Page()
    parsed.feed(page.decode("utf-8"))
    parsed.close()
    return parsed


def cards_of(parsed: _Page) -> list[dict]:
    return [a for a in parsed.find("article") if "card" in a.get("class", "").split()]


# --------------------------------------------------------------------------------------------
# render_report
# --------------------------------------------------------------------------------------------


def test_one_card_per_video_and_static_assets(rows):
    files = report.render_report(*rows)
    assert set(files) == {"index.html", "assets/report.css", "assets/report.js"}
    parsed = parse(files["index.html"])
    cards = cards_of(parsed)
    assert [c["data-id"] for c in cards] == ["event1-day1-cam1", "hostile", "still"]
    assert parsed.find("link", rel="stylesheet", href="assets/report.css")
    assert parsed.find("script", src="assets/report.js")
    assert len(parsed.find("script")) == 1  # no inline or injected scripts


def test_page_is_well_formed_and_accessible(rows):
    parsed = parse(report.render_report(*rows)["index.html"])
    assert parsed.errors == []
    assert parsed.stack == []
    ids = [a["id"] for _, a, _ in parsed.elements if "id" in a]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for img in parsed.find("img"):
        assert img.get("alt"), img
    for tag, attrs, ancestors in parsed.elements:
        if tag in ("input", "select"):
            assert "label" in ancestors or attrs.get("aria-label"), (tag, attrs)
    for svg in parsed.find("svg"):
        assert svg.get("role") == "img" and svg.get("aria-label")
    for video in parsed.find("video"):
        assert video.get("aria-label")
    assert parsed.find("html", lang="en")


def test_hostile_names_are_escaped(rows):
    page = report.render_report(*rows)["index.html"].decode("utf-8")
    assert HOSTILE not in page
    assert "a&quot;&lt;b&gt;&amp;ü.mp4" in page  # non-ASCII kept as UTF-8
    assert 'ev"<x>' not in page and "ev&quot;&lt;x&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = parse(page.encode("utf-8"))
    (hostile,) = [c for c in cards_of(parsed) if c["data-id"] == "hostile"]
    assert json.loads(hostile["data-fields"]) == {"event": 'ev"<x>', "day": "day2"}
    assert any(HOSTILE in t for t in parsed.text)  # the browser shows the real name


def test_artifact_links_are_relative(rows):
    parsed = parse(report.render_report(*rows)["index.html"])
    links = [a.get("href") or a.get("src") or a.get("poster") for _, a, _ in parsed.elements]
    links = [link for link in links if link and not link.startswith(("#", "data:"))]
    assert links
    for link in links:
        assert "://" not in link and not link.startswith("/"), link
    base = "../videos/event1-day1-cam1"
    (proxy,) = parsed.find("video", **{"class": "proxy"})
    assert proxy["src"] == f"{base}/proxy_720p.mp4"
    assert proxy["poster"] == f"{base}/thumbs/001.jpg"
    assert proxy["data-duration"] == "4"
    (reel,) = parsed.find("video", **{"class": "highlights"})
    assert reel["src"] == f"{base}/highlights.mp4"
    hrefs = [a["href"] for a in parsed.find("a") if "href" in a]
    for name in ("rendition_1080p.mp4", "rendition_480p.mp4", "highlights.otio", "motion.json"):
        assert f"{base}/{name}" in hrefs
    # the ladder lists the tallest first
    assert hrefs.index(f"{base}/rendition_1080p.mp4") < hrefs.index(f"{base}/rendition_480p.mp4")


def test_relative_link():
    assert (
        report.relative_link("/o/videos/v1/proxy_720p.mp4", "v1") == "../videos/v1/proxy_720p.mp4"
    )
    assert report.relative_link("gs://b/x/videos/v1/thumbs/000.jpg", "v1") == (
        "../videos/v1/thumbs/000.jpg"
    )
    assert report.relative_link(r"C:\o\videos\v1\motion.json", "v1") == "../videos/v1/motion.json"
    assert report.relative_link("/o/videos/a b#?/x y.mp4", "a b#?") == (
        "../videos/a%20b%23%3F/x%20y.mp4"
    )
    assert report.relative_link("https://cdn.example/x.mp4", "v1") == "https://cdn.example/x.mp4"
    assert report.relative_link("/elsewhere/x.mp4", "v1") is None
    assert report.relative_link("/o/videos/v1/../../etc/passwd", "v1") is None
    assert report.relative_link(None, "v1") is None


def test_failures_table(rows):
    parsed = parse(report.render_report(*rows)["index.html"])
    body_rows = [a for t, a, anc in parsed.elements if t == "tr" and "tbody" in anc]
    assert len(body_rows) == 2
    assert "moov atom not found <script>alert(1)</script>" in "".join(parsed.text)
    headers = [a for t, a, _ in parsed.elements if t == "th"]
    assert all(h.get("scope") == "col" for h in headers)
    # the card of a video with failed chunks points at the table
    assert any(a.get("href") == "#failures" for a in parsed.find("a"))


def test_no_failures_and_no_videos():
    parsed = parse(report.render_report([], [], [], [], {})["index.html"])
    assert cards_of(parsed) == []
    text = "".join(parsed.text)
    assert "No videos catalogued yet." in text and "No failures." in text
    assert parsed.errors == []


def test_graceful_absence_of_artifacts(rows):
    videos, segments, assets, failures, motion = rows
    bare = [v.model_copy(update={"proxy_uri": None, "highlights_uri": None}) for v in videos]
    page = report.render_report(bare, segments, [], failures, {})["index.html"]
    parsed = parse(page)
    assert len(cards_of(parsed)) == 3
    assert parsed.find("video") == []
    assert parsed.find("img") == []
    assert "No preview yet" in "".join(parsed.text)
    assert "No artifacts rendered yet." in "".join(parsed.text)
    # a thumbnail but no proxy: the thumbnail is the poster image
    thumb = asset_row("still", "thumbnail", "/o/videos/still/thumbs/000.jpg")
    parsed = parse(report.render_report(bare[2:], [], [thumb], [], {})["index.html"])
    (img,) = parsed.find("img")
    assert img["src"] == "../videos/still/thumbs/000.jpg" and img["alt"]
    assert parsed.find("video") == []


def test_timeline_svg(rows):
    videos, segments, assets, failures, motion = rows
    svg = report.render_timeline_svg(
        "event1-day1-cam1", 4.0, [s.model_dump() for s in segments[:2]], motion["event1-day1-cam1"]
    )
    assert svg.count('class="seg"') == 2
    assert 'class="score"' in svg and 'class="threshold"' in svg
    assert ">0s<" in svg and ">4s<" in svg  # time axis
    # a long video: the polyline is thinned to at most 400 points, the peaks survive
    long_doc = motion_doc("long", 3600.0, [(100.0, 100.4)])
    svg = report.render_timeline_svg("long", 3600.0, [], long_doc)
    points = svg.split('class="score" points="')[1].split('"')[0].split()
    assert len(points) <= 400
    assert min(float(p.split(",")[1]) for p in points) < 20  # the 0.4 s burst is still drawn
    assert ">1:00:00<" in svg
    # segments without motion.json, and nothing at all
    svg = report.render_timeline_svg("x", 10.0, [segments[0].model_dump()], None)
    assert svg.count('class="seg"') == 1 and 'class="score"' not in svg
    assert "not analysed" in report.render_timeline_svg("x", 10.0, [], None)


def test_filters_come_from_the_data(rows):
    parsed = parse(report.render_report(*rows)["index.html"])
    selects = {a["data-field"] for a in parsed.find("select") if "data-field" in a}
    assert selects == {"event", "day", "camera"}
    option_values = {a.get("value") for a in parsed.find("option")}
    assert {"event1", "event2", 'ev"<x>', "day1", "day2", "cam1"} <= option_values
    assert {"duration:desc", "motion:desc", "name:asc"} <= option_values
    cards = {c["data-id"]: c for c in cards_of(parsed)}
    assert cards["event1-day1-cam1"]["data-motion"] == "2"
    assert cards["still"]["data-duration"] == "90"
    assert cards["still"]["data-analysed"] == "0"


def test_render_is_deterministic(rows):
    assert report.render_report(*rows) == report.render_report(*rows)
    as_dicts = [[r.model_dump(mode="json") for r in table] for table in rows[:4]]
    assert report.render_report(*as_dicts, rows[4]) == report.render_report(*rows)


# --------------------------------------------------------------------------------------------
# write_report, reelbeam report, WriteReport
# --------------------------------------------------------------------------------------------


def write_catalog(output: pathlib.Path, videos, segments, assets, failures) -> None:
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


def test_write_report_and_cli(tmp_path, rows, capsys):
    videos, segments, assets, failures, motion = rows
    out = tmp_path / "out"
    write_catalog(out, videos, segments, assets, failures)
    doc_path = out / "videos" / "event1-day1-cam1" / "motion.json"
    doc_path.parent.mkdir(parents=True)
    doc_path.write_text(json.dumps(motion["event1-day1-cam1"]))
    (out / "videos" / "hostile").mkdir()
    (out / "videos" / "hostile" / "motion.json").write_text("{not json")  # costs a timeline only

    assert report.main(["--output", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == [str(out / "report" / "index.html")]
    names = sorted(p.relative_to(out / "report").as_posix() for p in (out / "report").rglob("*"))
    assert names == ["assets", "assets/report.css", "assets/report.js", "index.html"]
    page = (out / "report" / "index.html").read_bytes()
    assert (
        page
        == report.render_report(
            videos, segments, assets, failures, motion, source=str(out / "catalog")
        )["index.html"]
    )
    assert page.count(b'class="score"') == 1  # motion.json was read from videos/<id>/


def test_cli_without_catalog(tmp_path, capsys):
    assert report.main(["--output", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no catalog" in err[0]


def test_write_report_transform(tmp_path, rows):
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline

    out = tmp_path / "out"
    write_catalog(out, *rows[:4])
    with TestPipeline(runner="DirectRunner") as pipeline:
        _ = pipeline | beam.Create([("videos", 3), ("segments", 3)]) | report.WriteReport(str(out))
    assert (out / "report" / "index.html").is_file()


# --------------------------------------------------------------------------------------------
# The page in headless Chromium
# --------------------------------------------------------------------------------------------

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
SCREENSHOT_COPY = pathlib.Path("/tmp/report_screenshot.png")


def find_chromium() -> str | None:
    """The Chromium binary, installing Debian's package with scripts/apt_install.sh."""
    env = os.environ.get("CHROMIUM")
    for candidate in ((env,) if env else ()) + CHROMIUM_CANDIDATES:
        path = shutil.which(candidate) if candidate else None
        if path:
            return path
    script = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "apt_install.sh"
    if script.is_file() and shutil.which("apt-get"):
        command = ["bash", str(script), "chromium", "chromium"]
        subprocess.run(command, check=False, timeout=600, capture_output=True)
        return shutil.which("chromium")
    return None


class DevTools:
    """A minimal Chrome DevTools Protocol client over the browser's websocket."""

    def __init__(self, websocket, version: str = ""):
        self._ws = websocket
        self._next = 0
        self.events: list[dict] = []
        self.version = version

    def _recv(self, deadline: float) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer from Chromium")
        return json.loads(self._ws.recv(timeout=remaining))

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout=20):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            data = self._recv(deadline)
            if data.get("id") == self._next:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
            if "method" in data:
                self.events.append(data)

    def wait_for(self, method: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["method"] == method:
                    self.events.remove(event)
                    return event
            data = self._recv(deadline)
            if "method" in data:
                self.events.append(data)

    def evaluate(self, session: str, expression: str, await_promise: bool = False):
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
            session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")


def console_errors(events: list[dict]) -> list[str]:
    errors = []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append("console: " + " ".join(str(a.get("value")) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            errors.append("exception: " + str(details.get("exception", {}).get("description")))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            errors.append(f"log: {entry.get('text')} {entry.get('url', '')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            errors.append(f"network: {params.get('errorText')} ({params.get('type')})")
    return errors


@pytest.fixture()
def browser(tmp_path):
    """A headless Chromium with remote debugging on a free port; yields a DevTools client."""
    binary = find_chromium()
    if not binary:
        pytest.skip(
            "chromium is not installed and apt-get cannot install it (scripts/apt_install.sh chromium chromium)"
        )
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    log = open(tmp_path / "chromium.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--mute-audio",
            "--hide-scrollbars",
            "--autoplay-policy=no-user-gesture-required",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            tail = (tmp_path / "chromium.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"Chromium did not start its DevTools endpoint:\n{tail}")
        time.sleep(0.05)
    port, path = port_file.read_text().splitlines()[:2]
    from websockets.sync.client import connect

    try:
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=10) as ws:
            client = DevTools(ws)
            client.version = client.call("Browser.getVersion")["product"]
            yield client
            with contextlib.suppress(Exception):
                client.call("Browser.close", timeout=5)
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def build_media_catalog(out: pathlib.Path) -> dict:
    """A catalog with real media: an H.264 proxy, a highlight reel, thumbnails, motion.json."""
    from PIL import Image

    from tests.helpers.media import write_synthetic_clip

    full, bare = "parkour-day1-cam1", "parkour-day2-cam2"
    vdir = out / "videos" / full
    proxy = write_synthetic_clip(
        vdir / "proxy_720p.mp4",
        duration_s=4.0,
        fps=25,
        width=640,
        height=360,
        codec="libx264",
        pix_fmt="yuv420p",
        container_options={"movflags": "+faststart"},
    )
    reel = write_synthetic_clip(
        vdir / "highlights.mp4",
        duration_s=2.0,
        fps=25,
        width=640,
        height=360,
        seed=1,
        container_options={"movflags": "+faststart"},
    )
    thumbs = []
    for i in range(3):
        path = vdir / "thumbs" / f"{i:03d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (320, 180), (40 + 60 * i, 90, 160)).save(path, quality=85)
        thumbs.append(asset_row(full, "thumbnail", str(path), width=320, height=180, codec="jpeg"))
    motion = motion_doc(full, proxy.duration_s, [(0.6, 1.8), (2.4, 3.4)])
    (vdir / "motion.json").write_text(json.dumps(motion))
    videos = [
        video_row(
            full,
            str(out),
            source_uri=f"/archive/parkour/day1/{full}.mp4",
            duration_s=proxy.duration_s,
            frame_count=proxy.frame_count,
            path_fields={"event": "parkour", "day": "day1", "camera": "cam1"},
            segment_count=2,
            motion_s_total=2.2,
            failed_chunks=0,
            proxy_uri=str(vdir / "proxy_720p.mp4"),
            proxy_size_bytes=(vdir / "proxy_720p.mp4").stat().st_size,
            highlights_uri=str(vdir / "highlights.mp4"),
            highlights_duration_s=reel.duration_s,
        ),
        video_row(
            bare,
            str(out),
            file_name=HOSTILE,
            source_uri=f"/archive/parkour/day2/{HOSTILE}",
            duration_s=12.5,
            path_fields={"event": "parkour", "day": "day2", "camera": "cam2"},
            segment_count=1,
            motion_s_total=3.0,
            failed_chunks=1,
        ),
        video_row(
            "dance-day1-cam3",
            str(out),
            duration_s=65.0,
            path_fields={"event": "dance", "day": "day1", "camera": "cam3"},
        ),
    ]
    segments = [
        segment_row(full, 0, 0.6, 1.8, 0.9),
        segment_row(full, 1, 2.4, 3.4, 0.9),
        segment_row(bare, 0, 4.0, 7.0, 1.4),
    ]
    assets = [
        asset_row(
            full,
            "proxy",
            str(vdir / "proxy_720p.mp4"),
            width=640,
            height=360,
            duration_s=proxy.duration_s,
            codec="h264",
        ),
        asset_row(full, "highlights", str(vdir / "highlights.mp4"), duration_s=reel.duration_s),
        asset_row(full, "motion", str(vdir / "motion.json"), codec="json"),
        *thumbs,
    ]
    failures = [
        failure_row("/archive/parkour/day3/broken.mp4", "probe", "moov atom not found"),
        failure_row(
            f"/archive/parkour/day2/{HOSTILE}",
            "detect",
            "decoding chunk 2 took longer than 120 s",
            video_id=bare,
            chunk_index=2,
            permanent=False,
            error_type="DecodeTimeoutError",
        ),
    ]
    write_catalog(out, videos, segments, assets, failures)
    return {
        "videos": videos,
        "proxy_duration": proxy.duration_s,
        "reel_duration": reel.duration_s,
        "full": full,
    }


@pytest.mark.integration
@pytest.mark.timeout(300)  # a first run may apt-get install chromium
def test_report_in_headless_chromium(tmp_path, browser, capsys):
    started = time.monotonic()
    out = tmp_path / "out"
    catalog = build_media_catalog(out)
    assert report.main(["--output", str(out)]) == 0
    index = pathlib.Path(capsys.readouterr().out.strip())
    assert index == out / "report" / "index.html"

    cdp = browser
    target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        cdp.call(f"{domain}.enable", session=session)
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        session,
    )
    cdp.call("Page.navigate", {"url": index.as_uri()}, session)
    cdp.wait_for("Page.loadEventFired", timeout=20)

    h264 = cdp.evaluate(
        session, "document.createElement('video').canPlayType('video/mp4; codecs=\"avc1.640028\"')"
    )
    assert h264 in ("probably", "maybe"), f"{cdp.version} cannot play H.264 MP4 ({h264!r})"

    cards = cdp.evaluate(session, "document.querySelectorAll('#cards .card').length")
    assert cards == len(catalog["videos"])
    assert cdp.evaluate(session, "document.getElementById('count').textContent") == "3 of 3 videos"

    # The proxy loads and decodes a frame; its duration is the catalog's.
    state = {}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = cdp.evaluate(
            session,
            "(() => { const v = document.querySelector('video.proxy');"
            " return {ready: v.readyState, duration: v.duration, error: v.error && v.error.code,"
            " width: v.videoWidth, height: v.videoHeight, src: v.currentSrc}; })()",
        )
        if state["ready"] >= 2 or state["error"]:
            break
        time.sleep(0.1)
    assert state["error"] is None, state
    assert state["ready"] >= 2, state
    assert abs(state["duration"] - catalog["proxy_duration"]) < 0.1, state
    assert (state["width"], state["height"]) == (640, 360)
    assert state["src"].endswith("/videos/parkour-day1-cam1/proxy_720p.mp4")

    # A segment chip plays the proxy from the segment's start.
    seeked = cdp.evaluate(
        session,
        "new Promise(done => { const v = document.querySelector('video.proxy');"
        " v.addEventListener('seeked', () => { v.pause(); done(v.currentTime); }, {once: true});"
        " document.querySelector('button.seek[data-seek=\"2.4\"]').click(); })",
        await_promise=True,
    )
    assert abs(seeked - 2.4) < 0.1

    # The highlight reel (preload="none") loads when asked to.
    reel = cdp.evaluate(
        session,
        "new Promise(done => { const v = document.querySelector('video.highlights');"
        " v.addEventListener('loadeddata', () => done({ready: v.readyState, duration: v.duration}));"
        " v.addEventListener('error', () => done({error: v.error.code}));"
        " v.preload = 'auto'; v.load(); })",
        await_promise=True,
    )
    assert reel.get("ready", 0) >= 2, reel
    assert abs(reel["duration"] - catalog["reel_duration"]) < 0.1, reel

    # Every image (poster, thumbnails) loaded from its relative path.
    broken = cdp.evaluate(
        session,
        "Array.from(document.images).filter(i => !i.complete || !i.naturalWidth).map(i => i.src)",
    )
    assert broken == []

    # Filter and sort run in the page.
    shown = cdp.evaluate(
        session,
        "(() => { const s = document.querySelector('select[data-field=\"event\"]');"
        " s.value = 'dance'; s.dispatchEvent(new Event('change', {bubbles: true}));"
        " return Array.from(document.querySelectorAll('#cards .card:not([hidden])'))"
        ".map(c => c.dataset.id); })()",
    )
    assert shown == ["dance-day1-cam3"]
    order = cdp.evaluate(
        session,
        "(() => { document.querySelector('form.toolbar').reset();"
        " const s = document.getElementById('sort'); s.value = 'duration:desc';"
        " s.dispatchEvent(new Event('change', {bubbles: true}));"
        " return Array.from(document.querySelectorAll('#cards .card:not([hidden])'))"
        ".map(c => c.dataset.id); })()",
    )
    assert order == ["dance-day1-cam3", "parkour-day2-cam2", "parkour-day1-cam1"]
    cdp.evaluate(
        session,
        "(() => { const s = document.getElementById('sort'); s.value = 'name:asc';"
        " s.dispatchEvent(new Event('change', {bubbles: true})); })()",
    )
    # The hostile name shows as text, not markup.
    names = cdp.evaluate(
        session, "Array.from(document.querySelectorAll('.source .file')).map(e => e.textContent)"
    )
    assert HOSTILE in names

    # Full-page screenshot, for the test's folder and for a person to look at.
    height = cdp.call("Page.getLayoutMetrics", session=session)["cssContentSize"]["height"]
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": 1440,
            "height": min(int(height) + 1, 4000),
            "deviceScaleFactor": 1,
            "mobile": False,
        },
        session,
    )
    time.sleep(0.3)
    png = base64.b64decode(cdp.call("Page.captureScreenshot", {"format": "png"}, session)["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "report.png").write_bytes(png)
    with contextlib.suppress(OSError):  # a copy for people to look at
        SCREENSHOT_COPY.write_bytes(png)

    errors = console_errors(cdp.events)
    assert errors == [], errors
    assert time.monotonic() - started < 60
