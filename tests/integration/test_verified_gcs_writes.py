"""Every gs:// write is verified: a corrupted upload is detected, retried, never left in place."""

from __future__ import annotations

import pytest
from apache_beam.io.filesystems import FileSystems

from tests.helpers.emulators.gcs import gcs_emulator  # noqa: F401  (fixture)
from transforms.errors import TransientIOError
from transforms.io import atomic
from transforms.io.filesystems import read_bytes


class _Corrupting:
    """Wraps ``FileSystems.create`` so that the first ``bad`` uploads lose a byte in transit."""

    def __init__(self, real, bad: int):
        self.real, self.bad, self.calls = real, bad, 0

    def __call__(self, path, *args, **kwargs):
        self.calls += 1
        handle = self.real(path, *args, **kwargs)
        if self.calls > self.bad:
            return handle
        write = handle.write

        def damaged(data: bytes) -> int:
            return write(bytes([data[0] ^ 0xFF]) + data[1:] if data else data)

        handle.write = damaged
        return handle


def _objects(prefix: str) -> list[str]:
    return sorted(m.path for m in FileSystems.match([prefix + "**"])[0].metadata_list)


@pytest.fixture
def bucket(gcs_emulator):  # noqa: F811
    gcs_emulator.create_bucket("reelbeam-verify")
    yield "gs://reelbeam-verify/run/"
    FileSystems.delete(_objects("gs://reelbeam-verify/run/") or [])


def test_a_corrupted_upload_is_detected_and_sent_again(bucket, monkeypatch):
    corrupting = _Corrupting(FileSystems.create, bad=1)
    monkeypatch.setattr(FileSystems, "create", corrupting)
    uri = bucket + "catalog/videos.jsonl"
    atomic.write_bytes(uri, b'{"video_id": "a"}\n', "application/x-ndjson")
    assert corrupting.calls == 2  # the damaged try was caught and the write sent again
    assert read_bytes(uri) == b'{"video_id": "a"}\n'
    assert _objects(bucket) == [uri]  # no temporary object left behind


def test_an_upload_that_stays_corrupt_never_takes_the_final_name(bucket, monkeypatch):
    monkeypatch.setattr(FileSystems, "create", _Corrupting(FileSystems.create, bad=99))
    uri = bucket + "report/index.html"
    with pytest.raises(TransientIOError, match="CRC32C"):
        atomic.write_bytes(uri, b"<html></html>", "text/html")
    assert _objects(bucket) == []


def test_a_file_upload_is_verified_too(bucket, monkeypatch, tmp_path):
    local = tmp_path / "proxy_720p.mp4"
    local.write_bytes(bytes(range(256)) * 4096)
    corrupting = _Corrupting(FileSystems.create, bad=1)
    monkeypatch.setattr(FileSystems, "create", corrupting)
    uri = bucket + "videos/v/proxy_720p.mp4"
    atomic.upload_file(str(local), uri)
    assert corrupting.calls == 2
    assert read_bytes(uri) == local.read_bytes()
    assert _objects(bucket) == [uri]
