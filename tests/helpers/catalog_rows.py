"""Catalog rows for the catalog tests: a video, its segments, assets and failures."""

from __future__ import annotations

from tests.helpers.runs import FIXED_NOW
from transforms.schemas import AssetRow, CatalogRow, FailureRow, SegmentRow, VideoRow


def video(video_id: str, **changes) -> VideoRow:
    fields = dict(
        video_id=video_id,
        source_uri=f"gs://archive/{video_id}.mp4",
        file_name=f"{video_id}.mp4",
        file_size_bytes=1000,
        source_mtime=FIXED_NOW,
        container="mov,mp4,m4a,3gp,3g2,mj2",
        duration_s=13.0,
        width=720,
        height=1280,
        display_width=720,
        display_height=1280,
        rotation_deg=0,
        sample_aspect_ratio="1:1",
        codec="h264",
        pix_fmt="yuv420p",
        bitrate_kbps=512.5,
        fps=5.0,
        is_vfr=False,
        frame_count=65,
        has_audio=False,
        audio_codec=None,
        audio_channels=None,
        audio_sample_rate=None,
        path_fields={"event": "gym", "day": "day1"},
        segment_count=2,
        motion_s_total=4.5,
        failed_chunks=0,
        proxy_uri=None,
        proxy_size_bytes=None,
        highlights_uri=None,
        highlights_duration_s=None,
        scanned_at=FIXED_NOW,
        indexed_at=FIXED_NOW,
        pipeline_version="test",
    )
    fields.update(changes)
    return VideoRow(**fields)


def segment(video_id: str, index: int, **changes) -> SegmentRow:
    fields = dict(
        video_id=video_id,
        segment_index=index,
        start_s=2.0 * index,
        end_s=2.0 * index + 1.5,
        duration_s=1.5,
        peak_score=0.9,
        mean_score=0.4,
        max_people=1,
    )
    fields.update(changes)
    return SegmentRow(**fields)


def asset(video_id: str, asset_type: str, name: str) -> AssetRow:
    return AssetRow(
        video_id=video_id,
        asset_type=asset_type,
        uri=f"gs://out/videos/{video_id}/{name}",
        width=320,
        height=180,
        duration_s=None,
        bitrate_kbps=None,
        size_bytes=1234,
        md5="0" * 32,
        codec="jpeg",
    )


def failure(
    input_uri: str,
    stage: str = "probe",
    chunk_index: int | None = None,
    artifact: str | None = None,
) -> FailureRow:
    return FailureRow(
        input_uri=input_uri,
        video_id=None,
        stage=stage,
        error_type="CorruptMediaError",
        message="moov atom not found",
        permanent=True,
        chunk_index=chunk_index,
        artifact=artifact,
        failed_at=FIXED_NOW,
        pipeline_version="test",
    )


def first_run() -> list[CatalogRow]:
    return [
        video("a"),
        video("b"),
        *(segment("a", i) for i in range(3)),
        segment("b", 0),
        asset("a", "thumbnail", "thumbs/000.jpg"),
        asset("a", "proxy", "proxy_720p.mp4"),
        asset("b", "thumbnail", "thumbs/000.jpg"),
        failure("gs://archive/broken.mp4"),
        failure("gs://archive/a.mp4", stage="detect", chunk_index=3),
    ]
