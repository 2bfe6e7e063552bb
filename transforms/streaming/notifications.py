"""GCS ``OBJECT_FINALIZE`` notifications: parsing, allowed prefixes, generation order (pure).

A notification names one finalized object; ``parse_gcs_notification`` reads it from
the JSON API payload, ``allowed_root`` checks it lies under an allowed prefix, and
``is_newer_generation`` tells a new write from a redelivery.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from transforms.errors import OutsideAllowedRootsError, ReelbeamError
from transforms.io.uris import is_below, without_scheme

T = TypeVar("T")

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


def notification_uri(attributes: Mapping[str, str] | None, message_id: str | None) -> str:
    """Best-effort ``input_uri`` of a notification that could not be parsed."""
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

    Folder boundaries count (``gs://b/videos/`` does not hold ``gs://b/videos-old/x``),
    and a name with a ``..`` segment lies under no root.
    """
    if ".." in without_scheme(uri).split("/"):
        return None
    if not roots:
        roots = ("gs://" + without_scheme(uri).split("/", 1)[0] + "/",)
    matches = [root for root in roots if is_below(uri, root)]
    return max(matches, key=len) if matches else None


def is_newer_generation(generation: int, newest_seen: int | None) -> bool:
    """True when ``generation`` is newer than every generation seen of its object.

    A redelivery (the same generation again) and an older generation that arrives
    late are not new.
    """
    return newest_seen is None or generation > newest_seen


def newest(versions: Iterable[tuple[int, T]]) -> tuple[int, T]:
    """The ``(generation, value)`` with the highest generation."""
    return max(versions, key=lambda version: version[0])
