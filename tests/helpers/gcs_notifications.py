"""GCS notifications as Pub/Sub carries them, for the streaming tests."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

from apache_beam.io.gcp.pubsub import PubsubMessage

BUCKET = "reelbeam-uploads"
PROJECT = "reelbeam-test"


def object_resource(bucket: str, name: str, generation: int, size: int, **extra) -> dict:
    """An object resource in the JSON API format, as GCS notifications carry it."""
    md5 = base64.b64encode(hashlib.md5(name.encode()).digest()).decode()
    return {
        "kind": "storage#object",
        "id": f"{bucket}/{name}/{generation}",
        "name": name,
        "bucket": bucket,
        "generation": str(generation),
        "metageneration": "1",
        "contentType": "video/mp4",
        "timeCreated": "2026-01-02T03:04:05.250Z",
        "updated": "2026-01-02T03:04:05.250Z",
        "size": str(size),
        "md5Hash": md5,
        **extra,
    }


def notification_attributes(resource: dict, event: str = "OBJECT_FINALIZE") -> dict[str, str]:
    """The attributes GCS sets on a notification message."""
    return {
        "notificationConfig": f"projects/_/buckets/{resource['bucket']}/notificationConfigs/1",
        "eventType": event,
        "payloadFormat": "JSON_API_V1",
        "bucketId": resource["bucket"],
        "objectId": resource["name"],
        "objectGeneration": str(resource["generation"]),
        "eventTime": resource.get("updated", "2026-01-02T03:04:05.250Z"),
    }


def notification_message(resource: dict, event: str = "OBJECT_FINALIZE") -> PubsubMessage:
    return PubsubMessage(
        json.dumps(resource).encode(),
        notification_attributes(resource, event),
        message_id=uuid.uuid4().hex,
    )


def upload_topic(project: str = PROJECT, ack_deadline_s: int | None = None):
    """A fresh topic and subscription on the Pub/Sub emulator, as a bucket notification uses.

    Returns:
        ``(publisher, subscriber, topic, subscription)``; the caller deletes both.
    """
    from google.cloud import pubsub_v1

    suffix = uuid.uuid4().hex[:8]
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(project, f"uploads-{suffix}")
    subscription = subscriber.subscription_path(project, f"reelbeam-{suffix}")
    publisher.create_topic(name=topic)
    request = {"name": subscription, "topic": topic}
    if ack_deadline_s is not None:
        request["ack_deadline_seconds"] = ack_deadline_s
    subscriber.create_subscription(request=request)
    return publisher, subscriber, topic, subscription
