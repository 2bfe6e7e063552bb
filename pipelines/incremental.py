"""Nightly reruns at launch: this run's stage fingerprints, and whether it has anything to do.

The builder hands the fingerprints to ``transforms.catalog.plan_reruns.PlanReruns``,
which reads the catalog as the run's first step and sends only new or changed files
to probe. Before that, the launcher asks ``nothing_to_do``: when every input is
unchanged it starts no pipeline at all (no Beam job, no child process, no write).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from pipelines.retry_inputs import failed_inputs
from pipelines.run_config import RunConfig
from transforms.catalog.bigquery_client import BigQueryClientFactory
from transforms.catalog.fingerprints import (
    Action,
    StageFingerprints,
    file_action,
    stage_fingerprints,
)
from transforms.catalog.plan_reruns import read_video_rows
from transforms.find import FindVideos
from transforms.io.deadletter import Clock
from transforms.io.filesystems import md5_of
from transforms.people.detector import default_detector_path
from transforms.pose_backends import default_model_path
from transforms.records import FoundFile


def model_identity(path: str) -> str:
    """A model's identity: the MD5 of its bytes (its path when it cannot be read).

    The bytes, not the path: the same model is at a different path in the container
    image, and a model rebuilt at the same path is a different model.
    """
    try:
        return md5_of(path)
    except Exception as exc:  # preflight has checked it; a remote hiccup costs a re-detect
        logging.warning("cannot read the model %s for its fingerprint: %s", path, exc)
        return path


def run_fingerprints(config: RunConfig) -> StageFingerprints:
    """This run's fingerprint of each stage's settings."""
    people = config.detect.people
    return stage_fingerprints(
        detect={
            "model": model_identity(config.model.pose_model or default_model_path()),
            "detector": (
                model_identity(people.model or default_detector_path())
                if people.detector != "none"
                else None
            ),
            "backend": config.model.backend,
            "chunks": config.chunks,
            "params": config.detect,
        },
        segment=config.segment,
        render=config.render,
        # How the work is split and bounded, not what it makes: a rerun on more workers
        # (whose auto chunks are shorter) renders nothing again, as the render
        # manifests' keys agree (``transforms.render.jobs.kind_key``).
        exclude_render=("timeout_s", "render_chunk_s", "render_workers"),
    )


def client_factory(config: RunConfig) -> BigQueryClientFactory:
    """The BigQuery clients of the run's sink (used only with ``--bigquery_dataset``)."""
    sink = config.sink
    return BigQueryClientFactory(
        api_endpoint=sink.bigquery_endpoint, anonymous=sink.bigquery_anonymous
    )


def find_videos(config: RunConfig, retried: Sequence[str], clock: Clock) -> FindVideos:
    """The batch run's ``FindVideos``: its inputs plus the inputs ``--retry_failures`` retries."""
    find = config.find
    return FindVideos(
        patterns=[*find.patterns, *retried],
        input_list=find.input_list,
        extensions=find.extensions,
        path_pattern=find.path_pattern,
        video_id_template=find.video_id_template,
        exclude_prefix=config.output,
        allowed_roots=list(find.allowed_roots) if find.allowed_roots else None,
        clock=clock,
    )


def nothing_to_do(config: RunConfig, clock: Clock) -> dict[str, int] | None:
    """A batch run's counts when every input is unchanged, else None (the pipeline runs).

    Finds the inputs and plans each against the catalog here, with the plan
    ``PlanReruns`` applies (``file_action``), and stops at the first input that needs
    any stage. None too for ``--reprocess``, for ``--retry_failures`` with failures to
    retry, for a find that fails (the pipeline writes its failure rows), for no input
    at all, and when the catalog cannot be read here (the pipeline meets it again).

    Returns:
        ``{"files_found": n, "inputs_skipped": n}``, keyed like the run's counters.
    """
    find = config.find
    if config.stream.enabled or find.reprocess:
        return None
    try:
        if find.retry_failures and failed_inputs(config.sink):
            return None
        sink = config.sink
        rows = read_video_rows(config.output, sink.bigquery_dataset, client_factory(config))
        current = run_fingerprints(config)
        by_uri: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            by_uri[row.get("source_uri")].append(row)
        skipped = 0
        for found in find_videos(config, [], clock).now():
            if not isinstance(found, FoundFile):
                return None
            action, _ = file_action(found, by_uri.get(found.uri, ()), current)
            if action is not Action.SKIP:
                logging.info("%s needs the pipeline (%s)", found.uri, action.value)
                return None
            skipped += 1
    except Exception as exc:  # the pipeline decides instead, and reports what breaks
        logging.info("cannot plan the rerun at launch (%s); running the pipeline", exc)
        return None
    return {"files_found": skipped, "inputs_skipped": skipped} if skipped else None
