"""Care of data over time: copy between stores, prune, and a cache kept within lazy.cachemax."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from lazyhelpers import (
    assert_cached,
    cache_dir,
    cache_objects,
    clone,
    commit_files,
    corrupt,
    git,
    lazy,
    object_path,
    refute_cached,
)
from servers import TcpProxy, s3_client

MiB = 1 << 20


def _snapshot(cache: Path) -> dict[str, tuple[int, int]]:
    """Every file in the cache with its size and mtime: what "untouched" means."""
    return {str(p.relative_to(cache)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in cache.rglob("*") if p.is_file() and p.parent.name != "repos" and p.name != "stores.db"
            and not p.name.startswith("stores.db")}


def _age(cache: Path, days: float = 3) -> None:
    """Make every cached object look unused for ``days``."""
    old = time.time() - days * 86400
    for path in (cache / "objects").rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))


def test_copy_between_every_kind_of_store_verifies_and_leaves_the_cache_alone(
    repo: Path, folder_store: object, s3_store: object, ssh_store: object, tmp_path: Path
) -> None:
    files = {"a.bin": b"alpha" * 1000, "big.bin": os.urandom(3 * MiB), "sub/c.bin": b"c"}
    lazy(repo, "remote", "add", "lake", folder_store.url)
    oids = commit_files(repo, files)
    lazy(repo, "push")
    backup, backup2, box2 = tmp_path / "backup", tmp_path / "backup2", ssh_store.root.parent / "sshstore2"
    for folder in (backup, backup2, box2):
        folder.mkdir()
    bucket2 = f"{s3_store.bucket}-2"
    s3_store.client.create_bucket(Bucket=bucket2)
    lazy(repo, "remote", "add", "cloud", s3_store.url)
    lazy(repo, "remote", "add", "box", ssh_store.url)
    lazy(repo, "remote", "add", "backup", str(backup))
    lazy(repo, "remote", "add", "box2", f"ssh://lazytest{box2}")
    lazy(repo, "remote", "add", "cloud2", f"s3://{bucket2}/two")
    lazy(repo, "remote", "add", "backup2", str(backup2))
    before = _snapshot(cache_dir())

    # Every ordered pair of kinds: folder -> S3 -> SSH -> folder, then folder -> SSH ->
    # S3 -> folder.
    for source, dest in [("lake", "cloud"), ("cloud", "box"), ("box", "backup"),
                         ("lake", "box2"), ("box2", "cloud2"), ("cloud2", "backup2")]:
        proc = lazy(repo, "copy", "--from", source, "--to", dest)
        assert "Copied 3 object(s)" in proc.stderr.decode(), proc.stderr.decode()
    assert s3_store.objects() == ssh_store.objects() == set(oids.values())
    for name, data in files.items():
        for folder in (backup, backup2, box2):
            assert object_path(folder, oids[name]).read_bytes() == data
        key = f"two/objects/{oids[name][:2]}/{oids[name][2:4]}/{oids[name]}"
        assert s3_store.client.get_object(Bucket=bucket2, Key=key)["Body"].read() == data
    assert _snapshot(cache_dir()) == before  # nothing entered or left the cache
    proc = lazy(repo, "copy", "--from", "lake", "--to", "backup")
    assert "Copied 0 object(s) (0 B) to backup; 3 already there." in proc.stderr.decode()

    # A corrupt source object is refused, named by its path, and never published.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    lazy(repo, "remote", "add", "fresh", str(fresh))
    corrupt(object_path(Path(folder_store.url), oids["a.bin"]))
    proc = lazy(repo, "copy", "--from", "lake", "--to", "fresh", check=False)
    assert proc.returncode == 1
    assert f"failed: a.bin: expected sha256 {oids['a.bin']}" in proc.stderr.decode()
    assert not object_path(fresh, oids["a.bin"]).exists()
    assert object_path(fresh, oids["big.bin"]).read_bytes() == files["big.bin"]


def test_copy_between_buckets_of_one_s3_service_moves_no_bytes_here(
    repo: Path, s3_store: object, moto_server: object, monkeypatch: object
) -> None:
    other = f"{s3_store.bucket}-2"
    s3_store.client.create_bucket(Bucket=other)
    big = os.urandom(3 * MiB)
    with TcpProxy(("127.0.0.1", int(moto_server.endpoint.rsplit(":", 1)[1]))) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint)
        lazy(repo, "remote", "add", "cloud", s3_store.url)
        lazy(repo, "remote", "add", "mirror", f"s3://{other}/copy")
        oids = commit_files(repo, {"big.bin": big, "small.bin": b"s" * 100})
        lazy(repo, "push", "cloud")
        up, down = proxy.bytes_up, proxy.bytes_down
        proc = lazy(repo, "copy", "--from", "cloud", "--to", "mirror")
        assert "Copied 2 object(s)" in proc.stderr.decode()
        assert proxy.bytes_up - up < MiB and proxy.bytes_down - down < MiB  # requests and replies only
    client = s3_client(moto_server.endpoint)
    body = client.get_object(Bucket=other, Key=f"copy/objects/{oids['big.bin'][:2]}/{oids['big.bin'][2:4]}/{oids['big.bin']}")
    assert hashlib.sha256(body["Body"].read()).hexdigest() == oids["big.bin"]


def test_prune_keeps_what_any_repository_needs_and_what_no_store_holds(
    repo: Path, folder_store: object, tmp_path: Path
) -> None:
    lazy(repo, "remote", "add", "lake", folder_store.url)
    v0 = commit_files(repo, {"x.bin": b"version 0" * 100})["x.bin"]
    v1 = commit_files(repo, {"x.bin": b"version 1" * 100})["x.bin"]
    lazy(repo, "push")
    other = clone(repo, tmp_path / "other")  # shares the cache; its HEAD needs v1
    v2 = commit_files(repo, {"x.bin": b"version 2" * 100})["x.bin"]
    lazy(repo, "push")
    unpushed = commit_files(repo, {"y.bin": b"never pushed" * 10})["y.bin"]
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # y.bin leaves every ref and the work tree
    git(repo, "reflog", "expire", "--expire=now", "--all")
    _age(cache_dir())

    dry = lazy(repo, "prune", "--dry-run").stdout.decode()
    assert "Would remove 1 object(s), 900 B." in dry
    assert_cached(v0)
    out = lazy(repo, "prune").stdout.decode()
    assert "Removed 1 object(s), 900 B." in out and "needed by 2 repositories" in out and "1 in no store" in out
    refute_cached(v0)
    for oid in (v1, v2, unpushed):
        assert_cached(oid)

    # A repository that is gone no longer keeps anything; an object used within the
    # hour is kept whatever else is true.
    shutil.rmtree(other)
    lazy(repo, "prune")
    refute_cached(v1)
    assert_cached(v2)
    lazy(repo, "fetch", "--rev", "HEAD~1", "x.bin")
    out = lazy(repo, "prune").stdout.decode()
    assert_cached(v1)
    assert "1 used within the hour" in out


def test_prune_verify_remote_asks_the_store_and_sweeps_dead_uploads(
    repo: Path, folder_store: object
) -> None:
    lazy(repo, "remote", "add", "lake", folder_store.url)
    gone = commit_files(repo, {"x.bin": b"old" * 100})["x.bin"]
    commit_files(repo, {"x.bin": b"new" * 100})
    lazy(repo, "push", "--all")
    os.unlink(object_path(folder_store.root, gone))  # lost from the store behind our back
    shard = object_path(folder_store.root, gone).parent
    dead = shard / f".{gone}.tmp-00112233445566ff"
    dead.write_bytes(b"half an upload")
    os.utime(dead, (time.time() - 2 * 86400,) * 2)
    _age(cache_dir())

    out = lazy(repo, "prune", "--verify-remote").stdout.decode()
    assert "Removed 0 object(s)" in out and "1 in no store that answered" in out
    assert_cached(gone)
    assert not dead.exists() and "Removed 1 leftover(s)" in out
    # Trusting the record instead, the same object would have gone.
    out = lazy(repo, "prune", "--dry-run").stdout.decode()
    assert "Would remove 1 object(s)" in out


def test_cachemax_evicts_least_recently_used_objects_that_are_in_a_store(
    repo: Path, folder_store: object
) -> None:
    lazy(repo, "remote", "add", "lake", folder_store.url)
    oids = commit_files(repo, {f"{n}.bin": f"{n}.bin".encode() * 300 for n in "abcd"})  # 1,500 B each
    lazy(repo, "push")
    local = commit_files(repo, {"local.bin": b"L" * 3000})["local.bin"]  # never pushed
    uncache_and_point(repo, "d.bin", oids["d.bin"], 1500)
    now = time.time()
    for oid, hours in [(local, 4), (oids["a.bin"], 3), (oids["b.bin"], 2), (oids["c.bin"], 1)]:
        os.utime(object_path(cache_dir(), oid), (now - hours * 3600,) * 2)
    git(repo, "config", "lazy.cachemax", "6100")

    lazy(repo, "fetch", "d.bin")  # 9,000 B cached: over the bound by 2,900
    held = cache_objects(cache_dir())
    assert oids["a.bin"] not in held and oids["b.bin"] not in held  # least recently used first
    assert {local, oids["c.bin"], oids["d.bin"]} <= held  # never the unpushed one
    assert (repo / "a.bin").read_bytes() == b"a.bin" * 300  # its file stays as it was

    git(repo, "config", "lazy.cachemax", "1K")  # cannot be met: only the unpushed object is left
    uncache_and_point(repo, "c.bin", oids["c.bin"], 1500)
    proc = lazy(repo, "fetch", "c.bin")
    assert cache_objects(cache_dir()) == {local}
    assert "over lazy.cachemax" in proc.stderr.decode()


def uncache_and_point(repo: Path, name: str, oid: str, size: int) -> None:
    """Leave ``name`` as a pointer whose object is only in the store."""
    path = object_path(cache_dir(), oid)
    if path.exists():
        os.unlink(path)
    (repo / name).write_bytes(f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode())
