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


# Options whose values are files or folders that the isolated children read or write.
_CHILD_URI_OPTIONS = (
    "input",
    "input_list",
    "allowed_roots",
    "watch",
    "output",
    "pose_model",
    "detector_model",
)


def names_remote_uri(argv: Sequence[str]) -> bool:
    """Whether the run's children will read or write remote URIs (``gs://``).

    True when an input, root, watched folder, output or model names a ``scheme://``
    URI, or the run reads a Pub/Sub subscription (its uploads are on GCS). The
    children then need Beam's FileSystems, which the fork server preloads; a child
    that meets a remote URI the command line did not name imports it on first use.
    """
    if named_option(argv, "input_subscription"):
        return True
    values = (named_option(argv, name) for name in _CHILD_URI_OPTIONS)
    return any("://" in value for value in values if value)
