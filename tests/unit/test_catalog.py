"""The NDJSON catalog: schemas from one place, upserts by key, atomic writes."""

import json
import pathlib

from tests.helpers.runs import FIXED_NOW, REPO
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
    assert sorted(p.name for p in (tmp_path / "catalog").iterdir()) == [
        "segments.jsonl",
        "segments.parquet",
    ]
    assert read_table(str(tmp_path), "segments") == rows
    line = (tmp_path / "catalog" / "segments.jsonl").read_text().splitlines()[0]
    assert json.loads(line)["video_id"] == "a"


def _render_failure(artifact: str | None, message: str = "encoder crashed") -> FailureRow:
    return FailureRow(
        input_uri="/archive/a.mp4",
        video_id="a",
        stage="render",
        error_type="EncodeError",
        message=message,
        permanent=True,
        chunk_index=None,
        artifact=artifact,
        failed_at=FIXED_NOW,
        pipeline_version="t",
    )


def test_failures_are_keyed_by_artifact_too():
    """Two render failures of one video, different artifacts: two rows; the same one: one."""
    rows = upsert_rows(
        [],
        [_render_failure("ladder"), _render_failure("preview"), _render_failure("preview", "2nd")],
        FailureRow.KEY,
    )
    assert [(r["artifact"], r["message"]) for r in rows] == [
        ("ladder", "encoder crashed"),
        ("preview", "2nd"),
    ]
    # A row written before the artifact column existed has the key of artifact NULL.
    old = _render_failure(None).model_dump(mode="json")
    del old["artifact"]
    rows = upsert_rows(
        [old], [_render_failure(None, "again"), _render_failure("ladder")], FailureRow.KEY
    )
    assert [(r.get("artifact"), r["message"]) for r in rows] == [
        (None, "again"),
        ("ladder", "encoder crashed"),
    ]


def test_write_catalog_keeps_one_failure_row_per_artifact(tmp_path: pathlib.Path):
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline

    from transforms.catalog.write_catalog import WriteCatalog

    failures = [_render_failure("ladder"), _render_failure("preview")]
    for _ in range(2):  # a rerun leaves the same rows
        with TestPipeline(runner="DirectRunner") as p:
            _ = p | beam.Create(failures, reshuffle=False) | WriteCatalog(str(tmp_path))
        rows = read_table(str(tmp_path), "failures")
        assert [(r["input_uri"], r["stage"], r["artifact"]) for r in rows] == [
            ("/archive/a.mp4", "render", "ladder"),
            ("/archive/a.mp4", "render", "preview"),
        ]
    assert sorted(p.name for p in (tmp_path / "catalog").iterdir()) == [
        f"{table}.{ext}" for table in sorted(TABLES) for ext in ("jsonl", "parquet")
    ]


def test_pure_catalog_and_notification_modules_import_no_beam():
    import subprocess
    import sys

    modules = [
        "transforms.catalog.tables",
        "transforms.catalog.rows",
        "transforms.catalog.bigquery_sql",
        "transforms.catalog.fingerprints",
        "transforms.catalog.restore",
        "transforms.catalog.parquet_tables",
        "transforms.streaming.notifications",
    ]
    code = (
        f"import sys\nfor m in {modules!r}: __import__(m)\n"
        "sys.exit(any(m.startswith('apache_beam') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
