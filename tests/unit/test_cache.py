"""The object cache: verified, atomic inserts, safe under concurrent writers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from git_lazydata.cache import Cache
from git_lazydata.errors import BadOid, ChecksumMismatch
from git_lazydata.pointer import Pointer
from git_lazydata.stores.base import FileSource
from git_lazydata.stores.folder import FolderStore
from git_lazydata.stores.urls import parse_store_url
from git_lazydata.transfer import download


def test_insert_places_object_by_oid(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    data = b"some bytes" * 1000
    oid, size = cache.insert([data[:7], data[7:]])
    assert oid == hashlib.sha256(data).hexdigest() and size == len(data)
    assert cache.path(oid) == tmp_path / "objects" / oid[:2] / oid[2:4] / oid
    assert cache.path(oid).read_bytes() == data
    assert cache.has(oid, size) and not cache.has(oid, size + 1)


def test_mismatch_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    wrong = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(ChecksumMismatch) as info:
        cache.insert([b"data"], expect_oid=wrong)
    assert info.value.expected == wrong
    assert not cache.has(wrong)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "objects").exists() or not any((tmp_path / "objects").rglob("*"))


def test_interrupted_insert_is_never_visible(tmp_path: Path) -> None:
    cache = Cache(tmp_path)

    def chunks():
        yield b"x" * 100
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        cache.insert(chunks())
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "objects").exists()


def test_objects_are_read_only(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    oid, _ = cache.insert([b"abc"])
    assert cache.path(oid).stat().st_mode & 0o222 == 0


def test_path_refuses_a_non_oid(tmp_path: Path) -> None:
    with pytest.raises(BadOid):
        Cache(tmp_path).path("../../etc/passwd")


WRITER = """
import sys
from pathlib import Path
from git_lazydata.cache import Cache
cache = Cache(Path(sys.argv[1]))
for i in range(40):
    cache.insert([b"shared object", b"x" * 100000])
    cache.insert([sys.argv[2].encode() * 1000, str(i).encode()])
"""


def test_many_processes_insert_at_once(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n)]) for n in range(6)
    ]
    assert [p.wait() for p in procs] == [0] * 6
    objects = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert len(objects) == 1 + 6 * 40
    for path in objects:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
    assert list((tmp_path / "tmp").iterdir()) == []


def test_stale_temps_are_removed_and_young_ones_kept(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    (tmp_path / "tmp").mkdir()
    old, young = tmp_path / "tmp" / "old", tmp_path / "tmp" / "young"
    old.write_bytes(b"1")
    young.write_bytes(b"2")
    os.utime(old, (1, 1))
    assert cache.remove_stale_temps() == 1
    assert not old.exists() and young.exists()


class _CountingFolder(FolderStore):
    """A folder store that remembers the ranges it was asked to read."""

    def __init__(self, root: Path) -> None:
        super().__init__(parse_store_url(str(root)))
        self.reads: list[int] = []

    def open(self, oid: str, start: int = 0, end: int | None = None) -> Any:
        self.reads.append(start)
        return super().open(oid, start, end)


@pytest.mark.parametrize("kept", ["0%", "33%", "100%", "33% garbage", "100% garbage"])
def test_a_kept_partial_download_in_any_state_ends_in_a_verified_object(tmp_path: Path, kept: str) -> None:
    data = os.urandom(3 << 20)
    oid, size = hashlib.sha256(data).hexdigest(), len(data)
    (tmp_path / "store").mkdir()
    store = _CountingFolder(tmp_path / "store")
    store.upload(oid, size, FileSource(_file(tmp_path / "blob", data)), lambda n: None)
    cache = Cache(tmp_path / "cache")
    share, *garbage = kept.split()
    prefix = data[: size * int(share.rstrip("%")) // 100]
    with cache.partial(oid, size) as part:  # what a killed download leaves
        part.write(bytes(len(prefix)) if garbage else prefix)
    result = download([("lake", store)], cache, [Pointer(oid, size)])
    assert result.done == [oid] and not result.failed and not result.warnings
    assert cache.path(oid).read_bytes() == data
    assert store.reads == ([len(prefix), 0] if garbage and share != "100%" else
                           [0] if garbage else [len(prefix)] if len(prefix) < size else [])
    assert os.listdir(tmp_path / "cache" / "tmp") == []


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
