"""``reelbeam failures --output DIR``: what failed, by stage and error type."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence

from transforms.catalog.ndjson_store import catalog_path, read_table
from transforms.io.filesystems import file_systems
from transforms.io.uris import absolute


def summarise(rows: list[dict]) -> str:
    """A table of failures by stage and error type, with counts, inputs and an example."""
    if not rows:
        return "no failures"
    counts = Counter((r["stage"], r["error_type"]) for r in rows)
    inputs: dict[tuple[str, str], set[str]] = {}
    example: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["stage"], row["error_type"])
        inputs.setdefault(key, set()).add(row["input_uri"])
        example.setdefault(key, row)
    lines = [f"{'stage':<8} {'error_type':<26} {'rows':>5} {'inputs':>6}  retry?  example"]
    for (stage, error), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        first = example[(stage, error)]
        retry = "no" if first["permanent"] else "yes"
        lines.append(
            f"{stage:<8} {error:<26} {count:>5} {len(inputs[(stage, error)]):>6}  {retry:<6}  "
            f"{first['input_uri']}: {first['message'][:80]}"
        )
    distinct = len({r["input_uri"] for r in rows})
    lines.append(f"{len(rows)} failure rows, {distinct} inputs; rerun them with --retry_failures")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """Print the summary; exit 2 when there is no catalog."""
    parser = argparse.ArgumentParser(prog="reelbeam failures", description=__doc__)
    parser.add_argument("--output", default="./out", help="The run's --output.")
    opts = parser.parse_args(list(argv))
    output = absolute(opts.output)
    if not file_systems().exists(catalog_path(output, "failures")):
        print(f"reelbeam: error: no catalog under {output}", file=sys.stderr)
        return 2
    print(summarise(read_table(output, "failures")))
    return 0
