"""The command line: ``reelbeam [options]`` runs the pipeline; subcommands do the rest.

``reelbeam resegment``, ``report``, ``failures``, ``schemas`` and ``template-metadata``
each live in a small module of ``pipelines/``; this is the one place that
dispatches to them, so transforms hold no ``main``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from transforms.io.deadletter import Clock, utc_now


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


def dispatch(argv: Sequence[str] | None = None, clock: Clock = utc_now) -> int:
    """Run a subcommand, or the pipeline when the first word is none; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:], clock)
    return _run(argv, clock)


def main() -> None:
    """The ``reelbeam`` console script: exit with the command's code."""
    sys.exit(dispatch())
