"""The NDJSON catalog: schemas from one place, upserts by key, atomic writes."""

import json
import pathlib

from tests.conftest import FIXED_NOW, REPO
from transforms.catalog.ndjson_store import read_table, write_table_atomically
from transforms.catalog.tables import upsert_rows
from transforms.schemas import (
    TABLES,
    FailureRow,
    SegmentRow,
    bigquery_schema,
    render_schema_files,
)


def test_checked_in_schemas_match_the_models():
    for name, text in render_schema_files().items():
        path = REPO / "schemas" / name
        assert path.read_text() == text, f"{path} is stale: run `make schemas`"


def test_schema_types_and_modes():
    videos = {f["name"]: f for f in bigquery_schema(TABLES["videos"])}
    assert videos["video_id"] == {**videos["video_id"], "type": "STRING", "mode": "REQUIRED"}
    assert videos["path_fields"]["type"] == "JSON"
    assert videos["indexed_at"]["type"] == "TIMESTAMP"
    assert videos["proxy_uri"]["mode"] == "NULLABLE"
    assert videos["is_vfr"]["type"] == "BOOLEAN"
    assert all(f["description"] for f in videos.values())


def _seg(video_id, index, start):
    return SegmentRow(
        video_id=video_id,
        segment_index=index,
        start_s=start,
        end_s=start + 1,
        duration_s=1.0,
        peak_score=1.0,
        mean_score=0.5,
        max_people=1,
    )


def test_upsert_replaces_by_key_and_sorts():
    old = [_seg("b", 0, 0.0).model_dump(mode="json"), _seg("a", 0, 5.0).model_dump(mode="json")]
    rows = upsert_rows(old, [_seg("a", 0, 7.0), _seg("c", 0, 1.0)], SegmentRow.KEY)
    assert [(r["video_id"], r["start_s"]) for r in rows] == [("a", 7.0), ("b", 0.0), ("c", 1.0)]


def test_upsert_scope_drops_stale_rows_of_replaced_videos():
    old = [_seg("a", i, float(i)).model_dump(mode="json") for i in range(3)]
    old.append(_seg("b", 0, 0.0).model_dump(mode="json"))
    rows = upsert_rows(old, [_seg("a", 0, 9.0)], SegmentRow.KEY, ("video_id", {"a"}))
    assert [(r["video_id"], r["segment_index"]) for r in rows] == [("a", 0), ("b", 0)]


def test_failure_key_sorts_none_chunk_first():
    def fail(chunk):
        return FailureRow(
            input_uri="/x.mp4",
            video_id=None,
            stage="detect",
            error_type="E",
            message="m",
            permanent=True,
            chunk_index=chunk,
            failed_at=FIXED_NOW,
            pipeline_version="t",
        )

    rows = upsert_rows([], [fail(2), fail(None), fail(0)], FailureRow.KEY)
    assert [r["chunk_index"] for r in rows] == [None, 0, 2]


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: pathlib.Path):
    rows = [_seg("a", 0, 1.0).model_dump(mode="json")]
    path = write_table_atomically(str(tmp_path), "segments", rows)
    assert pathlib.Path(path) == tmp_path / "catalog" / "segments.jsonl"
    assert [p.name for p in (tmp_path / "catalog").iterdir()] == ["segments.jsonl"]
    assert read_table(str(tmp_path), "segments") == rows
    line = (tmp_path / "catalog" / "segments.jsonl").read_text().splitlines()[0]
    assert json.loads(line)["video_id"] == "a"
