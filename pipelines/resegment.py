"""``reelbeam resegment``: new segment thresholds over a whole catalog, without decoding video.

Reads each video's cached per-sample scores (``videos/<id>/motion.json``), finds
segments again with the new settings, and upserts the ``segments`` rows, the
motion fields of the ``videos`` rows and the ``motion`` asset rows. Highlight
reels are not re-rendered: run the pipeline again for that.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from pipelines.options import options_parser
from pipelines.run_config import segment_params
from pipelines.validation import validate
from transforms.artifacts import write_motion
from transforms.catalog.ndjson_store import read_table, write_table_atomically
from transforms.catalog.restore import motion_from_document
from transforms.catalog.rows import segment_rows
from transforms.catalog.tables import upsert_rows
from transforms.io.deadletter import Clock, utc_now
from transforms.io.filesystems import file_systems
from transforms.io.uris import absolute, join_uri
from transforms.motion import SegmentParams
from transforms.schemas import AssetRow, SegmentRow, VideoRow


def resegment(output: str, params: SegmentParams, clock: Clock = utc_now) -> tuple[int, int]:
    """Recompute segments for every catalogued video that has ``motion.json``.

    Returns:
        ``(videos resegmented, segments now)``.
    """
    videos = read_table(output, "videos")
    new_videos: list[VideoRow] = []
    new_segments: list[SegmentRow] = []
    new_assets: list[AssetRow] = []
    for row in videos:
        path = join_uri(output, "videos", row["video_id"], "motion.json")
        if not file_systems().exists(path):
            continue
        with file_systems().open(path) as handle:
            doc = json.loads(handle.read())
        motion = motion_from_document(doc, params, row["source_uri"])
        new_assets.append(
            write_motion(motion, output=output, params=params, pose_fps=doc["pose_fps"])
        )
        segments = segment_rows(motion)
        new_segments.extend(segments)
        new_videos.append(
            VideoRow.model_validate(
                {
                    **row,
                    "segment_count": len(segments),
                    "motion_s_total": round(sum(s.duration_s for s in segments), 3),
                    "indexed_at": clock(),
                }
            )
        )
    ids = {v.video_id for v in new_videos}
    write_table_atomically(
        output,
        "segments",
        upsert_rows(
            read_table(output, "segments"), new_segments, SegmentRow.KEY, ("video_id", ids)
        ),
    )
    motion_uris = {a.uri for a in new_assets}
    assets = [a for a in read_table(output, "assets") if a["uri"] not in motion_uris]
    write_table_atomically(output, "assets", upsert_rows(assets, new_assets, AssetRow.KEY))
    write_table_atomically(output, "videos", upsert_rows(videos, new_videos, VideoRow.KEY))
    return len(new_videos), len(new_segments)


def main(argv: Sequence[str], clock: Clock = utc_now) -> int:
    """``reelbeam resegment --output DIR [--motion_threshold ...]``; returns the exit code."""
    parser = options_parser(prog="reelbeam resegment", description=__doc__)
    opts = parser.parse_args(list(argv))
    problems = [p for p in validate(opts) if "--input" not in p]
    if problems:
        print(f"reelbeam: error: {'; '.join(problems)}", file=sys.stderr)
        return 2
    output = absolute(opts.output)
    if not file_systems().exists(join_uri(output, "catalog", "videos.jsonl")):
        print(f"reelbeam: error: no catalog under {output}", file=sys.stderr)
        return 2
    videos, segments = resegment(output, segment_params(opts), clock)
    print(f"reelbeam resegment: {videos} videos, {segments} segments; output: {output}")
    return 0
