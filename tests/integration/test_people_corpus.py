"""Finding people moving on real footage nobody here made (issue #11), scored per clip.

The corpus (tests/corpus/corpus.toml) is fetched from the registries by the footage
fetcher and cached; the hand labels are in tests/corpus/labels.toml. Every clip is run
with the default settings (``--people_detector ssd``) and the per-clip table is printed
(``pytest -s`` shows it). On the held-out half people moving must be found in at least
90% of the labelled time, and no segment may appear in a clip without people.
"""

from __future__ import annotations

import pytest

from tests.corpus.scoring import CORPUS_FILE, ClipScore, load_labels, score_clip
from tests.helpers.media.footage import FootageError, footage_path, load_sources
from transforms.chunk_analysis import DetectParams, analyse_chunk, load_backend_in_child
from transforms.chunks import chunks_of
from transforms.media.open import open_input
from transforms.media.probe import probe_video
from transforms.merge import merge_chunks
from transforms.motion import SegmentParams
from transforms.records import FoundFile, VideoMotion

pytestmark = pytest.mark.integration

LABELS = load_labels()
SOURCES = load_sources(CORPUS_FILE)
TARGET_FOUND_SHARE = 0.90


def test_every_labelled_clip_is_pinned_and_the_corpus_covers_the_issue():
    assert set(LABELS) == set(SOURCES)
    assert len(LABELS) >= 10
    kinds = {c.kind for c in LABELS.values()}
    assert {"crowd_small", "one_close", "upper_body", "cartoon", "no_people"} <= kinds
    assert {c.split for c in LABELS.values()} == {"tune", "held_out"}
    assert any(c.kind == "no_people" for c in LABELS.values() if c.split == "held_out")


def test_scoring_counts_found_time_invented_segments_and_boundaries():
    score = score_clip([(0.0, 10.0)], [(1.0, 9.0), (20.0, 22.0)])
    assert score.found_share == pytest.approx(0.8)
    assert score.invented == 1
    assert score.boundary_errors_s == pytest.approx((1.0, 1.0))
    assert score_clip([], []).found_share is None


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, tuple[VideoMotion, ClipScore]]:
    params = DetectParams()
    segments = SegmentParams()
    state: dict = {}
    load_backend_in_child(state, None, "mediapipe-cpu", params)
    results = {}
    try:
        for name, labels in LABELS.items():
            try:
                path = footage_path(name, sources=SOURCES)
            except FootageError as exc:
                pytest.fail(f"corpus clip unavailable: {exc}")
            probe = probe_video(FoundFile(str(path), path.stat().st_size, None, path.stem))
            chunks = []
            for chunk in chunks_of(probe, 60.0, 3.0):
                with open_input(str(path)) as container:
                    chunks.append(
                        analyse_chunk(container, chunk, state["backend"], params, state["finder"])
                    )
            motion = merge_chunks(chunks, segments, 1.0 / params.pose_fps)
            found = [(s.start_s, s.end_s) for s in motion.segments]
            results[name] = (motion, score_clip(labels.moving, found))
    finally:
        for held in ("finder", "backend"):
            if state.get(held) is not None:
                state[held].close()
    _print_table(results)
    return results


def _print_table(results) -> None:
    print("\nclip | split | kind | found share | invented | boundary errors s | max people")
    for name, (motion, score) in results.items():
        labels = LABELS[name]
        share = "-" if score.found_share is None else f"{100 * score.found_share:.0f}%"
        errors = ", ".join(f"{e:.1f}" for e in score.boundary_errors_s) or "-"
        print(
            f"{name} | {labels.split} | {labels.kind} | {share} | {score.invented} | "
            f"{errors} | {max(motion.people, default=0)}"
        )


def test_held_out_people_moving_are_found_and_nothing_is_invented(corpus_results):
    held_out = [n for n, c in LABELS.items() if c.split == "held_out"]
    labelled = sum(corpus_results[n][1].labelled_s for n in held_out)
    found = sum(corpus_results[n][1].found_s for n in held_out)
    assert found / labelled >= TARGET_FOUND_SHARE, f"found {found:.1f} of {labelled:.1f} s"
    for name in held_out:
        if LABELS[name].kind == "no_people":
            assert corpus_results[name][0].segments == (), name
