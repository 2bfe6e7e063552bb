"""Pure functions on URIs: local path or ``scheme://`` object, and how to name them.

This is the one place that knows what makes a URI local; nothing else tests for
``"://"`` itself.
"""

from __future__ import annotations

import os
import posixpath


def is_local(uri: str) -> bool:
    """True for a plain path (no ``scheme://``)."""
    return "://" not in uri


def is_gcs(uri: str) -> bool:
    """True for a ``gs://`` object or prefix."""
    return uri.startswith("gs://")


def scheme(uri: str) -> str:
    """``gs`` for ``gs://b/o``, ``file`` for a plain path."""
    return uri.split("://", 1)[0] if not is_local(uri) else "file"


def without_scheme(uri: str) -> str:
    """``gs://bucket/a/b`` -> ``bucket/a/b``; a plain path is returned as it is."""
    return uri.split("://", 1)[-1]


def absolute(uri: str) -> str:
    """An absolute local path, or a remote URI without its trailing slash."""
    return os.path.abspath(uri) if is_local(uri) else uri.rstrip("/")


def join_uri(uri: str, *parts: str) -> str:
    """``uri`` with ``parts`` appended: ``os.path.join`` locally, ``/``-joined remotely.

    The same result as Beam's ``FileSystems.join``, without importing Beam.
    """
    if is_local(uri):
        return os.path.join(uri, *parts)
    for part in parts:
        uri = uri + part if uri.endswith("/") else f"{uri}/{part}"
    return uri


def parent(uri: str) -> str:
    """The folder (or prefix) holding ``uri``."""
    return os.path.dirname(uri) if is_local(uri) else posixpath.dirname(uri)


def is_below(uri: str, root: str) -> bool:
    """True when ``uri`` is ``root`` itself or lies under it (both absolute)."""
    root = root.rstrip("/")
    return uri == root or uri.startswith(root + "/")


def resolve_local(uri: str) -> str:
    """A local path with every symlink resolved; remote URIs are returned unchanged.

    Trust checks (allowed roots, output overlap) compare resolved paths, so a link
    inside an allowed folder that points outside it is seen for what it is.
    """
    return os.path.realpath(uri) if is_local(uri) else uri
