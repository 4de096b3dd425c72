"""Reading an object by range from a store (reader.py), against a real folder store."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest
from lazyhelpers import corrupt, object_path

from git_lazydata.errors import ChecksumMismatch
from git_lazydata.reader import FIRST_WINDOW, ObjectReader
from git_lazydata.stores import open_store
from git_lazydata.stores.base import FileSource
from git_lazydata.stores.urls import parse_store_url

MiB = 1024 * 1024


@pytest.fixture
def stored(tmp_path: Path) -> tuple[object, str, bytes]:
    """A folder store holding one 6 MiB object: (store, oid, bytes)."""
    data = os.urandom(6 * MiB)
    oid = hashlib.sha256(data).hexdigest()
    source = tmp_path / "source"
    source.write_bytes(data)
    (tmp_path / "store").mkdir()
    store = open_store(parse_store_url(str(tmp_path / "store")))
    store.prepare_push()
    store.upload(oid, len(data), FileSource(source), lambda n: None)
    return store, oid, data


def reader(stored: tuple[object, str, bytes]) -> ObjectReader:
    store, oid, data = stored
    return ObjectReader(store, "lake", oid, len(data))  # type: ignore[arg-type]


def test_a_short_read_asks_for_little_and_a_long_one_for_few_windows(stored: tuple[object, str, bytes]) -> None:
    data = stored[2]
    with reader(stored) as raw, io.BufferedReader(raw, 64 * 1024) as f:
        assert f.read(MiB) == data[:MiB]
        assert MiB <= raw.requested < 2 * MiB
    with reader(stored) as raw:
        whole = b"".join(iter(lambda: raw.read(256 * 1024), b""))
    assert whole == data
    assert raw.requested == len(data)  # each byte asked for once
    assert raw.windows == 4  # 256 KiB, 1 MiB, 4 MiB, the rest: not one request per read


def test_seeks_read_the_right_bytes(stored: tuple[object, str, bytes]) -> None:
    data = stored[2]
    with io.BufferedReader(reader(stored)) as f:
        for start, size in [(5 * MiB + 5, 100), (3, 10), (FIRST_WINDOW - 1, 3), (len(data) - 9, 50), (20, 300 * 1024)]:
            f.seek(start)
            assert f.read(size) == data[start:start + size]
        assert f.seek(0, io.SEEK_END) == len(data) and f.read(1) == b""


def test_a_whole_read_in_any_order_is_verified(stored: tuple[object, str, bytes], tmp_path: Path) -> None:
    store, oid, data = stored
    with io.BufferedReader(reader(stored)) as f:  # the end first (a parquet footer), then the rest
        f.seek(-1000, io.SEEK_END)
        f.read()
        f.seek(0)
        assert hashlib.sha256(f.read()).hexdigest() == oid
    bad = bytearray(data)
    bad[4 * MiB] ^= 0xFF
    corrupt(object_path(tmp_path / "store", oid), bytes(bad))
    with io.BufferedReader(reader(stored)) as f:
        assert f.read(MiB) == bad[:MiB]  # a partial read cannot be checked
        with pytest.raises(ChecksumMismatch, match="lake"):
            f.read()
    with io.BufferedReader(reader(stored)) as f:
        f.seek(5 * MiB)
        f.read()
        f.seek(0)
        with pytest.raises(ChecksumMismatch):
            f.read(5 * MiB)


def test_threads_read_one_object_at_once(stored: tuple[object, str, bytes]) -> None:
    data = stored[2]
    failures: list[BaseException] = []

    def part(start: int) -> None:
        try:
            with io.BufferedReader(reader(stored)) as f:
                f.seek(start)
                assert f.read(2 * MiB) == data[start:start + 2 * MiB]
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=part, args=(i * MiB // 2,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
