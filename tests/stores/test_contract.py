"""One contract, three stores: folder, S3 (moto) and SSH (sshd), all on loopback.

Compare git-annex ``testremote`` and git-lfs ``t/git-lfs-test-server-api``: every
kind of store must answer missing(), upload(), open() and prepare_push() alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lazyhelpers import write_stream
from servers import run_killed_upload

from git_lazydata.errors import BadOid, ObjectMissing, StoreError
from git_lazydata.pointer import object_key
from git_lazydata.stores import open_store
from git_lazydata.stores.base import FileSource
from git_lazydata.stores.urls import parse_store_url

MiB = 1 << 20
ABSENT = "0" * 64


@dataclass
class Kind:
    """A store under test plus a way to look at its contents from outside."""

    name: str
    fixture: Any
    store: Any

    def keys(self) -> set[str]:
        """Every object name below the store root, as paths relative to it."""
        if self.name == "s3":
            client, prefix = self.fixture.client, self.fixture.prefix + "/"
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self.fixture.bucket, Prefix=prefix
            )
            return {o["Key"][len(prefix):] for page in pages for o in page.get("Contents", [])}
        root = self.fixture.root
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    def read_key(self, key: str) -> bytes:
        """The raw bytes stored under ``key``."""
        if self.name == "s3":
            reply = self.fixture.client.get_object(
                Bucket=self.fixture.bucket, Key=f"{self.fixture.prefix}/{key}"
            )
            return bytes(reply["Body"].read())
        return (self.fixture.root / key).read_bytes()

    def write_key(self, key: str, data: bytes) -> None:
        """Put bytes under ``key`` behind the store's back."""
        if self.name == "s3":
            self.fixture.client.put_object(
                Bucket=self.fixture.bucket, Key=f"{self.fixture.prefix}/{key}", Body=data
            )
        else:
            path = self.fixture.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


@pytest.fixture(params=["folder", "s3", "ssh"])
def any_store(request: pytest.FixtureRequest) -> Any:
    """Each store kind in turn, opened through the public registry."""
    fixture = request.getfixturevalue(f"{request.param}_store")
    store = open_store(parse_store_url(fixture.url))
    yield Kind(request.param, fixture, store)
    store.close()


def _read(stream: Any) -> bytes:
    with stream:
        chunks: list[bytes] = []
        while True:
            chunk = stream.read(MiB)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _blob(tmp_path: Path, size: int, seed: int) -> tuple[str, Path]:
    path = tmp_path / f"blob-{seed}"
    return write_stream(path, size, seed), path


def test_missing_upload_open(any_store: Kind, tmp_path: Path) -> None:
    store = any_store.store
    sizes = {"small": 1000, "empty": 0, "medium": 3 * MiB + 7, "large": 10 * MiB + 12345}
    blobs = {name: _blob(tmp_path, size, seed) for seed, (name, size) in enumerate(sizes.items())}
    oids = {oid: sizes[name] for name, (oid, _) in blobs.items()}
    assert store.missing({**oids, ABSENT: 1}) == {*oids, ABSENT}

    for name, (oid, path) in blobs.items():
        moved: list[int] = []
        store.upload(oid, sizes[name], FileSource(path), moved.append)
        assert sum(moved) == sizes[name]
    assert store.missing({**oids, ABSENT: 1}) == {ABSENT}
    small = blobs["small"][0]  # held at another size: as good as absent
    assert store.missing({small: sizes["small"] + 1}) == {small}

    for name, (oid, path) in blobs.items():
        data = path.read_bytes()
        assert hashlib.sha256(_read(store.open(oid))).hexdigest() == oid
        size = sizes[name]
        for start, end in [(0, size), (0, None), (size, None), (size, size), (0, 0)]:
            assert _read(store.open(oid, start, end)) == data[start:end], (name, start, end)
        if size:
            for start, end in [(1, 100), (size - 10, None), (size // 3, size + 50), (7, 8)]:
                assert _read(store.open(oid, start, end)) == data[start:end], (name, start, end)
    large_oid, large = blobs["large"]
    # A range across the SSH read-ahead window boundary (8 MiB) and 1 MiB chunking.
    with open(large, "rb") as f:
        f.seek(7 * MiB + 3)
        expected = f.read(2 * MiB)
    assert _read(store.open(large_oid, 7 * MiB + 3, 9 * MiB + 3)) == expected


def test_layout_and_no_temp_files(any_store: Kind, tmp_path: Path) -> None:
    oid, path = _blob(tmp_path, 4096, 1)
    any_store.store.upload(oid, 4096, FileSource(path), lambda n: None)
    any_store.store.upload(oid, 4096, FileSource(path), lambda n: None)  # again: fine, still one object
    assert object_key(oid) == f"objects/{oid[:2]}/{oid[2:4]}/{oid}"
    assert any_store.keys() == {object_key(oid)}
    assert any_store.read_key(object_key(oid)) == path.read_bytes()


def test_prepare_push_writes_format(any_store: Kind) -> None:
    any_store.store.prepare_push()
    any_store.store.prepare_push()  # idempotent
    assert any_store.keys() == {"git-lazy.json"}
    assert json.loads(any_store.read_key("git-lazy.json")) == {"format": 1}

    any_store.write_key("git-lazy.json", b'{"format": 2}\n')
    with pytest.raises(StoreError, match="format 2"):
        any_store.store.prepare_push()


def test_absent_object_and_bad_oids(any_store: Kind, tmp_path: Path) -> None:
    store = any_store.store
    with pytest.raises(ObjectMissing):
        _read(store.open(ABSENT))
    with pytest.raises(ObjectMissing):
        store.open(ABSENT, 0, 0)
    path = tmp_path / "x"
    path.write_bytes(b"x")
    for bad in ("../../../etc/passwd", "A" * 64, "0" * 63, "0" * 64 + "/x"):
        with pytest.raises(BadOid, match="malformed oid"):
            store.missing({bad: 1})
        with pytest.raises(BadOid, match="malformed oid"):
            store.open(bad)
        with pytest.raises(BadOid, match="malformed oid"):
            store.upload(bad, 1, FileSource(path), lambda n: None)
    assert any_store.keys() == set()


def test_killed_upload_leaves_no_object(any_store: Kind, tmp_path: Path) -> None:
    size = 12 * MiB  # streamed: S3 takes objects up to 8 MiB in one request from memory
    oid, path = _blob(tmp_path, size, 7)
    run_killed_upload(any_store.fixture.url, oid, size, path, 6 * MiB)

    assert any_store.store.missing({oid: size}) == {oid}
    with pytest.raises(ObjectMissing):
        any_store.store.open(oid)
    # Only hidden temp names may remain, never the object's own name.
    left = any_store.keys()
    assert all(Path(key).name.startswith(f".{oid}.tmp-") for key in left)
    if any_store.name != "s3":  # S3 keeps a multipart upload instead (test_s3.py)
        assert left
        for key in left:  # as old as a dead writer's: the next upload beside them sweeps them
            os.utime(any_store.fixture.root / key, (time.time() - 2 * 86400,) * 2)

    any_store.store.upload(oid, size, FileSource(path), lambda n: None)  # a rerun completes
    assert hashlib.sha256(_read(any_store.store.open(oid))).hexdigest() == oid
    assert any_store.keys() == {object_key(oid)}


@pytest.mark.parametrize("size", [0, 5, 3 * MiB])
def test_local_bytes_that_do_not_match_their_oid_are_never_published(
    any_store: Kind, tmp_path: Path, size: int
) -> None:
    from git_lazydata.errors import ChecksumMismatch

    oid, path = _blob(tmp_path, size, seed=21)
    path.write_bytes(b"x" * size if size else b"")  # same size, other bytes (for 0: other oid)
    if size == 0:
        oid = hashlib.sha256(b"not empty").hexdigest()
    with pytest.raises(ChecksumMismatch):
        any_store.store.upload(oid, size, FileSource(path), lambda n: None)
    assert any_store.store.missing({oid: size}) == {oid}
    assert not [k for k in any_store.keys() if k.startswith("objects/")]


def test_multipart_upload_of_a_rotten_file_is_refused(s3_store: Any, tmp_path: Path) -> None:
    from git_lazydata.errors import ChecksumMismatch

    store = open_store(parse_store_url(s3_store.url), multipart_threshold=str(5 * MiB), part_size=str(5 * MiB))
    oid, path = _blob(tmp_path, 11 * MiB, seed=22)
    with open(path, "r+b") as f:
        f.seek(7 * MiB)
        f.write(b"rot")
    with pytest.raises(ChecksumMismatch):
        store.upload(oid, 11 * MiB, FileSource(path), lambda n: None)
    assert store.missing({oid: 11 * MiB}) == {oid}
    store.close()


def test_missing_lists_shards_for_big_sets(s3_store: Any, tmp_path: Path) -> None:
    store = open_store(parse_store_url(s3_store.url))
    present = []
    for seed in range(3):
        oid, path = _blob(tmp_path, 100, seed=30 + seed)
        store.upload(oid, 100, FileSource(path), lambda n: None)
        present.append(oid)
    # In one shard: the listing costs a request per shard, and each is slow on a shared server.
    absent = ["00" + hashlib.sha256(str(i).encode()).hexdigest()[2:] for i in range(400)]
    prefix = parse_store_url(s3_store.url).prefix
    stray = f"{prefix}/objects/00/{absent[0]}.tmp\x1b[2J"  # another tool's temp file, say
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=stray, Body=b"x")
    # Listed at another size than the pointer says: as good as absent.
    assert store.missing({**dict.fromkeys(present + absent, 100), present[0]: 99}) == {*absent, present[0]}
    assert store.warnings == [f"{store.url}: ignoring {stray!r} in the listing (not an object)"]
    store.close()


def test_list_delete_and_sweep(any_store: Kind, tmp_path: Path) -> None:
    store = any_store.store
    blobs = [_blob(tmp_path, size, seed) for seed, size in enumerate([10, 3000, 0])]
    for oid, path in blobs:
        store.upload(oid, path.stat().st_size, FileSource(path), lambda n: None)
    oid0, path0 = blobs[0]
    stray = f"objects/{oid0[:2]}/{oid0[2:4]}/notes.txt"
    any_store.write_key(stray, b"not an object")
    assert sorted(store.list()) == sorted((oid, path.stat().st_size) for oid, path in blobs)
    assert any("notes.txt" in w for w in store.warnings)

    assert store.delete(oid0) is True
    assert store.delete(oid0) is False
    assert store.missing({oid0: 10}) == {oid0}
    assert {oid for oid, _ in store.list()} == {blobs[1][0], blobs[2][0]}

    if any_store.name == "s3":  # S3 keeps unfinished multipart uploads, not temp files
        client, key = any_store.fixture.client, f"{any_store.fixture.prefix}/{object_key(oid0)}"
        upload_id = client.create_multipart_upload(Bucket=any_store.fixture.bucket, Key=key)["UploadId"]
        client.upload_part(Bucket=any_store.fixture.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x")
        assert store.sweep(86400) == 0  # a part written within the day: still at work
        assert store.sweep(0) == 1
        uploads = client.list_multipart_uploads(Bucket=any_store.fixture.bucket).get("Uploads", [])
        assert upload_id not in {u["UploadId"] for u in uploads}
        return
    folder = any_store.fixture.root / f"objects/{oid0[:2]}/{oid0[2:4]}"
    old, young = folder / f".{oid0}.tmp-0123456789abcdef", folder / f".{oid0}.tmp-fedcba9876543210"
    old.write_bytes(b"left by a killed upload")
    young.write_bytes(b"an upload still at work")
    os.utime(old, (time.time() - 2 * 86400,) * 2)
    os.utime(young, (time.time() - 3 * 3600,) * 2)
    assert store.sweep(86400) == 1
    assert not old.exists() and young.exists()
