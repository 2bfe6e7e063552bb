"""Pure functions on paths and URIs: which files to take, what their path says, their ids."""

from __future__ import annotations

import hashlib
import posixpath
import re
import string

# What cameras, broadcast and DVD archives hold (containers FFmpeg reads as video).
DEFAULT_EXTENSIONS = (
    "mp4", "m4v", "mov", "avi", "mkv", "webm", "mxf", "ts", "mts", "m2ts", "mpg", "mpeg",
    "m2v", "vob", "wmv", "asf", "flv", "3gp", "3g2", "dv", "ogv",
)  # fmt: skip
ANY_EXTENSION = "*"
"""``--extensions '*'``: take any file and let the probe decide whether it is a video."""
_TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")
_GLOB_CHARS = re.compile(r"[*?\[]")


def parse_extensions(text: str) -> tuple[str, ...]:
    """``"mp4, .MOV"`` -> ``("mp4", "mov")``: lower case, no dots, no blanks (``*`` stays)."""
    exts = tuple(e.strip().lower().lstrip(".") for e in text.split(",") if e.strip())
    return tuple(dict.fromkeys(exts))


def is_wanted(uri: str, extensions: tuple[str, ...], root: str = "") -> bool:
    """True for a video file reelbeam should take.

    Skips hidden files and files in hidden folders below ``root`` (``.*``),
    temporary and partial downloads (``*.part``, ``*.tmp``), and other extensions.
    The extension test ignores case; ``*`` among ``extensions`` takes any extension.
    Folders above ``root`` (the input the user named) may be hidden: the user chose them.
    """
    rel = uri[len(root) :] if root and uri.startswith(root) else uri.split("://", 1)[-1]
    parts = [p for p in rel.split("/") if p]
    if not parts:
        return False
    if any(p.startswith(".") for p in parts):
        return False
    name = parts[-1].lower()
    if name.endswith(_TEMP_SUFFIXES):
        return False
    return ANY_EXTENSION in extensions or extension_of(name) in extensions


def extension_of(uri: str) -> str:
    """The file extension of ``uri``, lower case, without the dot (``""`` when none)."""
    return posixpath.splitext(uri.rstrip("/").lower())[1].lstrip(".")


def has_video_extension(uri: str) -> bool:
    """True when ``uri`` ends in one of the container extensions of ``DEFAULT_EXTENSIONS``."""
    return extension_of(uri) in DEFAULT_EXTENSIONS


def has_glob(pattern: str) -> bool:
    """True if the pattern holds a glob character (``*``, ``?``, ``[``)."""
    return bool(_GLOB_CHARS.search(pattern))


def glob_root(pattern: str) -> str:
    """The longest leading part of a pattern without glob characters (a folder)."""
    match = _GLOB_CHARS.search(pattern)
    if not match:
        return pattern
    return pattern[: match.start()].rsplit("/", 1)[0] or "/"


def named_root(pattern: str) -> str:
    """The folder the user named in ``pattern``: a glob's root, or a named file's folder.

    Hidden folders above it are the user's choice (``/home/me/.cache/clip.mp4``);
    ``is_wanted`` looks for hidden parts only below it.
    """
    if has_glob(pattern):
        return glob_root(pattern)
    return posixpath.dirname(pattern.rstrip("/"))


def parse_path_fields(uri: str, pattern: re.Pattern[str] | None) -> dict[str, str]:
    """Named groups of ``pattern`` searched in ``uri`` (``{}`` without a pattern or match).

    Example: ``(?P<event>[^/]+)/(?P<day>day\\d+)/(?P<table>[^/.]+)`` on
    ``/nas/poker/2024/wsop/day1/table1.mp4`` gives
    ``{"event": "wsop", "day": "day1", "table": "table1"}``.
    """
    if pattern is None:
        return {}
    match = pattern.search(uri)
    if not match:
        return {}
    return {k: v for k, v in match.groupdict().items() if v is not None}


def slugify(text: str) -> str:
    """Lower-case ASCII letters, digits and single dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "video"


def default_video_id(uri: str) -> str:
    """A stable, readable id: the last folder and file stem, plus a hash of the full URI.

    ``/nas/poker/day1/table 1.mp4`` -> ``day1-table-1-<8 hex>``. The hash keeps two
    files with the same name in different folders apart; the same path always
    gives the same id.
    """
    path = uri.split("://", 1)[-1].rstrip("/")
    parent = posixpath.basename(posixpath.dirname(path))
    stem = posixpath.splitext(posixpath.basename(path))[0]
    digest = hashlib.sha1(uri.encode("utf-8")).hexdigest()[:8]
    return f"{slugify(f'{parent} {stem}')[:60]}-{digest}"


def template_fields(template: str) -> set[str]:
    """Names a ``str.format`` template refers to."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def make_video_id(uri: str, fields: dict[str, str], template: str | None) -> str:
    """``video_id`` from ``--video_id_template`` and the path fields, else the default slug.

    A template whose fields the path does not provide falls back to the default id,
    so every file still gets a stable, unique one.
    """
    if template and template_fields(template) <= fields.keys():
        return slugify(template.format(**fields))
    return default_video_id(uri)
