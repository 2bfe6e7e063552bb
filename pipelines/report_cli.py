"""``reelbeam report --output DIR``: rebuild the report page from a catalog alone."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from transforms.report import NoCatalogError, build_report


def main(argv: Sequence[str]) -> int:
    """Write ``<output>/report/index.html``.

    Returns:
        0 and prints the index URI; 2 with one line when there is no catalog under DIR.
    """
    parser = argparse.ArgumentParser(
        prog="reelbeam report",
        description="Rebuild <output>/report/index.html (static, offline) from the catalog.",
    )
    parser.add_argument(
        "--output",
        default="./out",
        help="folder or gs:// prefix that holds catalog/ and videos/ (default: ./out)",
    )
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # --help (0) or a bad option (2, argparse printed one line)
        return int(exc.code or 0)
    try:
        print(build_report(args.output))
    except NoCatalogError as exc:
        print(f"reelbeam report: error: {exc}", file=sys.stderr)
        return 2
    return 0
