"""The one CLI layer: subcommands dispatch from ``reelbeam``; exit codes as documented."""

from __future__ import annotations

import json

from pipelines.cli import SUBCOMMANDS, dispatch


def test_every_subcommand_is_listed():
    assert sorted(SUBCOMMANDS) == [
        "failures",
        "report",
        "resegment",
        "schemas",
        "template-metadata",
    ]


def test_report_without_a_catalog_is_one_line_and_exit_2(tmp_path, capsys):
    assert dispatch(["report", f"--output={tmp_path / 'nothing'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reelbeam report: error: no catalog under")


def test_failures_without_a_catalog_is_exit_2(tmp_path, capsys):
    assert dispatch(["failures", f"--output={tmp_path}"]) == 2
    assert "no catalog under" in capsys.readouterr().err


def test_schemas_writes_one_bigquery_schema_per_table(tmp_path, capsys):
    assert dispatch(["schemas", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["assets.json", "failures.json", "segments.json", "videos.json"]
    fields = {f["name"] for f in json.loads((tmp_path / "failures.json").read_text())}
    assert {"input_uri", "stage", "chunk_index", "artifact"} <= fields


def test_help_lists_the_subcommands(capsys):
    assert dispatch(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("resegment", "report", "failures", "schemas", "template-metadata"):
        assert f"reelbeam {name}" in out
