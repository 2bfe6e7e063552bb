"""Streaming sources: GCS upload notifications from Pub/Sub, and a watched folder.

Both end in the same ``FoundFile`` elements that ``FindVideos`` gives a batch run,
in fixed event-time windows, so the rest of the pipeline (probe, detect, merge,
catalog rows, the catalog upsert) runs unchanged on unbounded input: every
GroupByKey, CombinePerKey and CoGroupByKey downstream groups per window, and a
window fires once all of its files have gone through.

* ``ReadGcsUploads``: ``ReadFromPubSub`` of GCS ``OBJECT_FINALIZE`` notifications
  (JSON API payload). Objects outside the allowed prefixes, and names with ``..``
  segments, are failure rows (stage ``find``); other extensions, hidden and
  temporary files are skipped. Redeliveries and older generations of an object are
  dropped by a stateful DoFn keyed by the object's URI; within a window only the
  newest generation goes on.
* ``WatchFolder``: polls a folder (local, or ``gs://``) every ``poll_s`` seconds and
  emits each file once its size and mtime are the same at two polls in a row;
  a file that changes later is taken again once it is stable. Stops after
  ``stop_after_s`` (0: never).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import VarIntCoder
from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.iobase import RestrictionProgress, RestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms import window
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils.timestamp import Duration, Timestamp

from transforms.errors import OutsideAllowedRootsError, ReelbeamError
from transforms.find import _LogFoundFn, _MatchFn, _to_found, normalize_input, within_roots
from transforms.io.deadletter import FAILURES, Clock, failure_row, utc_now
from transforms.paths import DEFAULT_EXTENSIONS
from transforms.records import FoundFile

DEFAULT_WINDOW_S = 5.0
"""Length of the fixed event-time windows both sources put their files in."""

FINALIZE = "OBJECT_FINALIZE"


class BadNotificationError(ReelbeamError):
    """A Pub/Sub message that is not a usable GCS notification (no JSON API payload...)."""


@dataclass(frozen=True)
class GcsUpload:
    """One finalized GCS object, as its ``OBJECT_FINALIZE`` notification describes it.

    Attributes:
        bucket: the bucket name.
        name: the object name (no leading slash).
        generation: the object generation (new for every write of the name).
        size_bytes: object size.
        updated: last update time, seconds since the epoch (None when absent).
        md5_hash: base64 MD5 as GCS reports it (None for composite objects).
    """

    bucket: str
    name: str
    generation: int
    size_bytes: int
    updated: float | None
    md5_hash: str | None = None

    @property
    def uri(self) -> str:
        """``gs://bucket/name``."""
        return f"gs://{self.bucket}/{self.name}"


def _as_int(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadNotificationError(f"notification {field} is not an integer: {value!r}") from None
    if number < 0:
        raise BadNotificationError(f"notification {field} is negative: {number}")
    return number


def _epoch_s(value) -> float | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadNotificationError(f"notification time is not RFC 3339: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def parse_gcs_notification(data: bytes, attributes: Mapping[str, str] | None) -> GcsUpload | None:
    """A GCS Pub/Sub notification as a ``GcsUpload``; None for events other than finalize.

    Args:
        data: the message body: the object resource in the JSON API format
            (notification payload format ``JSON_API_V1``).
        attributes: the message attributes (``eventType``, ``payloadFormat``,
            ``bucketId``, ``objectId``, ``objectGeneration``, ...).

    Returns:
        The upload, or None when ``eventType`` is not ``OBJECT_FINALIZE`` (deletes,
        archives and metadata updates are not new uploads).

    Raises:
        BadNotificationError: a finalize notification without a usable JSON payload,
            or whose payload contradicts its attributes.
        OutsideAllowedRootsError: the object name has a ``..`` segment.
    """
    attributes = dict(attributes or {})
    if attributes.get("eventType") != FINALIZE:
        return None
    payload_format = attributes.get("payloadFormat", "JSON_API_V1")
    if payload_format != "JSON_API_V1":
        raise BadNotificationError(
            f"notification payloadFormat is {payload_format}: create the bucket notification "
            "with the JSON_API_V1 payload (gcloud storage buckets notifications create "
            "--payload-format=json)"
        )
    try:
        resource = json.loads(bytes(data or b"").decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadNotificationError(f"notification payload is not JSON: {exc}") from None
    if not isinstance(resource, dict):
        raise BadNotificationError("notification payload is not a JSON object")
    bucket = resource.get("bucket") or attributes.get("bucketId")
    name = resource.get("name") or attributes.get("objectId")
    if not isinstance(bucket, str) or not isinstance(name, str) or not bucket or not name:
        raise BadNotificationError("notification names no bucket and object")
    for field, attribute, value in (("bucket", "bucketId", bucket), ("name", "objectId", name)):
        if attributes.get(attribute) not in (None, value):
            raise BadNotificationError(
                f"notification payload {field} {value!r} differs from its "
                f"{attribute} attribute {attributes[attribute]!r}"
            )
    if "/" in bucket or name.startswith("/"):
        raise BadNotificationError(f"bad bucket or object name: gs://{bucket}/{name}")
    upload = GcsUpload(
        bucket=bucket,
        name=name,
        generation=_as_int(
            resource.get("generation", attributes.get("objectGeneration")), "generation"
        ),
        size_bytes=_as_int(resource.get("size"), "size"),
        updated=_epoch_s(resource.get("updated") or resource.get("timeCreated")),
        md5_hash=resource.get("md5Hash"),
    )
    if ".." in name.split("/"):
        raise OutsideAllowedRootsError(f"{upload.uri}: object name has a '..' segment")
    return upload


def _notification_uri(attributes: Mapping[str, str] | None, message_id: str | None) -> str:
    """Best-effort input_uri of a notification that could not be parsed."""
    attributes = attributes or {}
    if attributes.get("bucketId") and attributes.get("objectId"):
        return f"gs://{attributes['bucketId']}/{attributes['objectId']}"
    return f"pubsub://message/{message_id or 'unknown'}"


def normalize_prefixes(prefixes: Iterable[str]) -> tuple[str, ...]:
    """``gs://bucket[/folder]`` values as folder roots ending in ``/``.

    A prefix is a folder: ``gs://b/videos`` allows ``gs://b/videos/x.mp4``, not
    ``gs://b/videos-old/x.mp4``.

    Raises:
        ValueError: a prefix that is not ``gs://bucket[/...]`` or holds a ``..`` segment.
    """
    roots = []
    for prefix in prefixes:
        prefix = prefix.strip()
        if not prefix:
            continue
        if not re.fullmatch(r"gs://[^/]+(/.*)?", prefix) or ".." in prefix.split("/"):
            raise ValueError(f"not a gs://bucket[/prefix]: {prefix!r}")
        roots.append(prefix.rstrip("/") + "/")
    return tuple(dict.fromkeys(roots))


def allowed_root(uri: str, roots: tuple[str, ...]) -> str | None:
    """The allowed root ``uri`` lies under (its bucket when ``roots`` is empty), else None.

    The test is ``find.within_roots`` (folder boundaries, no ``..`` segments), the one
    ``--input_list`` entries get.
    """
    if not roots:
        roots = ("gs://" + uri.removeprefix("gs://").split("/", 1)[0] + "/",)
    matches = [root for root in roots if within_roots(uri, [root])]
    return max(matches, key=len) if matches else None


class _ParseFn(beam.DoFn):
    """PubsubMessage -> ``(uri, (generation, FoundFile))``; bad and outside ones -> failures."""

    def __init__(
        self,
        roots: tuple[str, ...],
        extensions: tuple[str, ...],
        path_pattern: str | None,
        video_id_template: str | None,
        exclude: str | None,
        clock: Clock,
    ):
        self._roots = roots
        self._extensions = extensions
        self._path_pattern = path_pattern
        self._template = video_id_template
        self._exclude = exclude
        self._clock = clock
        self._ignored = beam.metrics.Metrics.counter("reelbeam", "notifications_ignored")
        self._rejected = beam.metrics.Metrics.counter("reelbeam", "notifications_rejected")

    def process(self, message):
        attributes = dict(getattr(message, "attributes", None) or {})
        try:
            upload = parse_gcs_notification(message.data, attributes)
            if upload is None:
                self._ignored.inc()
                return
            root = allowed_root(upload.uri, self._roots)
            if root is None:
                raise OutsideAllowedRootsError(
                    f"{upload.uri} is outside the allowed prefixes {', '.join(self._roots)}"
                )
        except Exception as exc:
            uri = _notification_uri(attributes, getattr(message, "message_id", None))
            row = failure_row(exc, input_uri=uri, stage="find", clock=self._clock)
            self._rejected.inc()
            logging.warning("notification rejected: %s: %s", uri, row.message)
            yield pvalue.TaggedOutput(FAILURES, row)
            return
        meta = FileMetadata(upload.uri, upload.size_bytes, upload.updated or 0.0)
        found = list(
            _to_found(
                (meta, root), self._extensions, self._path_pattern, self._template, self._exclude
            )
        )
        if not found:
            self._ignored.inc()  # another extension, hidden, temporary, or our own output
        for item in found:
            yield item.uri, (upload.generation, item)


_Keyed = tuple[str, tuple[int, FoundFile]]
_NEWEST = ReadModifyWriteStateSpec("newest_generation", VarIntCoder())
_NEWEST_PARAM = beam.DoFn.StateParam(_NEWEST)


@beam.typehints.with_input_types(_Keyed)
@beam.typehints.with_output_types(_Keyed)
class _NewGenerationsFn(beam.DoFn):
    """Per object URI: pass a generation only if it is newer than every one seen before.

    Drops redeliveries (the same generation again) and out-of-order older
    generations. Keyed state in the global window, so it holds for the life of the
    pipeline (one integer per object).
    """

    def __init__(self):
        self._dropped = beam.metrics.Metrics.counter("reelbeam", "notifications_duplicate")

    def process(self, element, newest=_NEWEST_PARAM):
        uri, (generation, _found) = element
        seen = newest.read()
        if seen is not None and generation <= seen:
            self._dropped.inc()
            logging.info("dropping %s generation %d (seen %d)", uri, generation, seen)
            return
        newest.write(generation)
        yield element


def _newest(values: Iterable[tuple[int, FoundFile]]) -> tuple[int, FoundFile]:
    return max(values, key=lambda value: value[0])


def _drop_key(element):
    return element[1][1]


class UploadsToFound(beam.PTransform):
    """PubsubMessages of GCS notifications -> windowed ``FoundFile`` and failure rows.

    Split from ``ReadGcsUploads`` so tests can feed messages with ``TestStream``.

    Returns:
        ``{"found": FoundFile, "failures": FailureRow}``, both in fixed windows.
    """

    def __init__(
        self,
        prefixes: Iterable[str] = (),
        extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
        path_pattern: str | None = None,
        video_id_template: str | None = None,
        exclude_prefix: str | None = None,
        window_s: float = DEFAULT_WINDOW_S,
        clock: Clock = utc_now,
    ):
        super().__init__()
        self._roots = normalize_prefixes(prefixes)
        self._extensions = extensions
        self._path_pattern = path_pattern
        self._template = video_id_template
        self._exclude = exclude_prefix.rstrip("/") + "/" if exclude_prefix else None
        self._window_s = window_s
        self._clock = clock

    def expand(self, messages):
        parsed = messages | "Parse" >> beam.ParDo(
            _ParseFn(
                self._roots,
                self._extensions,
                self._path_pattern,
                self._template,
                self._exclude,
                self._clock,
            )
        ).with_outputs(FAILURES, main="uploads")
        found = (
            parsed.uploads
            | "NewGenerations" >> beam.ParDo(_NewGenerationsFn())
            | "Window" >> beam.WindowInto(window.FixedWindows(self._window_s))
            | "NewestInWindow" >> beam.CombinePerKey(_newest)
            | "Files" >> beam.Map(_drop_key)
            | "Log" >> beam.ParDo(_LogFoundFn())
        )
        failures = parsed[FAILURES] | "WindowFailures" >> beam.WindowInto(
            window.FixedWindows(self._window_s)
        )
        return {"found": found, "failures": failures}


class ReadGcsUploads(beam.PTransform):
    """New uploads from GCS ``OBJECT_FINALIZE`` notifications on a Pub/Sub subscription.

    Args:
        subscription: ``projects/P/subscriptions/S`` of a bucket notification
            (``gcloud storage buckets notifications create --payload-format=json``).
        prefixes: ``gs://bucket[/folder]`` roots objects must lie under (empty: any
            object of the notifying bucket); others are failure rows (stage ``find``).
        extensions, path_pattern, video_id_template: as for ``FindVideos``.
        exclude_prefix: reelbeam's own output, never taken as a source.
        window_s: length of the fixed windows the files are grouped in.
        clock: stamps failure rows.

    Returns:
        ``{"found": FoundFile, "failures": FailureRow}``, both in fixed windows.
    """

    def __init__(
        self,
        subscription: str,
        prefixes: Iterable[str] = (),
        extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
        path_pattern: str | None = None,
        video_id_template: str | None = None,
        exclude_prefix: str | None = None,
        window_s: float = DEFAULT_WINDOW_S,
        clock: Clock = utc_now,
    ):
        super().__init__()
        self._subscription = subscription
        self._uploads = UploadsToFound(
            prefixes, extensions, path_pattern, video_id_template, exclude_prefix, window_s, clock
        )

    def expand(self, pbegin):
        return (
            pbegin
            | "Read"
            >> beam.io.ReadFromPubSub(subscription=self._subscription, with_attributes=True)
            | "Uploads" >> self._uploads
        )


# ------------------------------------------------------------------ watched folder


Version = tuple[str, int, float]
"""``(uri, size_bytes, mtime)`` of a file at one poll."""


@dataclass(frozen=True)
class WatchRestriction:
    """Where a folder watch stands; the residual of each poll carries it to the next.

    Attributes:
        poll_s: seconds between polls.
        deadline_s: no poll is due after this wall-clock time (None: watch forever).
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
class _Poll:
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
        self._claimed: _Poll | None = None
        self._stopped = False
        self._checkpointed = False

    def current_restriction(self) -> WatchRestriction:
        return self._restriction

    def current_progress(self) -> RestrictionProgress:
        done = self._stopped or self._checkpointed or self._restriction.over()
        return RestrictionProgress(completed=1.0 if done else 0.0, remaining=0.0 if done else 1.0)

    def try_claim(self, position: _Poll) -> bool:
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
            residual = dataclasses.replace(
                current,
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
    for meta in _MatchFn._match(pattern):
        for found in _to_found((meta, root), extensions, path_pattern, video_id_template, exclude):
            if found.size_bytes > 0:
                out[found.uri] = (found.size_bytes, found.mtime or 0.0, found)
    return out


_RESTRICTION_PARAM = beam.DoFn.RestrictionParam()  # the DoFn is its own provider
_WATERMARK_PARAM = beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())


class _WatchFn(beam.DoFn, RestrictionProvider):
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
            tracker.try_claim(_Poll(self._now(), (), (), False))  # refused: marks it done
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
            poll = _Poll(at, restriction.seen, restriction.taken, failing=True)
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
            poll = _Poll(at, seen, tuple(sorted(new_taken)), failing=False)
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


class WatchFolder(beam.PTransform):
    """Poll a folder for new, fully written videos (streaming).

    A file is taken once its size and mtime are the same at two consecutive polls
    (``poll_s`` apart); hidden and temporary files (``.*``, ``*.part``, ...), other
    extensions, zero-byte files and reelbeam's own output are skipped. A file that
    changes later is taken again once it is stable. The watch ends after
    ``stop_after_s`` seconds (0: never).

    Args:
        folder: a local folder (or ``gs://`` prefix).
        poll_s: seconds between polls.
        stop_after_s: how long to watch (0: until the pipeline is cancelled).
        extensions, path_pattern, video_id_template: as for ``FindVideos``.
        exclude_prefix: reelbeam's own output, never taken as a source.
        window_s: length of the fixed windows the files are grouped in.
        clock: stamps failure rows.

    Returns:
        ``{"found": FoundFile, "failures": FailureRow}``, both in fixed windows
        (a folder that cannot be listed is one failure row, stage ``find``).
    """

    def __init__(
        self,
        folder: str,
        poll_s: float = 5.0,
        stop_after_s: float = 0.0,
        extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
        path_pattern: str | None = None,
        video_id_template: str | None = None,
        exclude_prefix: str | None = None,
        window_s: float = DEFAULT_WINDOW_S,
        clock: Clock = utc_now,
    ):
        super().__init__()
        if poll_s <= 0 or stop_after_s < 0:
            raise ValueError("poll_s must be > 0 and stop_after_s >= 0")
        self._folder = folder
        self._poll_s = poll_s
        self._stop_after_s = stop_after_s
        self._extensions = extensions
        self._path_pattern = path_pattern
        self._template = video_id_template
        self._exclude = exclude_prefix.rstrip("/") + "/" if exclude_prefix else None
        self._window_s = window_s
        self._clock = clock

    def expand(self, pbegin):
        polled = (
            pbegin
            | "Folder" >> beam.Create([self._folder])
            | "Poll"
            >> beam.ParDo(
                _WatchFn(
                    self._poll_s,
                    self._stop_after_s,
                    self._extensions,
                    self._path_pattern,
                    self._template,
                    self._exclude,
                    self._clock,
                )
            ).with_outputs(FAILURES, main="found")
        )
        found = (
            polled.found
            | "Log" >> beam.ParDo(_LogFoundFn())
            | "Window" >> beam.WindowInto(window.FixedWindows(self._window_s))
        )
        failures = polled[FAILURES] | "WindowFailures" >> beam.WindowInto(
            window.FixedWindows(self._window_s)
        )
        return {"found": found, "failures": failures}
