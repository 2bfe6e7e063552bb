"""Every pipeline variant builds its Dataflow job graph offline (``--dry_run``); labels stay stable.

The flex template's metadata mirrors the options class.
"""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from google.cloud.dataflow_v1beta3 import TemplateMetadata

from pipelines import template_metadata
from pipelines.builder import build_pipeline
from pipelines.options import ReelbeamOptions
from pipelines.run_config import run_config
from tests.helpers.runs import DATAFLOW_DRY_RUN, REPO

DATAFLOW = DATAFLOW_DRY_RUN
VARIANTS = {
    "batch_glob": ["--input=gs://reelbeam-test/videos/**", "--output=gs://reelbeam-test/out"],
    "batch_list": ["--input_list=gs://reelbeam-test/list.txt", "--output=gs://reelbeam-test/out"],
    "gpu_workers": [
        "--input=gs://reelbeam-test/videos/**",
        "--output=gs://reelbeam-test/out",
        "--pose_delegate=gpu",
        "--encoder=h264_nvenc",
        "--sdk_container_image=us-docker.pkg.dev/reelbeam-test/reelbeam/worker-gpu:latest",
        "--machine_type=g2-standard-8",
        "--dataflow_service_options=worker_accelerator=type:nvidia-l4;count:1;install-nvidia-driver",
        "--experiments=use_runner_v2",
        "--max_num_workers=20",
    ],
}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("NO_GCE_CHECK", "true")


def _labels(argv: list[str]) -> list[str]:
    options = PipelineOptions(DATAFLOW + argv)
    p = beam.Pipeline(options=options)
    build_pipeline(p, run_config(options.view_as(ReelbeamOptions)))
    result = p.run()  # dry run: the job graph is built and validated, nothing is submitted
    assert result is not None
    return sorted(t.unique_name for t in p.to_runner_api().components.transforms.values())


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_builds_on_dataflow_with_stable_labels(variant):
    first = _labels(VARIANTS[variant])
    assert len(first) == len(set(first))
    assert first == _labels(VARIANTS[variant])  # streaming update matches steps by name
    top = {name.split("/")[0] for name in first}
    assert {"FindVideos", "ProbeVideos", "SplitIntoChunks", "DetectMotion", "MergeSegments"} <= top


def test_template_metadata_mirrors_the_options():
    path = REPO / "templates" / "reelbeam" / "metadata.json"
    assert path.read_text() == template_metadata.render(), (
        "templates/reelbeam/metadata.json is stale: run `python -m pipelines.template_metadata`"
    )
    parsed = TemplateMetadata.from_json(path.read_text(), ignore_unknown_fields=False)
    names = {p.name for p in parsed.parameters}
    parser_dests = {
        a.dest
        for a in template_metadata._parser()._actions  # the options class's own flags
        if a.dest != "help"
    }
    assert names == parser_dests
    assert {"input", "input_list", "output", "chunk_s", "render", "encoder"} <= names
    doc = json.loads(path.read_text())
    assert all(p["helpText"] for p in doc["parameters"])


def test_readme_options_table_is_generated_from_the_options():
    readme = (REPO / "README.md").read_text()
    assert readme == template_metadata.readme_with_options(readme), (
        "README.md's options table is stale: run `make template-metadata`"
    )
    assert "| `--input` |" in readme and "| `--bigquery_dataset` |" in readme


def test_nightly_schedule_launches_the_template_with_known_parameters():
    body = json.loads((REPO / "templates" / "scheduler" / "nightly.json").read_text())
    params = body["launchParameter"]["parameters"]
    known = {p["name"] for p in template_metadata.metadata()["parameters"]}
    assert set(params) <= known
    assert body["launchParameter"]["containerSpecGcsPath"].endswith("/templates/reelbeam.json")
