"""The streaming sources as composites: ``ReadGcsUploads`` (and ``UploadsToFound``), ``WatchFolder``.

Both end in the same ``FoundFile`` elements that ``FindVideos`` gives a batch run,
in fixed event-time windows, so the rest of the pipeline (probe, detect, merge,
catalog rows, the catalog upsert) runs unchanged on unbounded input: every
GroupByKey, CombinePerKey and CoGroupByKey downstream groups per window, and a
window fires once all of its files have gone through.

* ``ReadGcsUploads``: GCS ``OBJECT_FINALIZE`` notifications (JSON API payload) from
  a subscription: Beam's ``ReadFromPubSub`` where the runner acks only what it has
  durably committed (Dataflow), else reelbeam's own pull (``pull_source.PullFn``),
  which leaves every message unacked and hands its ack id on (``"acks"``) for
  ``acks.AckAfterWrite`` to ack once the message's window is in the catalog. Objects outside the allowed prefixes, and names with ``..``
  segments, are failure rows (stage ``find``); other extensions, hidden and
  temporary files are skipped. Redeliveries and older generations of an object are
  dropped by a stateful DoFn keyed by the object's URI; within a window only the
  newest generation goes on.
* ``WatchFolder``: polls a folder (``watch_folder.WatchFn``).
"""

from __future__ import annotations

from collections.abc import Iterable

import apache_beam as beam
from apache_beam.transforms import window

from transforms.find import CountFoundFn
from transforms.io.deadletter import FAILURES, Clock, utc_now
from transforms.paths import DEFAULT_EXTENSIONS
from transforms.streaming.notifications import newest, normalize_prefixes
from transforms.streaming.pubsub_source import (
    DEDUPE_TTL_S,
    NewGenerationsFn,
    ParseNotificationsFn,
    drop_key,
)
from transforms.streaming.pull_source import ACKS, PullFn
from transforms.streaming.watch_folder import WatchFn

DEFAULT_WINDOW_S = 5.0
"""Length of the fixed event-time windows both sources put their files in."""


class UploadsToFound(beam.PTransform):
    """PubsubMessages of GCS notifications -> windowed ``FoundFile`` and failure rows.

    Split from ``ReadGcsUploads`` so tests can feed messages with ``TestStream``. Takes
    ``ReadGcsUploads``' arguments, and ``dedupe_ttl_s`` for ``NewGenerationsFn`` (None:
    the dedupe state lasts the run).

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
        dedupe_ttl_s: float | None = DEDUPE_TTL_S,
    ):
        super().__init__()
        self._dedupe_ttl_s = dedupe_ttl_s
        self._roots = normalize_prefixes(prefixes)
        self._extensions = extensions
        self._path_pattern = path_pattern
        self._template = video_id_template
        self._exclude = exclude_prefix.rstrip("/") + "/" if exclude_prefix else None
        self._window_s = window_s
        self._clock = clock

    def expand(self, messages):
        parsed = messages | "Parse" >> beam.ParDo(
            ParseNotificationsFn(
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
            | "NewGenerations" >> beam.ParDo(NewGenerationsFn(self._dedupe_ttl_s))
            | "Window" >> beam.WindowInto(window.FixedWindows(self._window_s))
            | "NewestInWindow" >> beam.CombinePerKey(newest)
            | "Files" >> beam.Map(drop_key)
            | "Log" >> beam.ParDo(CountFoundFn())
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
        ack_after_write: read with ``PullFn``, which acks nothing, and return the ack
            ids as ``"acks"`` (for ``AckAfterWrite``). False: Beam's ``ReadFromPubSub``,
            for runners that ack only what they have durably committed (Dataflow); on
            the DirectRunner that read acks each message as it is pulled.
        stop_after_s: with ``ack_after_write``, stop pulling after this long (0: never).
        poll_s: with ``ack_after_write``, how long one pull waits for messages.

    Returns:
        ``{"found": FoundFile, "failures": FailureRow}``, both in fixed windows, and
        with ``ack_after_write`` ``"acks"``: the ack ids, in the same windows.
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
        ack_after_write: bool = False,
        stop_after_s: float = 0.0,
        poll_s: float = 1.0,
    ):
        super().__init__()
        self._subscription = subscription
        # A read with a stop time is bounded: its dedupe state ends with the run, and the
        # local runner it serves fires event-time timers at the end of every bundle.
        bounded = ack_after_write and stop_after_s > 0
        self._uploads = UploadsToFound(
            prefixes,
            extensions,
            path_pattern,
            video_id_template,
            exclude_prefix,
            window_s,
            clock,
            None if bounded else DEDUPE_TTL_S,
        )
        self._ack_after_write = ack_after_write
        self._stop_after_s = stop_after_s
        self._poll_s = poll_s
        self._window_s = window_s

    def expand(self, pbegin):
        if not self._ack_after_write:
            return (
                pbegin
                | "Read"
                >> beam.io.ReadFromPubSub(subscription=self._subscription, with_attributes=True)
                | "Uploads" >> self._uploads
            )
        pulled = (
            pbegin
            | "Subscription" >> beam.Create([self._subscription])
            | "Pull"
            >> beam.ParDo(PullFn(self._poll_s, self._stop_after_s)).with_outputs(
                ACKS, main="messages"
            )
        )
        uploads = pulled.messages | "Uploads" >> self._uploads
        acks = pulled[ACKS] | "WindowAcks" >> beam.WindowInto(window.FixedWindows(self._window_s))
        return {**uploads, "acks": acks}


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
                WatchFn(
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
            | "Log" >> beam.ParDo(CountFoundFn())
            | "Window" >> beam.WindowInto(window.FixedWindows(self._window_s))
        )
        failures = polled[FAILURES] | "WindowFailures" >> beam.WindowInto(
            window.FixedWindows(self._window_s)
        )
        return {"found": found, "failures": failures}
