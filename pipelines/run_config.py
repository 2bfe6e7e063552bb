"""Options become settings once: ``run_config(options)`` -> a frozen ``RunConfig``.

This is the one place where flags turn into the typed settings that the
transforms take. Each setting's default lives on its settings class (the
``find``/``stream``/``sink`` sections here; ``DetectParams``, ``SegmentParams``,
``RenderParams`` and ``EncodeSettings`` beside the code that uses them), and the
options class reads its defaults from those classes, so ``--help``, the README
table and the template metadata (all generated from the options) cannot disagree
with the code. ``tests`` check that ``run_config`` of an empty command line equals
the default config.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from typing import TYPE_CHECKING

from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    StandardOptions,
    WorkerOptions,
)

from transforms.chunk_analysis import DetectParams
from transforms.encoding.settings import EncodeSettings
from transforms.find import normalize_input
from transforms.io.uris import absolute, is_local
from transforms.motion import SegmentParams
from transforms.paths import DEFAULT_EXTENSIONS, parse_extensions
from transforms.people.finder import PeopleParams
from transforms.render.auto_chunks import AUTO, workers_available
from transforms.render.jobs import RenderParams

if TYPE_CHECKING:
    from pipelines.options import ReelbeamOptions

RENDER_KINDS = ("proxy", "ladder", "thumbnails", "preview", "highlights", "timeline")


def split_csv(values: list[str] | str | None) -> list[str]:
    """Repeated and comma-separated flag values, flattened, blanks dropped."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def render_kinds(text: str) -> tuple[str, ...] | None:
    """``--render`` as a tuple of kinds (empty for ``none``), or None when invalid."""
    parts = [p.strip().lower() for p in (text or "").split(",") if p.strip()]
    if parts == ["none"]:
        return ()
    if not parts or any(p not in RENDER_KINDS for p in parts):
        return None
    return tuple(k for k in RENDER_KINDS if k in parts)


def render_chunk_seconds(text: str | float | None) -> float | None:
    """``--render_chunk_s`` as seconds (``AUTO`` for ``auto``), or None when invalid."""
    if text is None or str(text).strip().lower() == "auto":
        return AUTO
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if seconds > 0 and math.isfinite(seconds) else None


def render_chunk_text(seconds: float) -> str:
    """The flag's text for ``RenderParams.render_chunk_s`` (``auto`` for ``AUTO``)."""
    return "auto" if seconds == AUTO else f"{seconds:g}"


def render_workers(opts: PipelineOptions) -> int:
    """Workers that can encode render chunks at once, from Beam's worker options."""
    worker = opts.view_as(WorkerOptions)
    return workers_available(
        worker.max_num_workers,
        worker.num_workers,
        opts.view_as(DirectOptions).direct_num_workers,
        os.cpu_count(),
        opts.view_as(StandardOptions).runner,
    )


def ladder_heights(text: str) -> tuple[int, ...] | None:
    """``--ladder`` as heights, tallest first, or None when invalid."""
    try:
        heights = {int(p) for p in (text or "").split(",") if p.strip()}
    except ValueError:
        return None
    if any(h < 16 or h % 2 for h in heights):
        return None
    return tuple(sorted(heights, reverse=True))


@dataclasses.dataclass(frozen=True)
class FindConfig:
    """Which files a batch run takes (``FindVideos``)."""

    patterns: tuple[str, ...] = ()
    input_list: str | None = None
    allowed_roots: tuple[str, ...] | None = None
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS
    path_pattern: str | None = None
    video_id_template: str | None = None
    retry_failures: bool = False
    reprocess: bool = False


@dataclasses.dataclass(frozen=True)
class StreamConfig:
    """Where a streaming run's files come from (``--watch`` or ``--input_subscription``)."""

    watch: str | None = None
    watch_poll_s: float = 5.0
    watch_stop_after_s: float = 0.0
    input_subscription: str | None = None
    input_prefixes: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        """True when the run reads a watched folder or a subscription."""
        return bool(self.watch or self.input_subscription)


@dataclasses.dataclass(frozen=True)
class ChunkConfig:
    """How probed videos are split for analysis."""

    chunk_s: float = 60.0
    chunk_overlap_s: float = 3.0


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Which pose model runs where."""

    pose_model: str | None = None
    pose_delegate: str = "cpu"

    @property
    def backend(self) -> str:
        """The pose backend name (``mediapipe-cpu`` or ``mediapipe-gpu``)."""
        return f"mediapipe-{self.pose_delegate}"


@dataclasses.dataclass(frozen=True)
class SinkConfig:
    """Where rows and artifacts go."""

    output: str = "./out"
    bigquery_dataset: str | None = None
    bigquery_endpoint: str | None = None

    @property
    def bigquery_anonymous(self) -> bool:
        """True for an emulator endpoint on this machine (used without credentials)."""
        pattern = r"^https?://(127\.0\.0\.1|localhost)(:|/|$)"
        return bool(self.bigquery_endpoint and re.match(pattern, self.bigquery_endpoint))


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything a run needs, typed and frozen; the builder takes this, not the options."""

    find: FindConfig = FindConfig()
    stream: StreamConfig = StreamConfig()
    chunks: ChunkConfig = ChunkConfig()
    model: ModelConfig = ModelConfig()
    detect: DetectParams = DetectParams()
    segment: SegmentParams = SegmentParams()
    render: RenderParams = RenderParams()
    sink: SinkConfig = SinkConfig()
    decode_timeout_s: float = 0.0

    @property
    def output(self) -> str:
        """The output folder or prefix, absolute."""
        return self.sink.output


def run_config(opts: ReelbeamOptions) -> RunConfig:
    """Map validated options to the run's settings (the only place this happens)."""
    output = absolute(opts.output)
    roots = tuple(normalize_input(r) for r in split_csv(opts.allowed_roots))
    watch = opts.watch
    if watch and is_local(watch):
        watch = absolute(watch)
    return RunConfig(
        find=FindConfig(
            patterns=tuple(normalize_input(p) for p in split_csv(opts.input)),
            input_list=opts.input_list,
            allowed_roots=roots or None,
            extensions=parse_extensions(opts.extensions),
            path_pattern=opts.path_pattern,
            video_id_template=opts.video_id_template,
            retry_failures=bool(opts.retry_failures),
            reprocess=bool(opts.reprocess),
        ),
        stream=StreamConfig(
            watch=watch,
            watch_poll_s=opts.watch_poll_s,
            watch_stop_after_s=opts.watch_stop_after_s,
            input_subscription=opts.input_subscription,
            input_prefixes=tuple(split_csv(opts.input_prefixes)),
        ),
        chunks=ChunkConfig(chunk_s=opts.chunk_s, chunk_overlap_s=opts.chunk_overlap_s),
        model=ModelConfig(pose_model=opts.pose_model, pose_delegate=opts.pose_delegate),
        detect=DetectParams(
            pose_fps=opts.pose_fps,
            max_decode_errors=opts.max_decode_errors,
            people=PeopleParams(
                detector=opts.people_detector,
                tiles=opts.detector_tiles,
                max_people=opts.max_people,
                model=opts.detector_model,
            ),
        ),
        segment=segment_params(opts),
        render=RenderParams(
            kinds=render_kinds(opts.render) or (),
            proxy_height=opts.proxy_height,
            ladder=ladder_heights(opts.ladder) or (),
            settings=EncodeSettings(crf=opts.crf, preset=opts.preset, encoder=opts.encoder),
            render_chunk_s=render_chunk_seconds(opts.render_chunk_s) or AUTO,
            render_workers=render_workers(opts),
            highlight_pre_s=opts.highlight_pre_s,
            highlight_post_s=opts.highlight_post_s,
            thumbnails=opts.thumbnails,
            timeout_s=opts.decode_timeout_s,
            max_decode_errors=opts.max_decode_errors,
        ),
        sink=SinkConfig(
            output=output,
            bigquery_dataset=opts.bigquery_dataset,
            bigquery_endpoint=opts.bigquery_endpoint,
        ),
        decode_timeout_s=opts.decode_timeout_s,
    )


def segment_params(opts: ReelbeamOptions) -> SegmentParams:
    """Segment detection settings from the options (``reelbeam resegment`` uses this too)."""
    return SegmentParams(
        threshold=opts.motion_threshold,
        min_motion_s=opts.min_motion_s,
        max_still_s=opts.max_still_s,
        merge_gap_s=opts.merge_gap_s,
        min_segment_s=opts.min_segment_s,
    )
