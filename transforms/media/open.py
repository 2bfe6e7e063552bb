"""Opening media through Beam ``FileSystems``, so local paths and ``gs://`` share one code path."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import av

from transforms.errors import EmptyFileError, SourceVanishedError
from transforms.io.filesystems import exists, open_read
from transforms.io.uris import is_local


@contextlib.contextmanager
def open_input(uri: str, **av_options) -> Iterator[av.container.InputContainer]:
    """Open a media file for reading with PyAV and close it deterministically.

    Local files are opened by path (FFmpeg reads and seeks them itself). Anything
    else is opened through ``FileSystems.open``, a seekable reader that fetches
    byte ranges, so probing a 10-hour file on ``gs://`` reads its header and
    index, not the whole file.

    Raises:
        SourceVanishedError: the file no longer exists.
        EmptyFileError: the file has zero bytes.
        av.error.FFmpegError: FFmpeg cannot read it.
    """
    if is_local(uri):
        try:
            if os.path.getsize(uri) == 0:
                raise EmptyFileError(f"{uri} is empty (0 bytes)")
        except FileNotFoundError as exc:
            raise SourceVanishedError(f"{uri} no longer exists") from exc
        container = av.open(uri, mode="r", **av_options)
        try:
            yield container
        finally:
            container.close()
        return
    if not exists(uri):
        raise SourceVanishedError(f"{uri} no longer exists")
    with open_read(uri) as handle:
        container = av.open(handle, mode="r", **av_options)
        try:
            yield container
        finally:
            container.close()
