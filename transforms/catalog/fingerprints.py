"""What a rerun may skip: fingerprints of each source's identity and of each stage's settings.

A ``videos`` row records the fingerprints it was made with. At the next run each
found file is compared with its row (``file_action``): an unchanged file with
unchanged settings is skipped; changed segment thresholds re-segment from
``motion.json``; changed render settings only render; changed detect settings (the
pose model's bytes, ``--pose_fps``, chunking, any ``DetectParams``), a changed or new
file, or ``--reprocess`` run the whole pipeline. Pure: no Beam, no IO.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from transforms.records import FoundFile

FINGERPRINT_VERSION = 1
"""Part of every fingerprint: raise it when a stage's output changes for the same settings."""


class Action(enum.StrEnum):
    """What a run does with one found file."""

    NEW = "new"  # no catalog row: everything
    CHANGED = "changed"  # the file (size, mtime or generation) or its id changed: everything
    DETECT = "detect"  # detect settings changed or --reprocess: everything
    RESEGMENT = "resegment"  # segment settings changed: segments from motion.json, then render
    RENDER = "render"  # render settings changed: render only
    SKIP = "skip"  # nothing changed: nothing to do, the catalog keeps its rows

    @property
    def decodes(self) -> bool:
        """True when the file is probed and analysed again."""
        return self in (Action.NEW, Action.CHANGED, Action.DETECT)

    @property
    def counter(self) -> str:
        """The Beam counter (namespace ``reelbeam``) that counts this action."""
        if self in (Action.NEW, Action.CHANGED):
            return f"inputs_{self.value}"
        if self is Action.SKIP:
            return "inputs_skipped"
        return f"reprocessed_{self.stage}"

    @property
    def stage(self) -> str:
        """The first stage this action runs (``detect``, ``segment`` or ``render``), or ''."""
        if self.decodes:
            return "detect"
        return {Action.RESEGMENT: "segment", Action.RENDER: "render"}.get(self, "")


@dataclasses.dataclass(frozen=True)
class StageFingerprints:
    """The current run's fingerprint of each stage's settings (``stage_fingerprints``)."""

    detect: str
    segment: str
    render: str


def digest(*parts: Any) -> str:
    """A short, stable hex digest of JSON-able parts (dataclasses and tuples included)."""
    text = json.dumps(
        [FINGERPRINT_VERSION, *parts], sort_keys=True, default=_jsonable, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def source_fingerprint(uri: str, size_bytes: int, mtime_s: float | None) -> str:
    """The identity of a source file: its URI, size and modification time.

    The time is taken to the millisecond (what GCS reports; a new GCS generation
    always has a new update time, so it stands for the generation).
    """
    mtime_ms = round(mtime_s * 1000) if mtime_s is not None else None
    return digest("source", uri, int(size_bytes), mtime_ms)


def stage_fingerprints(
    *, detect: Mapping[str, Any], segment: Any, render: Any, exclude_render: tuple[str, ...] = ()
) -> StageFingerprints:
    """Fingerprints of each stage's settings.

    Args:
        detect: everything that changes what detection finds (model identity, its
            delegate, chunking, ``DetectParams``); a mapping of JSON-able values.
        segment: the ``SegmentParams``.
        render: the ``RenderParams``.
        exclude_render: render fields that do not change the artifacts (timeouts).
    """
    render_fields = {k: v for k, v in dataclasses.asdict(render).items() if k not in exclude_render}
    return StageFingerprints(
        detect=digest("detect", dict(detect)),
        segment=digest("segment", segment),
        render=digest("render", render_fields),
    )


def plan_action(
    found_fingerprint: str,
    found_video_id: str,
    row: Mapping[str, Any] | None,
    current: StageFingerprints,
    force: bool = False,
) -> Action:
    """What to do with one found file, given its catalog row (None: not catalogued).

    Args:
        found_fingerprint: ``source_fingerprint`` of the file as found now.
        found_video_id: its ``video_id`` as found now (a changed template changes it).
        row: its ``videos`` row as read from the catalog (a dict), or None.
        current: this run's stage fingerprints.
        force: ``--reprocess``, or an input ``--retry_failures`` runs again.
    """
    if row is None:
        return Action.NEW
    if row.get("source_fingerprint") != found_fingerprint or row.get("video_id") != found_video_id:
        return Action.CHANGED
    if force or row.get("detect_fingerprint") != current.detect:
        return Action.DETECT
    if row.get("segment_fingerprint") != current.segment:
        return Action.RESEGMENT
    if row.get("render_fingerprint") != current.render:
        return Action.RENDER
    return Action.SKIP


def file_action(
    found: FoundFile,
    rows: Sequence[Mapping[str, Any]],
    current: StageFingerprints,
    force: bool = False,
) -> tuple[Action, Mapping[str, Any] | None]:
    """What to do with one found file given the catalog's ``videos`` rows of its URI.

    The one plan behind ``PlanReruns`` (on the workers) and the launcher's check that
    a rerun has nothing to do.

    Args:
        found: the file as found now.
        rows: the ``videos`` rows whose ``source_uri`` is the file's (usually one).
        current: this run's stage fingerprints.
        force: ``--reprocess``, or an input ``--retry_failures`` runs again.

    Returns:
        The action and the row it was judged by (None when the file is not catalogued).
    """
    # A changed --video_id_template leaves rows of the old id: prefer the current one.
    row = next((r for r in rows if r.get("video_id") == found.video_id), None)
    row = row or (rows[0] if rows else None)
    fingerprint = source_fingerprint(found.uri, found.size_bytes, found.mtime)
    action = plan_action(fingerprint, found.video_id, row, current, force=force)
    if action in (Action.RESEGMENT, Action.RENDER) and row.get("failed_chunks"):
        action = Action.DETECT  # its motion is incomplete: resuming would keep the gaps
    return action, row
