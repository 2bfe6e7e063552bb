"""``templates/reelbeam/metadata.json``, generated from ``ReelbeamOptions`` so the two never drift.

Run ``reelbeam template-metadata`` (``make template-metadata``) after changing an
option; a test fails while the checked-in file differs.
"""

from __future__ import annotations

import argparse
import json
import pathlib

from pipelines.options import ReelbeamOptions

TEMPLATE_PATH = pathlib.Path(__file__).resolve().parents[1] / "templates/reelbeam/metadata.json"
_GCS_FILES = {"input_list": "GCS_READ_FILE", "pose_model": "GCS_READ_FILE"}
_GCS_FOLDERS = {"output": "GCS_WRITE_FOLDER"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    ReelbeamOptions._add_argparse_args(parser)
    return parser


def _param(action: argparse.Action, group: str) -> dict:
    param: dict = {
        "name": action.dest,
        "label": action.dest.replace("_", " ").capitalize(),
        "helpText": action.help or "",
        "isOptional": True,
        "groupName": group,
    }
    if action.choices:
        param["paramType"] = "ENUM"
        param["enumOptions"] = [{"value": str(c)} for c in action.choices]
    elif action.type in (int, float):
        param["paramType"] = "NUMBER"
        param["regexes"] = [r"^[0-9]+(\.[0-9]+)?$"]
    elif action.dest in _GCS_FILES:
        param["paramType"] = _GCS_FILES[action.dest]
    elif action.dest in _GCS_FOLDERS:
        param["paramType"] = _GCS_FOLDERS[action.dest]
    else:
        param["paramType"] = "TEXT"
    if action.default is not None:
        param["defaultValue"] = str(action.default)
    return param


def metadata() -> dict:
    """The flex template's metadata: one parameter per reelbeam option, grouped by stage."""
    params = []
    for group in _parser()._action_groups:
        title = group.title.split(":")[0]
        params.extend(_param(a, title) for a in group._group_actions if a.dest != "help")
    return {
        "name": "reelbeam",
        "description": "Catalog a video archive: find, probe, detect people moving, render "
        "proxies and highlight reels; catalog rows to BigQuery or NDJSON, artifacts to GCS.",
        "streaming": False,
        "supportsAtLeastOnce": True,
        "parameters": params,
    }


def options_table() -> str:
    """The README's options table (between ``<!-- options:start -->`` and ``:end``)."""
    lines = ["| option | default | meaning |", "|---|---|---|"]
    for group in _parser()._action_groups:
        for action in group._group_actions:
            if action.dest == "help":
                continue
            default = "" if action.default is None else f"`{action.default}`"
            text = (action.help or "").replace("|", "\\|")
            lines.append(f"| `--{action.dest}` | {default} | {text} |")
    return "\n".join(lines) + "\n"


def render() -> str:
    """The file's text."""
    return json.dumps(metadata(), indent=2) + "\n"


README_PATH = TEMPLATE_PATH.parents[2] / "README.md"
_START, _END = "<!-- options:start -->\n", "<!-- options:end -->"


def readme_with_options(readme: str) -> str:
    """The README text with its options table regenerated."""
    head, _, rest = readme.partition(_START)
    _, _, tail = rest.partition(_END)
    return head + _START + options_table() + _END + tail


def main(argv: list[str] | None = None) -> int:
    """Write the metadata file and refresh the README's options table."""
    target = pathlib.Path(argv[0] if argv else TEMPLATE_PATH)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render())
    print(target)
    if README_PATH.exists() and _START in README_PATH.read_text():
        README_PATH.write_text(readme_with_options(README_PATH.read_text()))
        print(README_PATH)
    return 0
