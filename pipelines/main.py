"""Entry point: ``reelbeam`` / ``python -m pipelines.main`` (what the flex template runs)."""

import sys

from pipelines.launcher import run


def main() -> None:
    """Run reelbeam with ``sys.argv`` and exit with its code."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
