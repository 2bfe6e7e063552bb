"""The same source and settings give byte-identical artifacts, run after run (issue #12.4).

Two separate pipeline runs render the same sources into two output folders; every artifact
(proxy, renditions, thumbnails, preview, highlight reel, timeline, motion) must have the same
bytes, and the ``md5`` column of the ``assets`` rows must agree with them and across runs.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

import pytest

from pipelines.launcher import run
from tests.helpers.media import write_freeze_motion_clip, write_synthetic_clip
from tests.helpers.runs import DIRECT, fixed_clock
from transforms.encoding.highlights import render_highlights
from transforms.encoding.ladder import render_ladder

pytestmark = pytest.mark.integration


def _assets(out: pathlib.Path) -> dict[tuple[str, str], dict]:
    """Asset rows keyed by (video_id, path below the output folder)."""
    rows = {}
    for line in (out / "catalog" / "assets.jsonl").read_text().splitlines():
        row = json.loads(line)
        rel = str(pathlib.Path(row["uri"]).relative_to(out))
        rows[(row["video_id"], rel)] = row
    return rows


@pytest.fixture(scope="module")
def sources(tmp_path_factory, dancer) -> pathlib.Path:
    """A folder with the dance clip (motion 3-7.2 s, 1024x576, no audio) and a 6 s synthetic
    clip with audio whose 480p rendition is 854 pixels wide (not a multiple of 16)."""
    folder = tmp_path_factory.mktemp("determinism") / "in"
    folder.mkdir()
    write_freeze_motion_clip(
        folder / "dance.mp4", dancer, [("freeze", 3.0), ("play", None), ("freeze", 3.0)], size=1024
    )
    write_synthetic_clip(
        folder / "tone.mp4", duration_s=6.0, fps=25, width=1280, height=720, audio=True
    )
    return folder


def test_two_runs_give_byte_identical_artifacts(sources, tmp_path):
    outs = [tmp_path / "first", tmp_path / "second"]
    for out in outs:
        argv = [f"--input={sources}", f"--output={out}", "--ladder=480,240", *DIRECT]
        assert run(argv, clock=fixed_clock) == 0
    first, second = (_assets(out) for out in outs)
    assert first.keys() == second.keys()
    kinds = {row["asset_type"] for row in first.values()}
    assert kinds == {
        "highlights", "motion", "preview", "proxy", "rendition", "thumbnail", "timeline"
    }  # fmt: skip
    for key, row in first.items():
        digests = [hashlib.md5((out / key[1]).read_bytes()).hexdigest() for out in outs]
        assert digests[0] == row["md5"], key
        assert digests == [row["md5"], second[key]["md5"]], f"{key} differs between runs"


def _md5(path: pathlib.Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_encoding_the_same_source_again_in_one_process_gives_the_same_bytes(tmp_path):
    """x264's macroblock tree gave a 426x240 rung other bytes one encode in three when other
    encodes had run before it in the process (as in a render worker): it is off."""
    src = tmp_path / "src.mp4"
    write_synthetic_clip(src, duration_s=4.0, fps=25, width=640, height=360, audio=True)
    digests = set()
    for i in range(4):
        outs = {360: tmp_path / f"p{i}.mp4", 240: tmp_path / f"r{i}.mp4"}
        render_ladder(str(src), {h: str(p) for h, p in outs.items()})
        reel = tmp_path / f"h{i}.mp4"
        render_highlights(str(src), str(reel), [(0.5, 1.5), (2.0, 3.5)], height=240)
        digests.add((_md5(outs[360]), _md5(outs[240]), _md5(reel)))
    assert len(digests) == 1
