"""Before any work: the launch checks, and the sweep of what a killed run left behind.

``preflight`` raises ``UsageError`` with one line that says what to fix (exit 2, no work
done); ``sweep_temp_files`` removes the temporary names a killed run left behind.
"""

from __future__ import annotations

import logging
import os
import re
import uuid

from pipelines.options import ReelbeamOptions
from pipelines.run_config import RunConfig, split_csv
from transforms.find import normalize_input
from transforms.io.credentials import gcs_credentials_problem
from transforms.io.filesystems import create, delete, file_systems
from transforms.io.uris import is_local, join_uri
from transforms.paths import glob_root, has_glob
from transforms.pose_backends import default_model_path


class UsageError(Exception):
    """Bad options or inputs found at launch: one line, exit 2, no work done."""


def preflight(opts: ReelbeamOptions, config: RunConfig) -> None:
    """Cheap checks before any work: inputs readable, output writable.

    Raises:
        UsageError: with one line that says what to fix.
    """
    for raw in split_csv(opts.input):
        pattern = normalize_input(raw)
        if not is_local(pattern):
            continue
        base = glob_root(pattern.removesuffix("/**")) if has_glob(pattern) else pattern
        if not os.path.exists(base):
            raise UsageError(f"--input {raw}: {base} does not exist")
        if not os.access(base, os.R_OK):
            raise UsageError(f"--input {raw}: {base} is not readable")
    if opts.input_list and is_local(opts.input_list):
        if not os.path.isfile(opts.input_list):
            raise UsageError(f"--input_list {opts.input_list} does not exist")
        if not os.access(opts.input_list, os.R_OK):
            raise UsageError(f"--input_list {opts.input_list} is not readable")
    if opts.watch and is_local(opts.watch) and not os.path.isdir(opts.watch):
        raise UsageError(f"--watch {opts.watch}: no such folder")
    model = opts.pose_model or default_model_path()
    if is_local(model) and not os.path.isfile(model):
        raise UsageError(f"pose model not found at {model}: run `make model` or pass --pose_model")
    if opts.bigquery_dataset and not config.sink.bigquery_anonymous:
        from transforms.catalog.bigquery_client import check_credentials
        from transforms.catalog.bigquery_sql import parse_dataset

        problem = check_credentials(parse_dataset(opts.bigquery_dataset)[0])
        if problem:
            raise UsageError(f"--bigquery_dataset: {problem}")
    remote = [*config.find.patterns, config.output, opts.input_list or "", model]
    problem = gcs_credentials_problem([u for u in remote if u], timeout_s=4.0)
    if problem:
        raise UsageError(problem)
    output = config.output
    if is_local(output):
        for raw in split_csv(opts.input):
            root = glob_root(normalize_input(raw).removesuffix("/**"))
            if not is_local(root) or not os.path.isdir(root):
                continue
            inside = os.path.commonpath([root, output])
            if inside in (root, output):
                raise UsageError(
                    f"--output {opts.output} and --input {raw} overlap: keep the output out of "
                    "the inputs (and the inputs out of the output)"
                )
        try:
            os.makedirs(output, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--output {opts.output}: cannot create it ({exc.strerror})") from exc
    probe = join_uri(output, f".reelbeam-preflight-{uuid.uuid4().hex}")
    try:
        with create(probe, "text/plain") as handle:
            handle.write(b"ok")
        delete([probe])
    except Exception as exc:
        raise UsageError(f"--output {opts.output} is not writable: {exc}") from exc


_TEMP_NAME = re.compile(r"(\.tmp-[0-9a-f]{32}|\.part)$")


def sweep_temp_files(output: str) -> int:
    """Delete temporary files a killed run left under ``output``; returns how many.

    Every artifact and catalog file is written to a temporary name and renamed into
    place, so what a SIGKILL leaves behind is only ever such a temporary file.
    """
    try:
        metadata = file_systems().match([join_uri(output, "**")])[0].metadata_list
    except Exception:  # nothing there yet
        return 0
    stale = [m.path for m in metadata if _TEMP_NAME.search(m.path)]
    if stale:
        delete(stale)
        logging.info("removed %d temporary files left by an interrupted run", len(stale))
    return len(stale)
