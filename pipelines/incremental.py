"""Nightly reruns at launch: what the catalog holds and this run's stage fingerprints.

The builder hands both to ``transforms.catalog.plan_reruns.PlanReruns``, which sends
only new or changed files to probe. The catalog is read where the run writes it:
BigQuery with ``--bigquery_dataset``, else the local (or ``gs://``) NDJSON files.
"""

from __future__ import annotations

import logging

from pipelines.run_config import RunConfig, SinkConfig
from transforms.catalog.fingerprints import StageFingerprints, stage_fingerprints
from transforms.catalog.ndjson_store import read_table
from transforms.io.atomic import md5_of
from transforms.pose_backends import default_model_path


def model_identity(pose_model: str | None) -> str:
    """The pose model's identity: the MD5 of its bytes (its path when it cannot be read).

    The bytes, not the path: the same model is at a different path in the container
    image, and a model rebuilt at the same path is a different model.
    """
    path = pose_model or default_model_path()
    try:
        return md5_of(path)
    except Exception as exc:  # preflight has checked it; a remote hiccup costs a re-detect
        logging.warning("cannot read the pose model %s for its fingerprint: %s", path, exc)
        return path


def run_fingerprints(config: RunConfig) -> StageFingerprints:
    """This run's fingerprint of each stage's settings."""
    return stage_fingerprints(
        detect={
            "model": model_identity(config.model.pose_model),
            "backend": config.model.backend,
            "chunks": config.chunks,
            "params": config.detect,
        },
        segment=config.segment,
        render=config.render,
        exclude_render=("timeout_s",),
    )


def catalog_videos(sink: SinkConfig) -> list[dict]:
    """Every ``videos`` row of the run's catalog, as dicts (none yet: ``[]``)."""
    if not sink.bigquery_dataset:
        return read_table(sink.output, "videos")
    from google.api_core.exceptions import NotFound

    from transforms.catalog.bigquery_client import BigQueryClientFactory
    from transforms.catalog.bigquery_sql import parse_dataset, quote_table

    project, dataset = parse_dataset(sink.bigquery_dataset)
    client = BigQueryClientFactory(
        api_endpoint=sink.bigquery_endpoint, anonymous=sink.bigquery_anonymous
    )(project)
    query = f"SELECT * FROM {quote_table(project, dataset, 'videos')}"
    try:
        return [dict(row.items()) for row in client.query(query).result()]
    except NotFound:  # no videos table yet: everything is new
        return []
