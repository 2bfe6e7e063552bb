"""Finding videos: globs, folders, ``**`` and file lists through Beam ``FileSystems``.

The same code path serves local folders, NAS mounts and ``gs://`` buckets.
"""

from __future__ import annotations

import itertools
import logging
import os
import posixpath
import re
from collections.abc import Iterable, Iterator

import apache_beam as beam
from apache_beam import pvalue

from transforms.errors import OutsideAllowedRootsError, SourceVanishedError
from transforms.io.deadletter import FAILURES, Clock, failure_row, utc_now
from transforms.io.filesystems import file_systems
from transforms.io.retry import call_with_retries
from transforms.io.uris import is_below, is_local, resolve_local, without_scheme
from transforms.paths import (
    glob_root,
    has_glob,
    is_wanted,
    make_video_id,
    named_root,
    parse_path_fields,
)
from transforms.progress import report
from transforms.records import FoundFile
from transforms.schemas import FailureRow


def normalize_input(pattern: str, base_dir: str | None = None) -> str:
    """An absolute, normalized pattern; a local folder becomes ``folder/**`` (recursive).

    Args:
        pattern: a path, folder, glob or URI as the user typed it.
        base_dir: folder that relative paths are relative to (the current one if None).
    """
    pattern = pattern.strip()
    if not is_local(pattern):
        return pattern + "**" if pattern.endswith("/") else pattern
    expanded = os.path.expanduser(pattern)
    if not os.path.isabs(expanded):
        expanded = os.path.join(base_dir or os.getcwd(), expanded)
    normalized = os.path.normpath(expanded)
    if pattern.endswith("/") or (not has_glob(normalized) and os.path.isdir(normalized)):
        return normalized.rstrip("/") + "/**"
    return normalized


def split_inputs(values: Iterable[str] | None) -> list[str]:
    """``--input`` values, repeated or comma-separated, in order, without repeats."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return list(dict.fromkeys(out))


def read_input_list(uri: str) -> list[str]:
    """Patterns from a list file: one URI or path a line; blanks and ``#`` comments skipped.

    Relative local paths are taken relative to the list's own folder.
    """
    with file_systems().open(uri) as handle:
        text = handle.read().decode("utf-8")
    base = posixpath.dirname(uri) if is_local(uri) else None
    lines = [line.strip() for line in text.splitlines()]
    return [normalize_input(line, base) for line in lines if line and not line.startswith("#")]


def default_roots(list_uri: str) -> list[str]:
    """Where a list's entries may point by default: the list's folder, or its bucket."""
    if is_local(list_uri):
        return [os.path.dirname(os.path.abspath(list_uri))]
    scheme, _, rest = list_uri.partition("://")
    return [f"{scheme}://{rest.split('/', 1)[0]}"]


def within_roots(pattern: str, roots: list[str]) -> bool:
    """True when a normalized pattern lies under one of the roots (no ``..`` escapes).

    Local paths are compared with every symlink resolved, on both sides: a link
    inside an allowed folder that points outside it is outside. For a glob, the
    folder it starts from is resolved.
    """
    if ".." in without_scheme(pattern).split("/"):
        return False
    if is_local(pattern):
        if has_glob(pattern):
            base = glob_root(pattern)
            pattern = resolve_local(base) + pattern[len(base) :]
        else:
            pattern = resolve_local(pattern)
    return any(is_below(pattern, resolve_local(r)) for r in roots)


def listed_patterns(
    list_uri: str, allowed_roots: list[str] | None, clock: Clock
) -> Iterator[tuple[str, tuple[str, ...]] | FailureRow]:
    """A list file's ``(pattern, roots)``; entries outside the allowed roots are failure rows."""
    roots = allowed_roots or default_roots(list_uri)
    try:
        patterns = call_with_retries(lambda: read_input_list(list_uri))
    except Exception as exc:
        patterns = []
        yield failure_row(exc, input_uri=list_uri, stage="find", clock=clock)
    for pattern in patterns:
        if within_roots(pattern, roots):
            yield pattern, tuple(roots)
        else:
            exc = OutsideAllowedRootsError(
                f"{pattern} is outside the allowed roots ({', '.join(roots)})"
            )
            yield failure_row(exc, input_uri=pattern, stage="find", clock=clock)


def matches(element: tuple[str, tuple[str, ...]], clock: Clock) -> Iterator[tuple | FailureRow]:
    """(pattern, roots) -> ``(FileMetadata, root)`` of every match, or failure rows.

    A missing named file is a failure row. ``roots`` is empty for the patterns the
    user typed; for a list's entries it holds the allowed roots, and every match is
    checked again with symlinks resolved, so a glob cannot reach a file outside them
    through a link.
    """
    pattern, roots = element
    try:
        metadata = call_with_retries(lambda: match_files(pattern), what=f"match {pattern}")
    except Exception as exc:
        metadata, error = [], exc
    else:
        error = (
            None
            if metadata or has_glob(pattern)
            else SourceVanishedError(f"{pattern} does not exist")
        )
    if error is not None:
        row = failure_row(error, input_uri=pattern, stage="find", clock=clock)
        logging.warning("find failed for %s: %s", pattern, row.message)
        yield row
    elif not metadata:
        logging.warning("no files match %s", pattern)
    root = named_root(pattern)
    for meta in metadata:
        if roots and not within_roots(meta.path, list(roots)):
            exc = OutsideAllowedRootsError(
                f"{meta.path} resolves outside the allowed roots ({', '.join(roots)})"
            )
            yield failure_row(exc, input_uri=meta.path, stage="find", clock=clock)
            continue
        yield meta, root


def _tagged(item):
    """Failure rows to the ``failures`` output, the rest to the main one."""
    return pvalue.TaggedOutput(FAILURES, item) if isinstance(item, FailureRow) else item


class _ReadListFn(beam.DoFn):
    """list URI -> its ``(pattern, roots)`` (``listed_patterns``), failure rows tagged."""

    def __init__(self, roots: list[str] | None, clock: Clock):
        self._roots = roots
        self._clock = clock

    def process(self, list_uri: str):
        yield from map(_tagged, listed_patterns(list_uri, self._roots, self._clock))


class _MatchFn(beam.DoFn):
    """(pattern, roots) -> ``(FileMetadata, root)`` of every match (``matches``), failures tagged."""

    def __init__(self, clock: Clock):
        self._clock = clock

    def process(self, element: tuple[str, tuple[str, ...]]):
        yield from map(_tagged, matches(element, self._clock))


def match_files(pattern: str) -> list:
    """``FileMetadata`` of the files a pattern matches (a bare ``gs://`` folder recurses)."""
    metadata = file_systems().match([pattern])[0].metadata_list
    if not has_glob(pattern) and not is_local(pattern) and not metadata:
        # gs://bucket/folder without a slash: take it as a folder.
        metadata = file_systems().match([pattern.rstrip("/") + "/**"])[0].metadata_list
    if is_local(pattern):
        metadata = [m for m in metadata if not os.path.isdir(m.path)]
    return metadata


def to_found_files(
    item,
    extensions: tuple[str, ...],
    path_pattern: str | None,
    id_template: str | None,
    exclude: str | None,
) -> Iterable[FoundFile]:
    """``(FileMetadata, root)`` -> the ``FoundFile`` when it is a wanted video, else nothing."""
    meta, root = item
    uri = meta.path
    if not is_wanted(uri, extensions, root) or (exclude and uri.startswith(exclude)):
        return
    regex = re.compile(path_pattern) if path_pattern else None
    fields = parse_path_fields(uri, regex)
    yield FoundFile(
        uri=uri,
        size_bytes=int(meta.size_in_bytes),
        mtime=meta.last_updated_in_seconds or None,
        video_id=make_video_id(uri, fields, id_template),
        path_fields=fields,
    )


class FindVideos(beam.PTransform):
    """Match inputs to video files: filtered by extension, hidden/temp files skipped, deduped.

    Args:
        patterns: normalized patterns (see ``normalize_input``), known at launch.
        input_list: a list file (local or ``gs://``) read on the workers, or None.
        extensions: extensions to take, lower case, no dots.
        path_pattern: regex with named groups for ``path_fields``.
        video_id_template: ``str.format`` template over those groups.
        allowed_roots: folders or ``gs://bucket/prefix`` values that list entries may
            name (default: the list's folder, or its bucket); others are failure rows.
        exclude_prefix: a folder never to take files from (reelbeam's own output,
            so proxies are not catalogued as sources on the next run).

    Returns:
        A ``DoOutputsTuple``: ``found`` (``FoundFile``, one per distinct URI) and
        ``failures`` (stage ``find``).
    """

    def __init__(
        self,
        patterns: list[str],
        input_list: str | None = None,
        extensions: tuple[str, ...] = (),
        path_pattern: str | None = None,
        video_id_template: str | None = None,
        exclude_prefix: str | None = None,
        allowed_roots: list[str] | None = None,
        clock: Clock = utc_now,
    ):
        super().__init__()
        self._patterns = patterns
        self._input_list = input_list
        self._extensions = extensions
        self._path_pattern = path_pattern
        self._template = video_id_template
        self._allowed_roots = allowed_roots
        self._exclude = exclude_prefix.rstrip("/") + "/" if exclude_prefix else None
        self._clock = clock

    def expand(self, pbegin: pvalue.PBegin):
        typed = [(pattern, ()) for pattern in self._patterns]  # typed by the user: trusted
        sources = [pbegin | "Patterns" >> beam.Create(typed)]
        list_failures = []
        if self._input_list:
            listed = (
                pbegin
                | "ListFile" >> beam.Create([self._input_list])
                | "ReadList"
                >> beam.ParDo(_ReadListFn(self._allowed_roots, self._clock)).with_outputs(
                    FAILURES, main="patterns"
                )
            )
            sources.append(listed.patterns)
            list_failures.append(listed[FAILURES])
        patterns = sources | "AllPatterns" >> beam.Flatten()
        matched = patterns | "Match" >> beam.ParDo(_MatchFn(self._clock)).with_outputs(
            FAILURES, main="matches"
        )
        found = (
            matched.matches
            | "Filter"
            >> beam.FlatMap(
                to_found_files, self._extensions, self._path_pattern, self._template, self._exclude
            )
            | "KeyByUri" >> beam.Map(lambda f: (f.uri, f))
            | "Dedupe" >> beam.CombinePerKey(_first)
            | "Files" >> beam.Values()
            | "Log" >> beam.ParDo(CountFoundFn())
        )
        failures = [matched[FAILURES], *list_failures] | "FindFailures" >> beam.Flatten()
        return {"found": found, "failures": failures}

    def now(self) -> Iterator[FoundFile | FailureRow]:
        """The same search run here and now, outside any pipeline (the launcher's rerun check).

        Yields each distinct found file, and the failure rows the pipeline would write.
        Lazy, so a caller may stop at the first file that interests it. A URI matched
        twice is the same file (one listing), so the first match stands for it.
        """
        listed = (
            listed_patterns(self._input_list, self._allowed_roots, self._clock)
            if self._input_list
            else ()
        )
        seen: set[str] = set()
        for element in itertools.chain(((p, ()) for p in self._patterns), listed):
            items = [element] if isinstance(element, FailureRow) else matches(element, self._clock)
            for item in items:
                if isinstance(item, FailureRow):
                    yield item
                    continue
                for found in to_found_files(
                    item, self._extensions, self._path_pattern, self._template, self._exclude
                ):
                    if found.uri not in seen:
                        seen.add(found.uri)
                        yield found


def _first(values: Iterable[FoundFile]) -> FoundFile:
    return min(values, key=lambda f: (f.size_bytes, f.mtime or 0.0))


class CountFoundFn(beam.DoFn):
    """Counts and logs each found file (passes it on)."""

    def process(self, found: FoundFile):
        report("files_found")
        logging.info("found %s (%d bytes)", found.uri, found.size_bytes)
        yield found
