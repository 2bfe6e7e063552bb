"""The launcher: parse and check options, preflight, build, run, summarise.

Options are checked on their own (``pipelines.options.validate``) and against what
the runner can do (``pipelines.runners``). A batch rerun whose inputs are all
unchanged ends after preflight (``pipelines.incremental.nothing_to_do``): no
pipeline, no child process, nothing written, and the usual summary line.

Exit codes: 0 when the run finished (also when some inputs failed: they are
failure rows), 2 for bad options, 1 when the pipeline itself broke.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from pipelines.argv import named_option, names_remote_uri
from pipelines.builder import build_pipeline
from pipelines.incremental import nothing_to_do
from pipelines.logs import configure as configure_logging
from pipelines.logs import log_level
from pipelines.options import ReelbeamOptions, options_parser
from pipelines.preflight import UsageError, preflight, sweep_temp_files
from pipelines.run_config import RunConfig, run_config
from pipelines.runners import (
    Capabilities,
    capabilities,
    delivery_warnings,
    option_problems,
    runs_streaming,
    runs_workers_here,
    shared_path_warnings,
)
from pipelines.streaming import local_worker_problems, wait_streaming
from pipelines.validation import validate
from transforms.catalog.ndjson_store import read_table
from transforms.io.credentials import use_emulator_credentials
from transforms.io.deadletter import Clock, utc_now
from transforms.io.failsafe import discard_prewarmed, isolated_fns, prewarm
from transforms.io.isolation import prestart_fork_server
from transforms.io.uris import join_uri
from transforms.progress import PROGRESS_ENV, ProgressDisplay

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


def help_text() -> str:
    """``reelbeam --help``: reelbeam's options grouped by stage (Beam's are documented by Beam)."""
    parser = options_parser(
        prog="reelbeam",
        usage="reelbeam [options] [Beam pipeline options]\n"
        "       reelbeam resegment --output DIR [segment options]\n"
        "       reelbeam report --output DIR\n"
        "       reelbeam failures --output DIR\n"
        "       reelbeam schemas [FOLDER]\n"
        "       reelbeam template-metadata [FILE]",
        description="Catalog a video archive with Apache Beam: find, probe, detect people "
        "moving, render proxies and highlights. Beam options (--runner, --project, ...) "
        "are accepted beside these.",
    )
    return parser.format_help()


LOCAL_RUNNING_MODE = "multi_threading"
"""The DirectRunner's running mode when the command line names none.

Every step that decodes, infers or encodes runs in an isolated child process
(``transforms.io.failsafe.IsolatedFn``), so worker threads wait on their children with
the GIL released and run in parallel: threads give the cores to the work without
starting SDK worker processes, each of which imports Beam again (about 4 s of start-up
per worker measured on 2 cores, against 0.4 s for the threads).
"""


def parse(argv: Sequence[str]) -> PipelineOptions:
    """Beam and reelbeam options from the command line, DirectRunner unless one is named.

    On the DirectRunner without ``--direct_running_mode``, a batch run's workers are
    threads (``LOCAL_RUNNING_MODE``), one per core unless ``--direct_num_workers`` says
    otherwise. A streaming source keeps Beam's single worker (``streaming.local_worker_problems``).
    """
    options = PipelineOptions(list(argv))
    if not options.view_as(StandardOptions).runner:
        options.view_as(StandardOptions).runner = "DirectRunner"
    direct = options.view_as(DirectOptions)
    streams = named_option(argv, "watch") or named_option(argv, "input_subscription")
    if named_option(argv, "direct_running_mode") is None and not streams:
        direct.direct_running_mode = LOCAL_RUNNING_MODE
        if named_option(argv, "direct_num_workers") is None:
            direct.direct_num_workers = 0  # Beam's "one per core"
    return options


def worker_threads(options: PipelineOptions, caps: Capabilities) -> int:
    """How many worker threads the runner runs inside the launcher; 0: none (workers elsewhere)."""
    direct = options.view_as(DirectOptions)
    if not runs_workers_here(caps.name):
        return 0
    if direct.direct_running_mode not in (None, "in_memory", "multi_threading"):
        return 0
    return direct.direct_num_workers or os.cpu_count() or 1


def counters(result, caps: Capabilities) -> dict[str, int] | None:
    """reelbeam's Beam counters after a run, by name; None where the runner reports none."""
    if not caps.metrics:
        return None
    try:
        query = result.metrics().query(MetricsFilter().with_namespace("reelbeam"))
    except Exception:  # the runner has no metrics service after all
        return None
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (value or 0)
    # Every run increments some reelbeam counter (the catalog writer counts rows even
    # when there are none), so an empty answer means the runner dropped them.
    return totals or None


def catalog_counts(output: str) -> dict[str, int]:
    """The summary's counts read from the NDJSON catalog under ``output``.

    For runners without metrics: these are the catalog's totals (earlier runs
    included), keyed like the counters.
    """
    videos = read_table(output, "videos")
    sources = {row.get("source_uri") for row in videos}
    failures = read_table(output, "failures")
    return {
        "videos_catalogued": len(videos),
        "inputs_failed": len({row.get("input_uri") for row in failures} - sources),
        "rows_segments": len(read_table(output, "segments")),
        "rows_assets": len(read_table(output, "assets")),
    }


RERUN_STAGES = ("detect", "segment", "render")
"""Stages a rerun may redo on their own (counters ``reprocessed_<stage>``)."""


def rerun_counts(totals: dict[str, int]) -> str:
    """``, 3 unchanged skipped, reprocessed: 1 detect, 0 segment, 2 render`` (or nothing).

    Said only when the catalog made a difference: some input was skipped or resumed.
    """
    skipped = totals.get("inputs_skipped", 0)
    redone = {stage: totals.get(f"reprocessed_{stage}", 0) for stage in RERUN_STAGES}
    if not skipped and not any(redone.values()):
        return ""
    text = f", {skipped} unchanged skipped"
    if any(redone.values()):
        text += ", reprocessed: " + ", ".join(f"{n} {stage}" for stage, n in redone.items())
    return text


def summary_line(
    totals: dict[str, int] | None,
    output: str,
    report: str | None = None,
    source: str = "run",
) -> str:
    """The last line of a run: what was catalogued and where it is.

    Args:
        totals: counts keyed like the counters, or None when nothing can count them.
        output: where the output is.
        report: the report page, if there is one.
        source: ``run`` (the runner's counters) or ``catalog`` (read back from the
            NDJSON catalog because the runner reports no metrics).
    """
    if totals is None:
        line = f"reelbeam: counts unavailable (the runner reports no metrics); output: {output}"
    else:
        counts = (
            f"{totals.get('videos_catalogued', 0)} videos catalogued, "
            f"{totals.get('inputs_failed', 0)} failed, "
            f"{totals.get('rows_segments', 0)} segments, "
            f"{totals.get('rows_assets', 0)} assets"
        )
        if source == "catalog":
            counts = f"{counts} in the catalog (the runner reports no metrics)"
        counts += rerun_counts(totals)
        line = f"reelbeam: {counts}; output: {output}"
    return f"{line}; report: {report}" if report else line


def report_page(config: RunConfig) -> str | None:
    """The report page a batch run keeps up to date (none when the rows go to BigQuery)."""
    if config.sink.bigquery_dataset:
        return None
    return join_uri(config.output, "report", "index.html")


def summary(result, caps: Capabilities, config: RunConfig, finished: bool = True) -> str:
    """The summary line for a run, from its counters or else from the catalog.

    Args:
        result: the run's result.
        caps: what the runner can do.
        config: the run's settings.
        finished: False for a streaming job left running on its cluster.
    """
    output = config.output
    if not finished:
        return f"reelbeam: streaming job left running on the {caps.name}; output: {output}"
    report = report_page(config)
    totals = counters(result, caps)
    if totals is not None:
        return summary_line(totals, output, report)
    if config.sink.bigquery_dataset:  # rows went to BigQuery, not to files here
        return summary_line(None, output)
    return summary_line(catalog_counts(output), output, report, source="catalog")


@contextlib.contextmanager
def _progress(caps: Capabilities):
    """A live status line on a terminal for runs whose workers are on this machine."""
    # Workers append to a local file named by an environment variable: only workers
    # on this machine (in-process or forked) can.
    if not sys.stderr.isatty() or not caps.shares_local_files:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="reelbeam-progress-") as folder:
        path = os.path.join(folder, "progress.jsonl")
        os.environ[PROGRESS_ENV] = path
        try:
            with ProgressDisplay(path, sys.stderr):
                yield
        finally:
            os.environ.pop(PROGRESS_ENV, None)


def run(
    argv: Sequence[str] | None = None,
    test_pipeline: beam.Pipeline | None = None,
    clock: Clock = utc_now,
) -> int:
    """Run reelbeam with command-line arguments; returns the exit code.

    Args:
        argv: arguments without the program name (``sys.argv[1:]`` if None).
        test_pipeline: a pipeline to build into instead of a new one (tests).
        clock: the clock stamped on rows (tests inject a fixed one).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(help_text())
        return EXIT_OK
    # Before parsing: Beam logs while it parses, and its first line would set up logging.
    configure_logging()
    use_emulator_credentials()
    try:
        options = parse(argv)
        opts = options.view_as(ReelbeamOptions)
        configure_logging(log_level(opts.verbose, opts.log_level))
        problems = validate(opts)
        if problems:
            raise UsageError("; ".join(problems))
        config = run_config(opts)
        caps = capabilities(options.view_as(StandardOptions).runner)
        problems = option_problems(caps, config) + local_worker_problems(
            caps, config, options.view_as(DirectOptions).direct_num_workers
        )
        if problems:
            raise UsageError("; ".join(problems))
        preflight(opts, config)
    except UsageError as exc:
        print(f"reelbeam: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for warning in [*shared_path_warnings(caps, config), *delivery_warnings(caps, config)]:
        logging.warning("%s", warning)
    # Before any child process or Beam job: a rerun over unchanged inputs ends here,
    # its catalog and report as they were.
    unchanged = nothing_to_do(config, clock)
    if unchanged is not None:
        logging.info("every input is unchanged: no pipeline started")
        print(summary_line(unchanged, config.output, report_page(config)))
        return EXIT_OK
    threads = worker_threads(options, caps)
    if threads:
        prestart_fork_server(remote_io=names_remote_uri(argv))
    output = config.output
    sweep_temp_files(output)
    if config.stream.enabled:
        options.view_as(StandardOptions).streaming = runs_streaming(caps, config)
    pipeline = test_pipeline if test_pipeline is not None else beam.Pipeline(options=options)
    try:
        build_pipeline(pipeline, config, clock)
        if threads:  # the models load while the runner plans and runs the first stages
            prewarm(isolated_fns(pipeline), threads)
        with _progress(caps):
            result = pipeline.run()
            finished = True
            if config.stream.enabled:
                finished = wait_streaming(result, config.stream, caps)
            else:
                result.wait_until_finish()
    except Exception:
        logging.exception("the pipeline broke")
        print(f"reelbeam: error: the pipeline broke; output so far: {output}", file=sys.stderr)
        return EXIT_BROKEN
    finally:
        discard_prewarmed()
    print(summary(result, caps, config, finished))
    return EXIT_OK
