"""GCS notifications from Pub/Sub -> new files, each generation of an object once.

``ParseNotificationsFn`` turns messages into keyed ``FoundFile`` elements (bad ones
and objects outside the allowed prefixes into failure rows); ``NewGenerationsFn``
drops redeliveries and older generations, with per-object state that expires.
"""

from __future__ import annotations

import logging

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import VarIntCoder
from apache_beam.io.filesystem import FileMetadata
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import Duration

from transforms.errors import OutsideAllowedRootsError
from transforms.find import to_found_files
from transforms.io.deadletter import FAILURES, Clock, failure_row
from transforms.records import FoundFile
from transforms.streaming.notifications import (
    allowed_root,
    is_newer_generation,
    notification_uri,
    parse_gcs_notification,
)

DEDUPE_TTL_S = 24 * 3600.0
"""How long (event time) an object's newest generation is remembered after its last write.

Pub/Sub redelivers within minutes to hours; a redelivery later than this is processed
again, which the catalog's upsert by key makes harmless. Without an end, a stream
over many objects would keep one state cell per object forever.
"""

Keyed = tuple[str, tuple[int, FoundFile]]
"""``(object uri, (generation, FoundFile))``."""


class ParseNotificationsFn(beam.DoFn):
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
            uri = notification_uri(attributes, getattr(message, "message_id", None))
            row = failure_row(exc, input_uri=uri, stage="find", clock=self._clock)
            self._rejected.inc()
            logging.warning("notification rejected: %s: %s", uri, row.message)
            yield pvalue.TaggedOutput(FAILURES, row)
            return
        meta = FileMetadata(upload.uri, upload.size_bytes, upload.updated or 0.0)
        found = list(
            to_found_files(
                (meta, root), self._extensions, self._path_pattern, self._template, self._exclude
            )
        )
        if not found:
            self._ignored.inc()  # another extension, hidden, temporary, or our own output
        for item in found:
            yield item.uri, (upload.generation, item)


_NEWEST = ReadModifyWriteStateSpec("newest_generation", VarIntCoder())
_EXPIRY = TimerSpec("forget_generation", TimeDomain.WATERMARK)
_NEWEST_PARAM = beam.DoFn.StateParam(_NEWEST)
_EXPIRY_PARAM = beam.DoFn.TimerParam(_EXPIRY)
_TIMESTAMP_PARAM = beam.DoFn.TimestampParam


@beam.typehints.with_input_types(Keyed)
@beam.typehints.with_output_types(Keyed)
class NewGenerationsFn(beam.DoFn):
    """Per object URI: pass a generation only if it is newer than every one seen before.

    Drops redeliveries (the same generation again) and out-of-order older
    generations. Keyed state in the global window, one integer per object, cleared
    by an event-time timer ``ttl_s`` after the object's last new generation.

    Args:
        ttl_s: how long the state outlives an object's last generation; None: as long as
            the run, for a bounded read (Beam's FnApiRunner fires event-time timers at
            the end of each bundle of a polling source, which would forget at once).
    """

    def __init__(self, ttl_s: float | None = DEDUPE_TTL_S):
        self._ttl_s = ttl_s
        self._dropped = beam.metrics.Metrics.counter("reelbeam", "notifications_duplicate")

    def process(
        self,
        element: Keyed,
        timestamp=_TIMESTAMP_PARAM,
        newest=_NEWEST_PARAM,
        expiry=_EXPIRY_PARAM,
    ):
        uri, (generation, _found) = element
        seen = newest.read()
        if not is_newer_generation(generation, seen):
            self._dropped.inc()
            logging.info("dropping %s generation %d (seen %d)", uri, generation, seen)
            return
        newest.write(generation)
        if self._ttl_s is not None:
            expiry.set(timestamp + Duration.of(self._ttl_s))
        yield element

    @on_timer(_EXPIRY)
    def forget(self, newest=_NEWEST_PARAM):
        newest.clear()


def drop_key(element: Keyed) -> FoundFile:
    """``(uri, (generation, found))`` -> ``found``."""
    return element[1][1]
