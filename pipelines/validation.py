"""Option values checked at launch: one line per problem, before any work (exit 2)."""

from __future__ import annotations

import re

from pipelines.options import ReelbeamOptions
from pipelines.run_config import (
    RENDER_KINDS,
    ladder_heights,
    render_chunk_seconds,
    render_kinds,
    split_csv,
)
from transforms.paths import parse_extensions, template_fields
from transforms.people.boxes import TileGrid
from transforms.streaming.notifications import normalize_prefixes


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
    try:
        TileGrid.parse(opts.detector_tiles)
    except ValueError as exc:
        problems.append(f"--detector_tiles: {exc}")
    if opts.max_people < 0:
        problems.append("--max_people must be >= 0")
    if opts.max_decode_errors < -1:
        problems.append("--max_decode_errors must be >= 0, or -1 for no limit")
    if opts.chunk_overlap_s >= opts.chunk_s > 0:
        problems.append("--chunk_overlap_s must be shorter than --chunk_s")
    return problems
