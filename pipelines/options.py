"""Every reelbeam flag, in one ``PipelineOptions`` subclass, and their validation.

``templates/reelbeam/metadata.json`` mirrors these flags; a test keeps the two in sync.
"""

from __future__ import annotations

import argparse
import re

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.logs import LEVELS
from pipelines.run_config import (
    RENDER_KINDS,
    ChunkConfig,
    FindConfig,
    ModelConfig,
    RunConfig,
    SinkConfig,
    StreamConfig,
    ladder_heights,
    render_chunk_seconds,
    render_chunk_text,
    render_kinds,
    split_csv,
)
from transforms.encoding.settings import ENCODERS, X264_PRESETS
from transforms.paths import parse_extensions, template_fields
from transforms.streaming.notifications import normalize_prefixes

# Every default below is read from the settings classes (see pipelines.run_config).
_RUN = RunConfig()


class ReelbeamOptions(PipelineOptions):
    """reelbeam's own options; Beam's (runner, workers, ...) are parsed beside them."""

    @classmethod
    def _add_argparse_args(cls, parser: argparse.ArgumentParser) -> None:
        find = parser.add_argument_group("find: which videos")
        find.add_argument(
            "--input",
            action="append",
            default=None,
            help="Glob, path or folder, local or gs://; repeat the flag or separate with "
            "commas. Folders and ** recurse.",
        )
        find.add_argument(
            "--input_list",
            default=None,
            help="Text file (local or gs://) with one video URI or path a line.",
        )
        find.add_argument(
            "--allowed_roots",
            default=None,
            help="Folders or gs://bucket/prefix values that --input_list entries may name "
            "(comma-separated). Default: the list's own folder, or its bucket.",
        )
        find.add_argument(
            "--retry_failures",
            action="store_true",
            default=False,
            help="Reprocess only the inputs in <output>/catalog/failures.jsonl; their failure "
            "rows are cleared when they succeed.",
        )
        find.add_argument(
            "--watch",
            default=None,
            help="Local folder to poll for new, fully written videos (streaming).",
        )
        find.add_argument(
            "--watch_poll_s",
            type=float,
            default=StreamConfig.watch_poll_s,
            help="Seconds between polls of --watch; a file is taken once its size is stable "
            "across two polls.",
        )
        find.add_argument(
            "--watch_stop_after_s",
            type=float,
            default=StreamConfig.watch_stop_after_s,
            help="Stop a streaming run after this many seconds (0: run until cancelled): a "
            "--watch ends by itself; an --input_subscription run is cancelled.",
        )
        find.add_argument(
            "--input_subscription",
            default=None,
            help="Pub/Sub subscription (projects/P/subscriptions/S) with GCS OBJECT_FINALIZE "
            "notifications of new uploads (streaming).",
        )
        find.add_argument(
            "--input_prefixes",
            default=None,
            help="gs://bucket/prefix values (comma-separated) that notifications may come from; "
            "others are failure rows. Default: any object in the notifying bucket.",
        )
        find.add_argument(
            "--extensions",
            default=",".join(FindConfig.extensions),
            help="Video file extensions to take, comma-separated, any case.",
        )
        find.add_argument(
            "--path_pattern",
            default=None,
            help="Regex with named groups read from each path into path_fields, e.g. "
            r"'(?P<event>[^/]+)/(?P<day>day\d+)/(?P<table>[^/.]+)\.\w+$'.",
        )
        find.add_argument(
            "--video_id_template",
            default=None,
            help="str.format template for video_id over --path_pattern's groups, e.g. "
            "'{event}-{day}-{table}'. Default: a stable slug of the path.",
        )
        det = parser.add_argument_group("detect: people moving")
        det.add_argument(
            "--chunk_s",
            type=float,
            default=ChunkConfig.chunk_s,
            help="Analysis chunk length in seconds; one long file spreads over workers.",
        )
        det.add_argument(
            "--chunk_overlap_s",
            type=float,
            default=ChunkConfig.chunk_overlap_s,
            help="Lead-in each chunk decodes before its own range (context, never counted twice).",
        )
        det.add_argument(
            "--pose_fps",
            type=float,
            default=_RUN.detect.pose_fps,
            help="Frames analysed per second of video.",
        )
        det.add_argument(
            "--pose_model",
            default=None,
            help="PoseLandmarker .task bundle, local or gs://. Default: the one `make model` "
            "builds (models/pose_landmarker_full.task) or $REELBEAM_POSE_MODEL.",
        )
        det.add_argument(
            "--pose_delegate",
            choices=("cpu", "gpu"),
            default=ModelConfig.pose_delegate,
            help="Run MediaPipe on the CPU or its GPU delegate (needs a GPU and EGL).",
        )
        det.add_argument(
            "--motion_threshold",
            type=float,
            default=_RUN.segment.threshold,
            help="Motion score (torso lengths per second) at or above which a sample is moving.",
        )
        det.add_argument(
            "--min_motion_s",
            type=float,
            default=_RUN.segment.min_motion_s,
            help="Seconds the score must stay above the threshold to start a segment.",
        )
        det.add_argument(
            "--max_still_s",
            type=float,
            default=_RUN.segment.max_still_s,
            help="Seconds below the threshold that end a segment.",
        )
        det.add_argument(
            "--merge_gap_s",
            type=float,
            default=_RUN.segment.merge_gap_s,
            help="Segments closer than this are joined.",
        )
        det.add_argument(
            "--min_segment_s",
            type=float,
            default=_RUN.segment.min_segment_s,
            help="Segments shorter than this are dropped.",
        )
        ren = parser.add_argument_group("render: proxies, ladder, thumbnails, highlights")
        ren.add_argument(
            "--render",
            default=",".join(_RUN.render.kinds),
            help=f"Artifacts to make: any of {','.join(RENDER_KINDS)}, or none.",
        )
        ren.add_argument(
            "--proxy_height",
            type=int,
            default=_RUN.render.proxy_height,
            help="Proxy height in pixels (never upscaled).",
        )
        ren.add_argument(
            "--ladder",
            default=",".join(str(h) for h in _RUN.render.ladder),
            help="Rendition heights; rungs above the source are skipped, the proxy's rung is "
            "the proxy (not encoded twice).",
        )
        ren.add_argument(
            "--crf",
            type=int,
            default=_RUN.render.settings.crf,
            help="H.264 constant rate factor (0-51).",
        )
        ren.add_argument(
            "--preset",
            default=_RUN.render.settings.preset,
            choices=X264_PRESETS,
            help="x264 preset (mapped to the nearest NVENC preset for h264_nvenc).",
        )
        ren.add_argument(
            "--encoder",
            default=_RUN.render.settings.encoder,
            choices=ENCODERS,
            help="Video encoder; h264_nvenc needs an NVIDIA GPU with NVENC (L4, T4).",
        )
        ren.add_argument(
            "--render_chunk_s",
            default=render_chunk_text(_RUN.render.render_chunk_s),
            help="Sources longer than this (seconds) are encoded in parallel chunks and "
            "joined; auto sizes it per source from its duration and the workers "
            "(--max_num_workers, --num_workers or --direct_num_workers).",
        )
        ren.add_argument(
            "--highlight_pre_s",
            type=float,
            default=_RUN.render.highlight_pre_s,
            help="Seconds of lead-in before each segment in the highlight reel.",
        )
        ren.add_argument(
            "--highlight_post_s",
            type=float,
            default=_RUN.render.highlight_post_s,
            help="Seconds after each segment in the highlight reel.",
        )
        ren.add_argument(
            "--thumbnails",
            type=int,
            default=_RUN.render.thumbnails,
            help="Evenly spaced thumbnails per video.",
        )
        ren.add_argument(
            "--decode_timeout_s",
            type=float,
            default=_RUN.decode_timeout_s,
            help="A file or chunk whose decoding takes longer fails (0: sized to the input, "
            "60 s plus 4x the media duration).",
        )
        out = parser.add_argument_group("output: where results go")
        out.add_argument(
            "--output",
            default=SinkConfig.output,
            help="Folder or gs:// prefix for artifacts and the local catalog.",
        )
        out.add_argument(
            "--bigquery_dataset",
            default=None,
            help="PROJECT:DATASET: catalog rows go to BigQuery tables (upserted by key) instead "
            "of the local NDJSON files.",
        )
        out.add_argument(
            "--bigquery_endpoint",
            default=None,
            help="BigQuery API endpoint (regional/private, or a local emulator on 127.0.0.1, "
            "which is used without credentials). Default: Google's.",
        )
        run = parser.add_argument_group("run: what it prints")
        run.add_argument(
            "--verbose",
            action="store_true",
            default=False,
            help="Show per-file lines and third-party library logs (MediaPipe, TFLite, absl, "
            "gRPC), silenced by default.",
        )
        run.add_argument(
            "--log_level",
            default=None,
            choices=LEVELS,
            help="Log level of this process and the workers' children (default: WARNING, "
            "INFO with --verbose).",
        )


def validate(opts: ReelbeamOptions) -> list[str]:
    """Problems with the option values, one line each (empty when all is well)."""
    problems: list[str] = []
    sources = [
        bool(split_csv(opts.input) or opts.input_list or opts.retry_failures),
        bool(opts.watch),
        bool(opts.input_subscription),
    ]
    if not any(sources):
        problems.append("give --input (globs, paths, folders) or --input_list")
    elif sum(sources) > 1:
        problems.append("use one source: --input/--input_list, --watch or --input_subscription")
    if opts.input_subscription and not re.fullmatch(
        r"projects/[^/]+/subscriptions/[^/]+", opts.input_subscription
    ):
        problems.append("--input_subscription must look like projects/P/subscriptions/S")
    try:
        normalize_prefixes(split_csv(opts.input_prefixes))
    except ValueError as exc:
        problems.append(f"--input_prefixes: {exc}")
    if opts.watch_poll_s <= 0 or opts.watch_stop_after_s < 0:
        problems.append("--watch_poll_s must be > 0 and --watch_stop_after_s >= 0")
    if not opts.output:
        problems.append("--output must not be empty")
    if not parse_extensions(opts.extensions or ""):
        problems.append("--extensions names no extension")
    groups: set[str] = set()
    if opts.path_pattern:
        try:
            groups = set(re.compile(opts.path_pattern).groupindex)
        except re.error as exc:
            problems.append(f"--path_pattern is not a valid regex: {exc}")
        else:
            if not groups:
                problems.append("--path_pattern has no named groups, e.g. (?P<event>[^/]+)")
    if opts.video_id_template:
        try:
            names = template_fields(opts.video_id_template)
        except ValueError as exc:
            problems.append(f"--video_id_template is not a valid template: {exc}")
        else:
            if not names:
                problems.append("--video_id_template names no {field}")
            elif not opts.path_pattern:
                problems.append("--video_id_template needs --path_pattern for its fields")
            elif names - groups and groups:
                missing = ", ".join(sorted(names - groups))
                problems.append(f"--video_id_template uses fields --path_pattern lacks: {missing}")
    for name in ("chunk_s", "pose_fps"):
        if getattr(opts, name) <= 0:
            problems.append(f"--{name} must be > 0")
    for name in (
        "chunk_overlap_s",
        "motion_threshold",
        "min_motion_s",
        "max_still_s",
        "merge_gap_s",
        "min_segment_s",
    ):
        if getattr(opts, name) < 0:
            problems.append(f"--{name} must be >= 0")
    if opts.bigquery_dataset:
        from transforms.catalog.bigquery_sql import parse_dataset

        try:
            parse_dataset(opts.bigquery_dataset)
        except ValueError as exc:
            problems.append(f"--bigquery_dataset: {exc}")
    kinds = render_kinds(opts.render)
    if kinds is None:
        problems.append(
            f"--render takes any of {','.join(RENDER_KINDS)} or none, not {opts.render!r}"
        )
    if opts.proxy_height < 16 or opts.proxy_height % 2:
        problems.append("--proxy_height must be an even number >= 16")
    if ladder_heights(opts.ladder) is None:
        problems.append("--ladder must be comma-separated even heights >= 16, e.g. 1080,720,480")
    if not 0 <= opts.crf <= 51:
        problems.append("--crf must be between 0 and 51")
    if opts.thumbnails < 0:
        problems.append("--thumbnails must be >= 0")
    if render_chunk_seconds(opts.render_chunk_s) is None:
        problems.append(f"--render_chunk_s takes auto or seconds > 0, not {opts.render_chunk_s!r}")
    for name in ("highlight_pre_s", "highlight_post_s", "decode_timeout_s"):
        if getattr(opts, name) < 0:
            problems.append(f"--{name} must be >= 0")
    if opts.chunk_overlap_s >= opts.chunk_s > 0:
        problems.append("--chunk_overlap_s must be shorter than --chunk_s")
    return problems


def options_parser(**kwargs) -> argparse.ArgumentParser:
    """An ``argparse`` parser holding only reelbeam's options (for ``--help`` and subcommands).

    Beam offers no public way to get one options class's arguments as a parser, so this
    small adapter calls the class's ``_add_argparse_args`` hook (the method Beam itself
    calls on every ``PipelineOptions`` subclass) on a fresh parser.
    """
    parser = argparse.ArgumentParser(**kwargs)
    ReelbeamOptions._add_argparse_args(parser)
    return parser
