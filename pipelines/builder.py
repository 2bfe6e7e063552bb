"""``build_pipeline``: wires the public transforms; the same graph for every runner."""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam

from pipelines.options import ReelbeamOptions, absolute_output, segment_params, split_csv
from transforms.artifacts import WriteMotion
from transforms.catalog import WriteCatalog
from transforms.chunks import SplitIntoChunks
from transforms.deadletter import Clock, utc_now
from transforms.detect import DetectMotion, DetectParams
from transforms.find import FindVideos, normalize_input
from transforms.merge import MergeSegments
from transforms.paths import parse_extensions
from transforms.probe import ProbeVideos
from transforms.rows import BuildCatalogRows


@dataclass
class PipelineOutputs:
    """The PCollections a built pipeline ends in (tests assert on them)."""

    rows: beam.PCollection
    failures: beam.PCollection
    written: beam.PCollection


def build_pipeline(
    p: beam.Pipeline, options: ReelbeamOptions, clock: Clock = utc_now
) -> PipelineOutputs:
    """Add reelbeam's steps to ``p``.

    Args:
        p: an empty pipeline (DirectRunner, Dataflow or ``TestPipeline``).
        options: validated reelbeam options.
        clock: the clock stamped on rows (injected by tests).

    Returns:
        The final PCollections: catalog rows, failures and the catalog write.
    """
    output = absolute_output(options.output)
    patterns = [normalize_input(p_) for p_ in split_csv(options.input)]
    found = p | "FindVideos" >> FindVideos(
        patterns=patterns,
        input_list=options.input_list,
        extensions=parse_extensions(options.extensions),
        path_pattern=options.path_pattern,
        video_id_template=options.video_id_template,
        exclude_prefix=output,
        clock=clock,
    )
    probed = found["found"] | "ProbeVideos" >> ProbeVideos(clock, options.decode_timeout_s)

    params = segment_params(options)
    detected = (
        probed.probes
        | "SplitIntoChunks" >> SplitIntoChunks(options.chunk_s, options.chunk_overlap_s)
        | "DetectMotion"
        >> DetectMotion(
            model_uri=options.pose_model,
            backend=f"mediapipe-{options.pose_delegate}",
            params=DetectParams(pose_fps=options.pose_fps),
            clock=clock,
            timeout_s=options.decode_timeout_s,
        )
    )
    motion = detected.motion | "MergeSegments" >> MergeSegments(params, options.pose_fps)
    motion_assets = motion | "WriteMotion" >> WriteMotion(output, params, options.pose_fps)

    rows = {
        "probe": probed.probes,
        "motion": motion,
        "assets": motion_assets.assets,
    } | "BuildCatalogRows" >> BuildCatalogRows(clock)
    failures = (
        found["failures"],
        probed.failures,
        detected.failures,
        motion_assets.failures,
    ) | "AllFailures" >> beam.Flatten()
    written = (
        (rows, failures) | "AllRows" >> beam.Flatten() | "WriteCatalog" >> WriteCatalog(output)
    )
    return PipelineOutputs(rows=rows, failures=failures, written=written)
