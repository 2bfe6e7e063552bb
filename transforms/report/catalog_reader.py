"""Loading what the report page needs from an output folder, local or ``gs://``.

Reads the four catalog tables and the cached ``motion.json`` documents through Beam
``FileSystems``, so the same code serves ``/tmp/out`` and ``gs://bucket/out``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from transforms.artifacts import artifact_uri
from transforms.catalog.ndjson_store import catalog_path, read_table
from transforms.io.filesystems import file_systems, read_bytes
from transforms.io.uris import scheme

__all__ = ["ReportInput", "has_catalog", "read_catalog", "read_motion_documents"]

_MOTION_READERS = 16  # motion.json files are small: the time goes to round trips


class ReportInput(NamedTuple):
    """Everything the page is built from.

    The rows of the four catalog tables as dicts, and ``motion_by_video``: ``video_id`` -> its
    ``motion.json`` document, for the videos that have one.
    """

    videos: list[dict]
    segments: list[dict]
    assets: list[dict]
    failures: list[dict]
    motion_by_video: dict[str, dict]


def has_catalog(output: str) -> bool:
    """Whether ``<output>/catalog/videos.jsonl`` or ``failures.jsonl`` exists."""
    return any(file_systems().exists(catalog_path(output, t)) for t in ("videos", "failures"))


def _read_json(uri: str) -> dict | None:
    try:
        if not file_systems().exists(uri):
            return None
        doc = json.loads(read_bytes(uri).decode("utf-8"))
        return doc if isinstance(doc, dict) else None
    except Exception as exc:  # a bad motion.json costs its timeline, not the page
        logging.warning("report: cannot read %s: %s", uri, exc)
        return None


def read_motion_documents(
    output: str, videos: Sequence[Mapping[str, Any]], assets: Sequence[Mapping[str, Any]]
) -> dict[str, dict]:
    """``video_id`` -> ``motion.json`` for every video that has one.

    Looks at ``<output>/videos/<id>/motion.json`` first (where the run wrote it, also after the
    output folder was moved), then at the URI of the video's ``motion`` asset row. A document
    that cannot be read or parsed is left out (logged).
    """
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
    with ThreadPoolExecutor(max_workers=_MOTION_READERS) as pool:
        return {vid: doc for vid, doc in pool.map(load, ids) if doc is not None}


def read_catalog(output: str) -> ReportInput:
    """The catalog tables under ``output`` (missing tables are empty) and the motion documents."""
    videos = read_table(output, "videos")
    segments = read_table(output, "segments")
    assets = read_table(output, "assets")
    failures = read_table(output, "failures")
    motion = read_motion_documents(output, videos, assets)
    return ReportInput(videos, segments, assets, failures, motion)
