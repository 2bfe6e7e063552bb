"""``build_pipeline``: wires the public transforms; the same graph for every runner."""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam

from pipelines.options import (
    ReelbeamOptions,
    absolute_output,
    bigquery_is_local,
    ladder_heights,
    render_kinds,
    segment_params,
    split_csv,
)
from pipelines.streaming import is_streaming, streaming_sources
from transforms.artifacts import WriteMotion
from transforms.bigquery_catalog import BigQueryClientFactory, WriteCatalogToBigQuery
from transforms.catalog import WriteCatalog, read_table
from transforms.chunk_analysis import DetectParams
from transforms.chunks import SplitIntoChunks
from transforms.detect_motion import DetectMotion
from transforms.encoding.settings import EncodeSettings
from transforms.find import FindVideos, normalize_input
from transforms.io.deadletter import Clock, utc_now
from transforms.merge import MergeSegments
from transforms.paths import parse_extensions
from transforms.probe_videos import ProbeVideos
from transforms.render.jobs import RenderParams
from transforms.render_videos import RenderVideos
from transforms.report import WriteReport
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
    if options.retry_failures:
        patterns += failed_inputs(output)
    if is_streaming(options):
        found, find_failures = streaming_sources(p, options, clock)
    else:
        batch = p | "FindVideos" >> FindVideos(
            patterns=patterns,
            input_list=options.input_list,
            extensions=parse_extensions(options.extensions),
            path_pattern=options.path_pattern,
            video_id_template=options.video_id_template,
            exclude_prefix=output,
            allowed_roots=[normalize_input(r) for r in split_csv(options.allowed_roots)] or None,
            clock=clock,
        )
        found, find_failures = batch["found"], batch["failures"]
    probed = found | "ProbeVideos" >> ProbeVideos(clock, options.decode_timeout_s)

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

    render_params = render_params_from(options)
    rendered = {"probe": probed.probes, "motion": motion} | "RenderVideos" >> RenderVideos(
        output, render_params, clock
    )
    assets = (motion_assets.assets, rendered["assets"]) | "AllAssets" >> beam.Flatten()

    rows = {
        "probe": probed.probes,
        "motion": motion,
        "assets": assets,
    } | "BuildCatalogRows" >> BuildCatalogRows(clock)
    failures = (
        find_failures,
        probed.failures,
        detected.failures,
        motion_assets.failures,
        rendered["failures"],
    ) | "AllFailures" >> beam.Flatten()
    all_rows = (rows, failures) | "AllRows" >> beam.Flatten()
    if options.bigquery_dataset:
        factory = BigQueryClientFactory(
            api_endpoint=options.bigquery_endpoint,
            anonymous=bigquery_is_local(options.bigquery_endpoint),
        )
        written = all_rows | "WriteCatalogToBigQuery" >> WriteCatalogToBigQuery(
            options.bigquery_dataset, factory, clock=clock
        )
    else:
        written = all_rows | "WriteCatalog" >> WriteCatalog(output)
        written | "WriteReport" >> WriteReport(output)
    return PipelineOutputs(rows=rows, failures=failures, written=written)


def failed_inputs(output: str) -> list[str]:
    """Distinct inputs of the failure rows in ``<output>/catalog/failures.jsonl``, sorted."""
    return sorted({row["input_uri"] for row in read_table(output, "failures")})


def render_params_from(options: ReelbeamOptions) -> RenderParams:
    """Render settings from the options."""
    return RenderParams(
        kinds=render_kinds(options.render) or (),
        proxy_height=options.proxy_height,
        ladder=ladder_heights(options.ladder) or (),
        settings=EncodeSettings(crf=options.crf, preset=options.preset, encoder=options.encoder),
        render_chunk_s=options.render_chunk_s,
        highlight_pre_s=options.highlight_pre_s,
        highlight_post_s=options.highlight_post_s,
        thumbnails=options.thumbnails,
        timeout_s=options.decode_timeout_s,
    )
