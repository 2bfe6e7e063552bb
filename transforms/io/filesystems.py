"""File operations on local paths and remote URIs, with Beam's ``FileSystems`` for the latter.

Every read and write of a remote URI (``gs://``) goes through Beam ``FileSystems``,
imported on first use by ``file_systems()``. Importing Beam costs 2-3 s of CPU, and
the isolated children that decode, infer and encode local files never need it: the
operations here do a local path with ``os`` (what Beam's ``LocalFileSystem`` does
too), so a child that only touches local paths starts without Beam
(``tests/unit/test_child_imports.py``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING

from transforms.io.uris import is_local

if TYPE_CHECKING:
    from apache_beam.io.filesystems import FileSystems

_BLOCK = 1 << 20


def file_systems() -> type[FileSystems]:
    """``apache_beam.io.filesystems.FileSystems``, imported the first time it is asked for."""
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def exists(uri: str) -> bool:
    """Whether a file, folder or object exists at ``uri``."""
    return os.path.exists(uri) if is_local(uri) else file_systems().exists(uri)


def size_of(uri: str) -> int | None:
    """The size of the file or object at ``uri`` in bytes; None when there is none."""
    if is_local(uri):
        return os.path.getsize(uri) if os.path.isfile(uri) else None
    found = file_systems().match([uri])[0].metadata_list
    return found[0].size_in_bytes if found else None


def open_read(uri: str) -> IO[bytes]:
    """A binary reader of the file or object at ``uri`` (bytes as stored, never decompressed)."""
    if is_local(uri):
        return open(uri, "rb")
    from apache_beam.io.filesystem import CompressionTypes

    return file_systems().open(uri, compression_type=CompressionTypes.UNCOMPRESSED)


def create(uri: str, mime_type: str) -> IO[bytes]:
    """A binary writer of a new file or object at ``uri`` (its folder must exist locally)."""
    if is_local(uri):
        return open(uri, "wb")
    from apache_beam.io.filesystem import CompressionTypes

    return file_systems().create(
        uri, mime_type=mime_type, compression_type=CompressionTypes.UNCOMPRESSED
    )


def delete(uris: Iterable[str]) -> None:
    """Delete the files, folders (with what they hold) or objects that exist among ``uris``."""
    remote = []
    for uri in uris:
        if not is_local(uri):
            remote.append(uri)
        elif os.path.isdir(uri):
            shutil.rmtree(uri)
        elif os.path.lexists(uri):
            os.remove(uri)
    existing = [u for u in remote if file_systems().exists(u)]
    if existing:
        file_systems().delete(existing)


def md5_of(uri: str) -> str:
    """MD5 hex of a file or object, read in blocks."""
    digest = hashlib.md5()
    with open_read(uri) as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def read_bytes(uri: str) -> bytes:
    """All the bytes of a file or object."""
    with open_read(uri) as handle:
        return handle.read()
