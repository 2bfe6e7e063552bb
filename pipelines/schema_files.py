"""``reelbeam schemas [FOLDER]``: write the BigQuery JSON schemas generated from the row models."""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

from transforms.schemas import render_schema_files


def main(argv: Sequence[str]) -> int:
    """Write ``<folder>/<table>.json`` for every table (default folder: ``schemas``)."""
    folder = pathlib.Path(argv[0] if argv else "schemas")
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render_schema_files().items():
        (folder / name).write_text(text)
        print(folder / name)
    return 0
