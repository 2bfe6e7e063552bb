"""``reelbeam report --output DIR``: rebuild the report page from a catalog alone."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from transforms.catalog.ndjson_store import catalog_path
from transforms.io.uris import absolute
from transforms.report import has_catalog, write_report


def main(argv: Sequence[str]) -> int:
    """Write ``<output>/report/index.html``; 0 and its URI, or 2 with one line.

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
    output = absolute(args.output)
    try:
        found = has_catalog(output)
    except Exception as exc:
        print(f"reelbeam report: error: cannot read {output}: {exc}", file=sys.stderr)
        return 2
    if not found:
        print(
            f"reelbeam report: error: no catalog under {output} "
            f"(expected {catalog_path(output, 'videos')})",
            file=sys.stderr,
        )
        return 2
    print(write_report(output))
    return 0
