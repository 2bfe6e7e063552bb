"""The one CLI layer: subcommands dispatch from ``reelbeam``; exit codes as documented."""

from __future__ import annotations

import json

from pipelines.argv import named_option
from pipelines.cli import (
    SUBCOMMANDS,
    dispatch,
    may_be_unchanged_rerun,
    start_fork_server_early,
)


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


def test_the_fork_server_starts_before_beam_only_for_local_runs_that_will_decode(tmp_path):
    fresh = ["--input=/in", f"--output={tmp_path / 'new'}"]
    assert named_option([*fresh, "--runner", "DataflowRunner"], "runner") == "DataflowRunner"
    assert not may_be_unchanged_rerun(fresh)
    (tmp_path / "old" / "catalog").mkdir(parents=True)
    (tmp_path / "old" / "catalog" / "videos.jsonl").write_text("{}\n")
    rerun = ["--input=/in", f"--output={tmp_path / 'old'}"]
    assert may_be_unchanged_rerun(rerun)
    assert may_be_unchanged_rerun(["--input=/in", "--output=gs://b/out"])
    assert may_be_unchanged_rerun([*fresh, "--bigquery_dataset=p:d"])
    assert not may_be_unchanged_rerun([*rerun, "--watch=/inbox"])
    assert not start_fork_server_early([*fresh, "--help"])
    assert not start_fork_server_early([*fresh, "--runner=DataflowRunner"])
    assert not start_fork_server_early(rerun)
