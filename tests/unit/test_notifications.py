"""GCS notifications: parsing the JSON API payload, allowed prefixes (pure, no runner)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.gcs_notifications import (
    BUCKET,
    notification_attributes,
    object_resource,
)
from transforms.errors import OutsideAllowedRootsError
from transforms.streaming.notifications import (
    BadNotificationError,
    GcsUpload,
    allowed_root,
    normalize_prefixes,
    parse_gcs_notification,
)

# ----------------------------------------------------------------- parsing


def test_parse_gcs_notification_reads_the_json_api_payload():
    resource = object_resource(BUCKET, "incoming/day1/cam 1.mp4", 1767323045250000, 96106)
    upload = parse_gcs_notification(
        json.dumps(resource).encode(), notification_attributes(resource)
    )
    assert upload == GcsUpload(
        bucket=BUCKET,
        name="incoming/day1/cam 1.mp4",
        generation=1767323045250000,
        size_bytes=96106,
        updated=1767323045.25,
        md5_hash=resource["md5Hash"],
    )
    assert upload.uri == f"gs://{BUCKET}/incoming/day1/cam 1.mp4"


@pytest.mark.parametrize(
    "event", ["OBJECT_DELETE", "OBJECT_ARCHIVE", "OBJECT_METADATA_UPDATE", None]
)
def test_parse_gcs_notification_ignores_other_events(event):
    resource = object_resource(BUCKET, "a.mp4", 1, 10)
    attributes = notification_attributes(resource, event or "")
    if event is None:
        del attributes["eventType"]
    assert parse_gcs_notification(json.dumps(resource).encode(), attributes) is None


def test_parse_gcs_notification_rejects_dot_dot_and_bad_payloads():
    def parse(resource, **attrs):
        return parse_gcs_notification(
            json.dumps(resource).encode(), {**notification_attributes(resource), **attrs}
        )

    with pytest.raises(OutsideAllowedRootsError, match=r"'\.\.' segment"):
        parse(object_resource(BUCKET, "incoming/../private/x.mp4", 1, 10))
    with pytest.raises(BadNotificationError, match="payloadFormat is NONE"):
        parse_gcs_notification(b"", {**notification_attributes(object_resource(BUCKET, "a.mp4", 1, 1)),
                                     "payloadFormat": "NONE"})  # fmt: skip
    with pytest.raises(BadNotificationError, match="not JSON"):
        parse_gcs_notification(
            b"\xff{", notification_attributes(object_resource(BUCKET, "a.mp4", 1, 1))
        )
    with pytest.raises(BadNotificationError, match="differs from its bucketId"):
        parse(object_resource(BUCKET, "a.mp4", 1, 1), bucketId="other")
    no_size = object_resource(BUCKET, "a.mp4", 1, 1)
    del no_size["size"]
    with pytest.raises(BadNotificationError, match="size"):
        parse(no_size)


def test_prefixes_are_folders_and_bound_the_bucket():
    roots = normalize_prefixes(["gs://b/videos", "gs://b/videos/day1/", "gs://c"])
    assert roots == ("gs://b/videos/", "gs://b/videos/day1/", "gs://c/")
    assert allowed_root("gs://b/videos/day1/x.mp4", roots) == "gs://b/videos/day1/"
    assert allowed_root("gs://b/videos-old/x.mp4", roots) is None
    assert allowed_root("gs://other/videos/x.mp4", roots) is None
    assert allowed_root("gs://c/anything.mp4", roots) == "gs://c/"
    assert allowed_root("gs://any/x.mp4", ()) == "gs://any/"
    for bad in ("/local/path", "gs://b/../c", "s3://b/x"):
        with pytest.raises(ValueError):
            normalize_prefixes([bad])
