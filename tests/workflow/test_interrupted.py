"""Interrupted and flaky transfers, through the command line, against a real S3 server."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from lazyhelpers import git, lazy, write_stream
from servers import TcpProxy


def s3_keys(s3_store: object) -> list[str]:
    listing = s3_store.client.list_objects_v2(Bucket=s3_store.bucket, Prefix=s3_store.prefix + "/objects/")
    return [o["Key"] for o in listing.get("Contents", [])]


def proxied(s3_store: object, **options: object) -> TcpProxy:
    target = urlparse(s3_store.endpoint)
    return TcpProxy((target.hostname, target.port), **options)


def test_push_killed_mid_upload_leaves_nothing_visible_and_rerun_finishes(
    s3_store: object, repo: Path
) -> None:
    size = 40 * 1024 * 1024
    oid = write_stream(repo / "big.bin", size, seed=11)
    git(repo, "add", "big.bin")
    git(repo, "commit", "-q", "-m", "big")
    with proxied(s3_store) as proxy:
        lazy(repo, "remote", "add", "lake", s3_store.url, "--endpoint", proxy.endpoint)
        push = subprocess.Popen(["git", "lazy", "push", "--all"], cwd=repo, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert proxy.wait_up(size // 3), "the upload never started"
        finally:
            os.killpg(push.pid, signal.SIGKILL)
            push.wait()
        assert s3_keys(s3_store) == []
        lazy(repo, "push", "--all")
    key = f"{s3_store.prefix}/objects/{oid[:2]}/{oid[2:4]}/{oid}"
    assert s3_keys(s3_store) == [key]
    body = s3_store.client.get_object(Bucket=s3_store.bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(1 << 20), b""):
        digest.update(chunk)
    assert digest.hexdigest() == oid


def test_dropped_connection_is_retried(s3_store: object, repo: Path, tmp_path: Path) -> None:
    (repo / "a.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    git(repo, "add", "a.bin")
    git(repo, "commit", "-q", "-m", "a")
    with proxied(s3_store, drop_after=1024 * 1024, drops=1) as proxy:
        lazy(repo, "remote", "add", "lake", s3_store.url, "--endpoint", proxy.endpoint)
        proc = lazy(repo, "push", "--all")
        assert proxy.dropped == 1
    assert "Uploaded 1 object(s)" in proc.stderr.decode()
    assert len(s3_keys(s3_store)) == 1


def test_missing_bucket_is_one_clear_line(s3_store: object, repo: Path) -> None:
    (repo / "a.bin").write_bytes(b"x")
    git(repo, "add", "a.bin")
    git(repo, "commit", "-q", "-m", "a")
    lazy(repo, "remote", "add", "lake", "s3://no-such-bucket-here/p")
    proc = lazy(repo, "push", "--all", check=False)
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert len(err.splitlines()) == 1 and err.startswith("git-lazy: ")
    assert "no-such-bucket-here" in err
