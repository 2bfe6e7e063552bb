"""Nightly reruns at launch: this run's fingerprint of each stage's settings.

The builder hands them to ``transforms.catalog.plan_reruns.PlanReruns``, which reads
the catalog as the run's first step and sends only new or changed files to probe.
"""

from __future__ import annotations

import logging

from pipelines.run_config import RunConfig
from transforms.catalog.fingerprints import StageFingerprints, stage_fingerprints
from transforms.io.atomic import md5_of
from transforms.people.detector import default_detector_path
from transforms.pose_backends import default_model_path


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
        exclude_render=("timeout_s",),
    )
