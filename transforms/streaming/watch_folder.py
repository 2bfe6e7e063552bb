"""Watching a folder: a splittable DoFn that polls and emits each file once it is complete.

``WatchFn`` polls a folder (local, or ``gs://``) every ``poll_s`` seconds and emits
each file once its size and mtime are the same at two polls in a row; a file that
changes later is taken again once it is stable. It stops after ``stop_after_s``
(0: never). The restriction carries the last poll's listing from one call to the next.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.iobase import RestrictionProgress, RestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms import window
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp

from transforms.find import match_files, normalize_input, to_found_files
from transforms.io.deadletter import FAILURES, Clock, failure_row
from transforms.records import FoundFile

Version = tuple[str, int, float]
"""``(uri, size_bytes, mtime)`` of a file at one poll."""


@dataclass(frozen=True)
class WatchRestriction:
    """Where a folder watch stands; the residual of each poll carries it to the next.

    Attributes:
        poll_s: seconds between polls.
        deadline_s: no poll is due after this wall-clock time (None: watch forever); set
            from the launch, then moved to the first poll plus the stop time.
        next_due_s: wall-clock time the next poll is due.
        polls: polls made so far.
        seen: versions of the wanted files at the last poll.
        taken: versions already emitted.
        failing: the last poll could not list the folder (its failure row is out).
        closed: the finished part of a checkpointed watch (no work left).
    """

    poll_s: float
    deadline_s: float | None
    next_due_s: float
    polls: int = 0
    seen: tuple[Version, ...] = ()
    taken: tuple[Version, ...] = ()
    failing: bool = False
    closed: bool = False

    def over(self) -> bool:
        """True when no poll is left (closed, or the next one is past the deadline)."""
        return self.closed or (self.deadline_s is not None and self.next_due_s > self.deadline_s)


@dataclass(frozen=True)
class Poll:
    """A claim: the poll made at ``at_s`` and the state it leaves."""

    at_s: float
    seen: tuple[Version, ...]
    taken: tuple[Version, ...]
    failing: bool


class WatchTracker(RestrictionTracker):
    """One poll per ``process`` call: claim it, emit, then defer the remainder.

    The claim carries the poll's result, so the residual of the checkpoint starts
    from it; splitting other than the checkpoint is refused.
    """

    def __init__(self, restriction: WatchRestriction):
        self._restriction = restriction
        self._claimed: Poll | None = None
        self._stopped = False
        self._checkpointed = False

    def current_restriction(self) -> WatchRestriction:
        return self._restriction

    def current_progress(self) -> RestrictionProgress:
        done = self._stopped or self._checkpointed or self._restriction.over()
        return RestrictionProgress(completed=1.0 if done else 0.0, remaining=0.0 if done else 1.0)

    def try_claim(self, position: Poll) -> bool:
        if self._claimed is not None:
            raise ValueError("a watch claims one poll per call, then defers")
        if self._checkpointed or self._restriction.over():
            self._stopped = True
            return False
        self._claimed = position
        return True

    def try_split(self, fraction_of_remainder):
        if fraction_of_remainder != 0 or self._stopped or self._checkpointed:
            return None
        current = self._restriction
        poll = self._claimed
        if poll is None:
            residual = current
        else:
            deadline = current.deadline_s
            if current.polls == 0 and deadline is not None:
                # The watch lasts its stop time from its first poll, however long the
                # runner took to get there (the stages' warm-up comes first locally).
                deadline = poll.at_s + (deadline - current.next_due_s)
            residual = dataclasses.replace(
                current,
                deadline_s=deadline,
                next_due_s=poll.at_s + current.poll_s,
                polls=current.polls + 1,
                seen=poll.seen,
                taken=poll.taken,
                failing=poll.failing,
            )
        self._checkpointed = True
        self._restriction = dataclasses.replace(current, closed=True)
        if residual.over():
            return None
        return self._restriction, residual

    def check_done(self):
        if not (self._stopped or self._checkpointed or self._restriction.over()):
            raise ValueError("the watch neither deferred nor reached its deadline")

    def is_bounded(self) -> bool:
        return self._restriction.deadline_s is not None


def list_versions(
    folder: str,
    extensions: tuple[str, ...],
    path_pattern: str | None,
    video_id_template: str | None,
    exclude: str | None,
) -> dict[str, tuple[int, float, FoundFile]]:
    """Wanted files under ``folder`` now: ``{uri: (size, mtime, FoundFile)}``.

    The same matching and filters as ``FindVideos``; zero-byte files are left for
    a later poll (a writer has created them but not written yet).
    """
    pattern = normalize_input(folder.rstrip("/") + "/")
    root = pattern.removesuffix("**").rstrip("/")
    out: dict[str, tuple[int, float, FoundFile]] = {}
    for meta in match_files(pattern):
        for found in to_found_files(
            (meta, root), extensions, path_pattern, video_id_template, exclude
        ):
            if found.size_bytes > 0:
                out[found.uri] = (found.size_bytes, found.mtime or 0.0, found)
    return out


_RESTRICTION_PARAM = beam.DoFn.RestrictionParam()  # the DoFn is its own provider
_WATERMARK_PARAM = beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())


class WatchFn(beam.DoFn, RestrictionProvider):
    """folder -> FoundFile of every file whose size and mtime held across two polls.

    A splittable DoFn and its own restriction provider: one poll per call, then
    ``defer_remainder``; the restriction carries the last poll's sizes.
    """

    def __init__(
        self,
        poll_s: float,
        stop_after_s: float,
        extensions: tuple[str, ...],
        path_pattern: str | None,
        video_id_template: str | None,
        exclude: str | None,
        clock: Clock,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._poll_s = poll_s
        self._stop_after_s = stop_after_s
        self._extensions = extensions
        self._path_pattern = path_pattern
        self._template = video_id_template
        self._exclude = exclude
        self._clock = clock
        self._now = now
        self._sleep = sleep
        self._polls = beam.metrics.Metrics.counter("reelbeam", "watch_polls")

    def initial_restriction(self, element) -> WatchRestriction:
        start = self._now()
        deadline = start + self._stop_after_s if self._stop_after_s > 0 else None
        return WatchRestriction(poll_s=self._poll_s, deadline_s=deadline, next_due_s=start)

    def create_tracker(self, restriction: WatchRestriction) -> WatchTracker:
        return WatchTracker(restriction)

    def restriction_size(self, element, restriction) -> float:
        return 0.0 if restriction.over() else 1.0

    def truncate(self, element, restriction):
        return None  # on drain: stop watching

    @beam.DoFn.unbounded_per_element()
    def process(
        self,
        folder: str,
        tracker=_RESTRICTION_PARAM,
        watermark=_WATERMARK_PARAM,
    ):
        restriction: WatchRestriction = tracker.current_restriction()
        if restriction.over():
            tracker.try_claim(Poll(self._now(), (), (), False))  # refused: marks it done
            return
        wait = restriction.next_due_s - self._now()
        if wait > 0:
            # Runners that honour the resume delay (Dataflow, Prism) come back on
            # time; the local FnApiRunner resumes at once, so wait here.
            self._sleep(min(wait, restriction.poll_s))
        at = self._now()
        failure = None
        try:
            listing = list_versions(
                folder, self._extensions, self._path_pattern, self._template, self._exclude
            )
        except Exception as exc:
            listing, failure = None, exc
        if listing is None:
            poll = Poll(at, restriction.seen, restriction.taken, failing=True)
            ready: list[FoundFile] = []
        else:
            previous = {uri: (size, mtime) for uri, size, mtime in restriction.seen}
            taken = {(uri, size, mtime) for uri, size, mtime in restriction.taken}
            for uri, (size, mtime, _) in sorted(listing.items()):
                before = previous.get(uri)
                if before is not None and before != (size, mtime):
                    logging.info(
                        "watch: %s is still changing (%d -> %d bytes)", uri, before[0], size
                    )
            ready = [
                found
                for uri, (size, mtime, found) in sorted(listing.items())
                if previous.get(uri) == (size, mtime) and (uri, size, mtime) not in taken
            ]
            seen = tuple(sorted((uri, size, mtime) for uri, (size, mtime, _) in listing.items()))
            # Forget versions of files that are gone, so a file written again is taken again.
            still = {uri for uri, _, _ in seen}
            new_taken = {v for v in taken if v[0] in still} | {
                (f.uri, f.size_bytes, f.mtime or 0.0) for f in ready
            }
            poll = Poll(at, seen, tuple(sorted(new_taken)), failing=False)
        if not tracker.try_claim(poll):
            return
        self._polls.inc()
        if restriction.polls == 0:
            logging.info("watch: watching %s every %.1f s", folder, restriction.poll_s)
        if failure is not None and not restriction.failing:
            row = failure_row(failure, input_uri=folder, stage="find", clock=self._clock)
            logging.warning("watch: cannot list %s: %s", folder, row.message)
            yield pvalue.TaggedOutput(FAILURES, window.TimestampedValue(row, at))
        for found in ready:
            logging.info("watch: %s is complete (%d bytes)", found.uri, found.size_bytes)
            yield window.TimestampedValue(found, at)
        watermark.set_watermark(Timestamp.of(at))
        tracker.defer_remainder(Duration.of(restriction.poll_s))
