"""The one atomic writer: files appear complete under their final name, or not at all.

Every artifact, catalog table, manifest, ``motion.json`` and report page goes
through here, for local folders and ``FileSystems`` URIs (``gs://``) alike:

* bytes are written under a temporary name beside the target, then renamed;
* a ``gs://`` object is checked against the CRC32C of the bytes sent before the
  rename; a mismatch deletes the temporary object and raises ``TransientIOError``
  (the retry policy sends it again), so a corrupted upload never takes the final name;
* a failure at any step removes the temporary name.

``local_target`` gives encoders that need a real file path a place to write, and
publishes the file the same way when they finish.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

import google_crc32c

from transforms.errors import TransientIOError
from transforms.io.filesystems import create, delete, file_systems
from transforms.io.retry import call_with_retries
from transforms.io.uris import is_gcs, is_local, parent

_BLOCK = 1 << 20


def temp_name(uri: str) -> str:
    """A unique temporary name beside ``uri`` (same folder, so the rename stays cheap)."""
    return f"{uri}.tmp-{uuid.uuid4().hex}"


def _verify(tmp: str, expected_crc32c: str, uri: str) -> None:
    stored = file_systems().checksum(tmp)
    if stored != expected_crc32c:
        raise TransientIOError(
            f"upload of {uri} stored CRC32C {stored}, expected {expected_crc32c}"
        )


def _delete_quietly(uri: str) -> None:
    with contextlib.suppress(Exception):
        delete([uri])


def _publish(blocks_fn, uri: str, mime_type: str) -> None:
    """One try: stream ``blocks_fn()`` to a temporary name, verify, rename to ``uri``."""
    if is_local(uri):
        os.makedirs(parent(uri) or ".", exist_ok=True)
    tmp = temp_name(uri)
    try:
        crc = google_crc32c.Checksum()
        with create(tmp, mime_type) as handle:
            for block in blocks_fn():
                crc.update(block)
                handle.write(block)
        if is_gcs(uri):
            _verify(tmp, base64.b64encode(crc.digest()).decode(), uri)
        if is_local(uri):
            os.replace(tmp, uri)
        else:
            file_systems().rename([tmp], [uri])
    except BaseException:
        _delete_quietly(tmp)
        raise


def write_bytes(uri: str, data: bytes, mime_type: str = "application/octet-stream") -> str:
    """Write ``data`` to ``uri`` atomically (verified on ``gs://``); returns its MD5 hex.

    Raises:
        TransientIOError: the upload kept arriving damaged after the retries.
    """
    call_with_retries(
        lambda: _publish(lambda: [data], uri, mime_type), what=f"write {uri}", attempts=3
    )
    return hashlib.md5(data).hexdigest()


def write_text(uri: str, text: str, mime_type: str = "text/plain") -> str:
    """``write_bytes`` for UTF-8 text; returns the MD5 hex."""
    return write_bytes(uri, text.encode("utf-8"), mime_type)


def _file_blocks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        yield from iter(lambda: handle.read(_BLOCK), b"")


def upload_file(path: str, uri: str, mime_type: str = "application/octet-stream") -> None:
    """Copy a local file to ``uri`` atomically, verified by CRC32C on ``gs://``."""
    call_with_retries(
        lambda: _publish(lambda: _file_blocks(path), uri, mime_type),
        what=f"upload {uri}",
        attempts=3,
    )


@contextlib.contextmanager
def local_target(uri: str, mime_type: str = "application/octet-stream") -> Iterator[str]:
    """A local path to write ``uri``'s bytes to, published atomically when the block ends.

    Local targets get a ``.part`` file beside them, renamed into place on success;
    remote targets a file in a temporary folder, uploaded and verified. On an
    exception, or when nothing was written, nothing appears under ``uri``.
    """
    if is_local(uri):
        os.makedirs(parent(uri) or ".", exist_ok=True)
        part = f"{uri}.part"
        try:
            yield part
        except BaseException:
            _delete_quietly(part)
            raise
        if os.path.exists(part):
            os.replace(part, uri)
        return
    folder = tempfile.mkdtemp(prefix="reelbeam-")
    try:
        path = os.path.join(folder, os.path.basename(uri))
        yield path
        if os.path.exists(path):
            upload_file(path, uri, mime_type)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
