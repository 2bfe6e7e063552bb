"""Fail fast without credentials: one line naming the fix, within seconds, never a hang."""

from __future__ import annotations

import time

import pytest

from transforms.io.credentials import gcs_credentials_problem


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))


def test_gs_paths_without_credentials_give_one_line_naming_the_fix(no_credentials):
    start = time.monotonic()
    problem = gcs_credentials_problem(["/local/in", "gs://bucket/out"], timeout_s=3.0)
    assert time.monotonic() - start < 5.0
    assert problem is not None and "\n" not in problem
    assert problem.startswith("gs://: ")
    assert "gcloud auth application-default login" in problem


def test_a_missing_key_file_is_named(no_credentials, monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "key.json"))
    problem = gcs_credentials_problem(["gs://bucket/x"])
    assert problem is not None and f"{tmp_path / 'key.json'} does not exist" in problem


def test_local_paths_and_the_emulator_need_no_credentials(no_credentials, monkeypatch):
    assert gcs_credentials_problem(["/nas/videos", "./out"]) is None
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9023")
    assert gcs_credentials_problem(["gs://bucket/x"]) is None


def test_a_gs_output_without_credentials_stops_the_launch_in_seconds(
    no_credentials, tmp_path, capsys
):
    from pipelines.launcher import run

    (tmp_path / "in").mkdir()
    start = time.monotonic()
    code = run([f"--input={tmp_path / 'in'}", "--output=gs://some-bucket/out"])
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert elapsed < 5.0
    assert len(err) == 1 and err[0].startswith("reelbeam: error: gs://: ")
    assert "gcloud auth application-default login" in err[0]
