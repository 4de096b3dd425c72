"""How many transfers run at once when the user does not say (lazy.concurrency)."""

from __future__ import annotations

from pathlib import Path

from git_lazydata.cache import Cache
from git_lazydata.pointer import Pointer
from git_lazydata.stores import open_store
from git_lazydata.stores.urls import parse_store_url
from git_lazydata.transfer import DEFAULT_JOBS, default_jobs

SMALL = [Pointer(f"{n:064x}", 16 * 1024) for n in range(100)]
MIXED = [*SMALL, Pointer("f" * 64, 4 * 1024 * 1024)]


def test_small_objects_to_and_from_s3_run_many_at_once(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    s3 = open_store(parse_store_url("s3://bucket/prefix"), endpoint="http://127.0.0.1:9")
    ssh = open_store(parse_store_url("ssh://example.invalid/srv/store"))
    folder = open_store(parse_store_url(str(tmp_path)))
    assert default_jobs([s3], cache, SMALL) == 32  # fetch
    assert default_jobs([cache], s3, SMALL) == 32  # push
    assert default_jobs([s3], cache, MIXED) == DEFAULT_JOBS  # big objects: bandwidth, memory
    assert default_jobs([s3, ssh], cache, SMALL) == DEFAULT_JOBS  # as many as every store takes
    assert default_jobs([ssh], cache, SMALL) == DEFAULT_JOBS
    assert default_jobs([folder], cache, SMALL) == 1  # local: threads only queue for the interpreter
