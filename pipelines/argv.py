"""Reading a raw command line before it is parsed (pure: no Beam, cheap to import).

The CLI decides what to start before it imports the launcher, and the launcher picks
defaults only where the user named nothing; both read ``argv`` through this.
"""

from __future__ import annotations

from collections.abc import Sequence


def named_option(argv: Sequence[str], name: str) -> str | None:
    """The value of ``--name`` on a command line, in either spelling; None when absent."""
    for i, arg in enumerate(argv):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and i + 1 < len(argv):
            return argv[i + 1]
    return None
