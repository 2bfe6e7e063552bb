"""Every reelbeam flag, in one ``PipelineOptions`` subclass (checked by ``pipelines.validation``).

``templates/reelbeam/metadata.json`` mirrors these flags; a test keeps the two in sync.
"""

from __future__ import annotations

import argparse

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
    render_chunk_text,
)
from transforms.encoding.settings import ENCODERS, X264_PRESETS
from transforms.people.finder import DETECTORS

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
            "--reprocess",
            action="store_true",
            default=FindConfig.reprocess,
            help="Decode and render again even where the catalog shows the input and the "
            "settings unchanged (by default a rerun skips them).",
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
            "--watch ends by itself; on the DirectRunner an --input_subscription is pulled that "
            "long, written, then acked (without it, Beam's read acks on pull); on Dataflow a "
            "subscription run is cancelled.",
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
            help="Video file extensions to take, comma-separated, any case; '*' takes any "
            "file and lets the probe decide (files that are not video are counted, not "
            "failure rows).",
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
            "--people_detector",
            choices=DETECTORS,
            default=_RUN.detect.people.detector,
            help="Person detector run before pose so that people far from the camera are "
            "found: ssd (MediaPipe's SSD Open Images model, built by `make model`) or none "
            "(whole-frame pose only).",
        )
        det.add_argument(
            "--detector_model",
            default=None,
            help="Person detector .tflite, local or gs://. Default: the one `make model` "
            "builds (models/person_detector_ssd_oidv4.tflite) or $REELBEAM_PERSON_DETECTOR.",
        )
        det.add_argument(
            "--detector_tiles",
            default=_RUN.detect.people.tiles,
            help="Overlapping COLSxROWS tiles the person detector also runs on, besides the "
            "whole frame, to find small people (1x1: whole frame only).",
        )
        det.add_argument(
            "--max_people",
            type=int,
            default=_RUN.detect.people.max_people,
            help="Most detected people per frame that get a pose of their own (a crop); "
            "more are counted as people_dropped.",
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
            help="A file or chunk whose decoding takes longer fails (0: sized to the input: "
            "a probe 60 s plus 10 s per GiB, a chunk 60 s plus 4x its media time, a render "
            "120 s plus 6x).",
        )
        ren.add_argument(
            "--max_decode_errors",
            type=int,
            default=_RUN.render.max_decode_errors,
            help="Damaged packets one decoding pass skips and conceals (as the ffmpeg CLI "
            "does) before the file fails (-1: no limit).",
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


def options_parser(**kwargs) -> argparse.ArgumentParser:
    """An ``argparse`` parser holding only reelbeam's options (for ``--help`` and subcommands).

    Beam offers no public way to get one options class's arguments as a parser, so this
    small adapter calls the class's ``_add_argparse_args`` hook (the method Beam itself
    calls on every ``PipelineOptions`` subclass) on a fresh parser.
    """
    parser = argparse.ArgumentParser(**kwargs)
    ReelbeamOptions._add_argparse_args(parser)
    return parser
