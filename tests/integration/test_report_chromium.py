"""The report page in real headless Chromium (Debian's ``chromium``), driven over DevTools.

Real media (an H.264 proxy, a highlight reel, JPEG thumbnails) so the players, posters, seeking,
filters and sorting are exercised as a person would see them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import pathlib
import time

import pytest

from tests.helpers.chromium import (
    ChromiumDidNotStart,
    console_errors,
    find_chromium,
    headless_chromium,
)
from tests.helpers.report import (
    HOSTILE,
    asset_row,
    failure_row,
    motion_doc,
    segment_row,
    video_row,
    write_catalog,
)
from transforms.report import build_report

SCREENSHOT_COPY = pathlib.Path("/tmp/report_screenshot.png")


@pytest.fixture()
def browser(tmp_path):
    """A headless Chromium with remote debugging on a free port; yields a DevTools client."""
    binary = find_chromium()
    if not binary:
        pytest.skip(
            "chromium is not installed and apt-get cannot install it (scripts/apt_install.sh chromium chromium)"
        )
    with contextlib.ExitStack() as stack:
        try:
            client = stack.enter_context(headless_chromium(binary, tmp_path))
        except ChromiumDidNotStart as exc:
            pytest.fail(str(exc))
        yield client


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
def test_report_in_headless_chromium(tmp_path, browser):
    started = time.monotonic()
    out = tmp_path / "out"
    catalog = build_media_catalog(out)
    index = pathlib.Path(build_report(str(out)))
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
