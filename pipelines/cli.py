"""The command line: ``reelbeam [options]`` runs the pipeline; subcommands do the rest.

``reelbeam resegment``, ``report``, ``failures``, ``schemas`` and ``template-metadata``
each live in a small module of ``pipelines/``; this is the one place that
dispatches to them, so transforms hold no ``main``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pipelines.argv import named_option, names_remote_uri
from pipelines.runners import runs_workers_here

if TYPE_CHECKING:  # the CLI imports nothing heavy before it knows the command
    from transforms.io.deadletter import Clock


def may_be_unchanged_rerun(argv: Sequence[str]) -> bool:
    """Whether the run may find nothing to do (and then starts no child process at all).

    True when a catalog may already hold the inputs: a local ``--output`` with a
    ``videos`` table, any other output, or a BigQuery catalog. A first run into a new
    folder, and a streaming run, certainly decode.
    """
    if named_option(argv, "watch") or named_option(argv, "input_subscription"):
        return False
    output = named_option(argv, "output")
    if output is None or "://" in output or named_option(argv, "bigquery_dataset"):
        return True
    return os.path.exists(os.path.join(output, "catalog", "videos.jsonl"))


def start_fork_server_early(argv: Sequence[str]) -> bool:
    """Start the isolated children's fork server before the launcher imports Beam.

    The server's own imports (PyAV, NumPy, MediaPipe and the children's modules, none
    of them Beam: about 1.8 s on 2 cores) then run beside the launcher's (Beam, 2-3 s)
    instead of after them, and the first probe finds its child ready. Only for runs whose workers are in this
    process (the DirectRunner, the default) and that will decode: a rerun over a
    catalog leaves it to the launcher, which starts the server once it knows there is
    work (an unchanged rerun starts none). A help request or a remote runner starts
    nothing either. Returns whether the server was started.
    """
    if any(a in ("-h", "--help") for a in argv):
        return False
    if not runs_workers_here(named_option(argv, "runner")):
        return False
    if may_be_unchanged_rerun(argv):
        return False
    from transforms.io.isolation import prestart_fork_server

    return prestart_fork_server(remote_io=names_remote_uri(argv))


def _wall_clock() -> Clock:
    from transforms.io.deadletter import utc_now

    return utc_now


def _run(argv: Sequence[str], clock: Clock) -> int:
    from pipelines.launcher import run

    return run(argv, clock=clock)


def _resegment(argv: Sequence[str], clock: Clock) -> int:
    from pipelines import resegment

    return resegment.main(argv, clock)


def _report(argv: Sequence[str], clock: Clock) -> int:
    from pipelines import report_cli

    return report_cli.main(argv)


def _failures(argv: Sequence[str], clock: Clock) -> int:
    from pipelines import failures

    return failures.main(argv)


def _schemas(argv: Sequence[str], clock: Clock) -> int:
    from pipelines import schema_files

    return schema_files.main(argv)


def _template_metadata(argv: Sequence[str], clock: Clock) -> int:
    from pipelines import template_metadata

    return template_metadata.main(list(argv))


SUBCOMMANDS: dict[str, Callable[[Sequence[str], Clock], int]] = {
    "resegment": _resegment,
    "report": _report,
    "failures": _failures,
    "schemas": _schemas,
    "template-metadata": _template_metadata,
}


def dispatch(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    """Run a subcommand, or the pipeline when the first word is none; returns the exit code.

    ``clock`` stamps rows (the wall clock in UTC when None; tests inject a fixed one).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:], clock or _wall_clock())
    start_fork_server_early(argv)
    return _run(argv, clock or _wall_clock())


def main() -> None:
    """The ``reelbeam`` console script: exit with the command's code."""
    sys.exit(dispatch())
