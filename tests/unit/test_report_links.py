"""Relative links from the report page to artifacts: pure, no IO."""

from __future__ import annotations

from transforms.report.links import relative_link


def test_relative_link():
    assert relative_link("/o/videos/v1/proxy_720p.mp4", "v1") == "../videos/v1/proxy_720p.mp4"
    assert relative_link("gs://b/x/videos/v1/thumbs/000.jpg", "v1") == (
        "../videos/v1/thumbs/000.jpg"
    )
    assert relative_link(r"C:\o\videos\v1\motion.json", "v1") == "../videos/v1/motion.json"
    assert relative_link("/o/videos/a b#?/x y.mp4", "a b#?") == ("../videos/a%20b%23%3F/x%20y.mp4")
    assert relative_link("https://cdn.example/x.mp4", "v1") == "https://cdn.example/x.mp4"
    assert relative_link("/elsewhere/x.mp4", "v1") is None
    assert relative_link("/o/videos/v1/../../etc/passwd", "v1") is None
    assert relative_link(None, "v1") is None
