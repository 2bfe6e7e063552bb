"""Artifacts under ``<output>/videos/<video_id>/``: deterministic paths; ``motion.json``.

Every write goes through the one atomic writer, ``transforms.io.atomic``. Pure of Beam:
the isolated render children name their outputs with ``artifact_uri``; the composite that
writes ``motion.json`` is ``transforms.write_motion.WriteMotion``.
"""

from __future__ import annotations

import json

from transforms.io.atomic import write_bytes
from transforms.io.uris import join_uri
from transforms.motion import SegmentParams
from transforms.records import VideoMotion
from transforms.schemas import AssetRow


def artifact_uri(output: str, video_id: str, name: str) -> str:
    """``<output>/videos/<video_id>/<name>``."""
    return join_uri(output, "videos", video_id, name)


def motion_document(motion: VideoMotion, params: SegmentParams, pose_fps: float) -> dict:
    """The cached per-sample scores (``motion.json``) that ``reelbeam resegment`` reads."""
    return {
        "video_id": motion.video_id,
        "pose_fps": pose_fps,
        "chunk_count": motion.chunk_count,
        "failed_chunks": list(motion.failed_chunks),
        "frames_gated": motion.frames_gated,
        "params": params.__dict__,
        "times_s": list(motion.times_s),
        "scores": list(motion.scores),
        "people": list(motion.people),
        # Per sample, [person id, score] of each person matched to their last pose.
        "tracks": [[list(pair) for pair in sample] for sample in motion.tracks],
        "people_dropped": motion.people_dropped,
        "segments": [
            [s.start_s, s.end_s, round(s.peak_score, 4), round(s.mean_score, 4), s.max_people]
            for s in motion.segments
        ],
    }


def write_motion(
    motion: VideoMotion, *, output: str, params: SegmentParams, pose_fps: float
) -> AssetRow:
    """Write ``videos/<id>/motion.json`` (compact) and return its ``assets`` row."""
    uri = artifact_uri(output, motion.video_id, "motion.json")
    doc = motion_document(motion, params, pose_fps)
    data = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    md5 = write_bytes(uri, data, "application/json")
    return AssetRow(
        video_id=motion.video_id,
        asset_type="motion",
        uri=uri,
        width=None,
        height=None,
        duration_s=motion.times_s[-1] if motion.times_s else None,
        bitrate_kbps=None,
        size_bytes=len(data),
        md5=md5,
        codec="json",
    )
