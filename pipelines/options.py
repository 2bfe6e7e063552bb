"""Every reelbeam flag, in one ``PipelineOptions`` subclass, and their validation.

``templates/reelbeam/metadata.json`` mirrors these flags; a test keeps the two in sync.
"""

from __future__ import annotations

import argparse
import os
import re

from apache_beam.options.pipeline_options import PipelineOptions

from transforms.paths import DEFAULT_EXTENSIONS, parse_extensions, template_fields

RENDER_KINDS = ("proxy", "ladder", "thumbnails", "preview", "highlights", "timeline")


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
            "--extensions",
            default=",".join(DEFAULT_EXTENSIONS),
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
        out = parser.add_argument_group("output: where results go")
        out.add_argument(
            "--output",
            default="./out",
            help="Folder or gs:// prefix for artifacts and the local catalog.",
        )


def split_csv(values: list[str] | str | None) -> list[str]:
    """Repeated and comma-separated flag values, flattened, blanks dropped."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def validate(opts: ReelbeamOptions) -> list[str]:
    """Problems with the option values, one line each (empty when all is well)."""
    problems: list[str] = []
    if not split_csv(opts.input) and not opts.input_list:
        problems.append("give --input (globs, paths, folders) or --input_list")
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
    return problems


def output_is_local(output: str) -> bool:
    """True for a local folder (no ``scheme://``)."""
    return "://" not in output


def absolute_output(output: str) -> str:
    """The output as an absolute path (local) or unchanged (``gs://``)."""
    return os.path.abspath(output) if output_is_local(output) else output.rstrip("/")
