"""``build_pipeline``: wires the public transforms; the same graph for every runner."""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam

from pipelines.incremental import client_factory, find_videos, run_fingerprints
from pipelines.retry_inputs import failed_inputs
from pipelines.run_config import RunConfig
from pipelines.streaming import ack_after_write, streaming_sources
from transforms.catalog.build_rows import BuildCatalogRows
from transforms.catalog.plan_reruns import PlanReruns
from transforms.catalog.write_catalog import WriteCatalog, WriteCatalogToBigQuery
from transforms.chunks import SplitIntoChunks
from transforms.detect_motion import DetectMotion
from transforms.io.deadletter import Clock, utc_now
from transforms.merge import MergeSegments
from transforms.paths import ANY_EXTENSION
from transforms.probe_videos import ProbeVideos
from transforms.render_videos import RenderVideos
from transforms.report import WriteReport
from transforms.write_motion import WriteMotion


@dataclass
class PipelineOutputs:
    """The PCollections a built pipeline ends in (tests assert on them)."""

    rows: beam.PCollection
    failures: beam.PCollection
    written: beam.PCollection


def build_pipeline(p: beam.Pipeline, config: RunConfig, clock: Clock = utc_now) -> PipelineOutputs:
    """Add reelbeam's steps to ``p``.

    Args:
        p: an empty pipeline (DirectRunner, Dataflow or ``TestPipeline``).
        config: the run's settings (``pipelines.run_config.run_config`` of the options).
        clock: the clock stamped on rows (injected by tests).

    Returns:
        The final PCollections: catalog rows, failures and the catalog write.
    """
    output = config.output
    find = config.find
    fingerprints = run_fingerprints(config)
    params = config.segment
    sink = config.sink
    factory = client_factory(config)
    resumed_probes: list[beam.PCollection] = []
    resumed_motion: list[beam.PCollection] = []
    source = None
    if config.stream.enabled:
        source = streaming_sources(p, config, clock)
        found, find_failures = source.found, source.failures
    else:
        retried = failed_inputs(config.sink) if find.retry_failures else []
        batch = p | "FindVideos" >> find_videos(config, retried, clock)
        find_failures = batch["failures"]
        planned = batch["found"] | "PlanReruns" >> PlanReruns(
            output,
            fingerprints,
            params,
            bigquery_dataset=sink.bigquery_dataset,
            client_factory=factory,
            force_all=find.reprocess,
            forced=retried,
        )
        found = planned["decode"]
        resumed_probes.append(planned["probes"])
        resumed_motion.append(planned["motion"])
    probed = found | "ProbeVideos" >> ProbeVideos(
        clock, config.decode_timeout_s, ANY_EXTENSION in find.extensions
    )

    pose_fps = config.detect.pose_fps
    detected = (
        probed.probes
        | "SplitIntoChunks" >> SplitIntoChunks(config.chunks.chunk_s, config.chunks.chunk_overlap_s)
        | "DetectMotion"
        >> DetectMotion(
            model_uri=config.model.pose_model,
            backend=config.model.backend,
            params=config.detect,
            clock=clock,
            timeout_s=config.decode_timeout_s,
        )
    )
    merged = detected.motion | "MergeSegments" >> MergeSegments(params, pose_fps)
    probes = [probed.probes, *resumed_probes] | "AllProbes" >> beam.Flatten()
    motion = [merged, *resumed_motion] | "AllMotion" >> beam.Flatten()
    motion_assets = motion | "WriteMotion" >> WriteMotion(output, params, pose_fps)

    rendered = {"probe": probes, "motion": motion} | "RenderVideos" >> RenderVideos(
        output, config.render, clock, rerender=find.reprocess
    )
    assets = (motion_assets.assets, rendered["assets"]) | "AllAssets" >> beam.Flatten()

    rows = {
        "probe": probes,
        "motion": motion,
        "assets": assets,
        "damage": rendered["damage"],
    } | "BuildCatalogRows" >> BuildCatalogRows(clock, fingerprints)
    failures = (
        find_failures,
        probed.failures,
        detected.failures,
        motion_assets.failures,
        rendered["failures"],
    ) | "AllFailures" >> beam.Flatten()
    all_rows = (rows, failures) | "AllRows" >> beam.Flatten()
    if sink.bigquery_dataset:
        written = all_rows | "WriteCatalogToBigQuery" >> WriteCatalogToBigQuery(
            sink.bigquery_dataset, factory, clock=clock
        )
    else:
        written = all_rows | "WriteCatalog" >> WriteCatalog(output)
        written | "WriteReport" >> WriteReport(output)
    if source is not None:
        ack_after_write(source, written, config)
    return PipelineOutputs(rows=rows, failures=failures, written=written)
