"""push and fetch through every kind of store, as a user runs them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lazyhelpers import (
    assert_cached,
    assert_clean_status,
    clone,
    commit_files,
    corrupt,
    corrupt_cached,
    fresh_cache,
    git,
    lazy,
    object_path,
    pointer_text,
    sha256_file,
    store_objects,
    uncache,
    write_stream,
)

FILES = {"a.bin": b"alpha" * 1000, "d/b.bin": os.urandom(3 * 1024 * 1024), "d/e/c.bin": b"gamma\n"}


def test_push_dedup_then_lazy_fetch(folder_store: object, repo: Path, tmp_path: Path) -> None:
    oids = commit_files(repo, FILES)
    lazy(repo, "remote", "add", "lake", folder_store.url)
    git(repo, "add", ".lazyconfig")
    git(repo, "commit", "-q", "-m", "store")
    first = lazy(repo, "push", "--all")
    assert "Uploaded 3 object(s)" in first.stderr.decode()
    second = lazy(repo, "push", "--all")
    assert "Uploaded 0 object(s) (0 B) to lake; 3 already there." in second.stderr.decode()

    fresh_cache(tmp_path, "cache2")
    other = clone(repo, tmp_path / "clone")
    assert (other / "a.bin").read_bytes() == pointer_text(oids["a.bin"], 5000)
    lazy(other, "fetch", "d/e")
    assert (other / "d/e/c.bin").read_bytes() == b"gamma\n"
    assert (other / "a.bin").read_bytes() == pointer_text(oids["a.bin"], 5000)
    assert_clean_status(other)
    lazy(other / "d", "fetch", "--all")  # from a subfolder: still every file
    for name, data in FILES.items():
        assert (other / name).read_bytes() == data
    assert_clean_status(other)


def test_fetch_a_revision_fills_the_cache_only(folder_store: object, repo: Path, tmp_path: Path) -> None:
    oids = commit_files(repo, {"a.bin": b"old"})
    git(repo, "tag", "v1")
    lazy(repo, "remote", "add", "lake", folder_store.url)
    commit_files(repo, {"a.bin": b"new"})
    lazy(repo, "push", "--all")
    cache = fresh_cache(tmp_path, "cache2")
    other = clone(repo, tmp_path / "clone")
    lazy(other, "fetch", "--rev", "v1", "a.bin")
    assert_cached(oids["a.bin"], b"old", cache)
    assert (other / "a.bin").read_bytes().startswith(b"version ")


def test_corrupt_object_in_first_store_is_healed_from_the_second(
    folder_store: object, repo: Path, tmp_path: Path
) -> None:
    oids = commit_files(repo, {"a.bin": b"precious bytes" * 100})
    lazy(repo, "remote", "add", "first", folder_store.url)
    (tmp_path / "second").mkdir()
    lazy(repo, "remote", "add", "second", str(tmp_path / "second"))
    lazy(repo, "push", "first", "--all")
    lazy(repo, "push", "second", "--all")
    oid = oids["a.bin"]
    corrupt(object_path(folder_store.root, oid), b"rotten bytes" * 100)
    cache = fresh_cache(tmp_path, "cache2")
    proc = lazy(repo, "fetch", "--rev", "HEAD", "a.bin")
    assert "first: object " + oid + " is corrupt" in proc.stderr.decode()
    assert_cached(oid, b"precious bytes" * 100, cache)
    assert list((cache / "tmp").iterdir()) == []


def test_object_missing_everywhere_fails_with_one_line_per_object(
    folder_store: object, repo: Path, tmp_path: Path
) -> None:
    commit_files(repo, {"a.bin": b"never pushed"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    fresh_cache(tmp_path, "cache2")
    proc = lazy(repo, "fetch", "--rev", "HEAD", "a.bin", check=False)
    assert proc.returncode == 1
    lines = proc.stderr.decode().splitlines()
    assert lines[-1] == "git-lazy: 1 object(s) could not be downloaded"
    assert any(line.startswith("failed: ") and "not in lake" in line for line in lines)


def test_corrupt_local_object_is_not_uploaded(folder_store: object, repo: Path) -> None:
    oids = commit_files(repo, {"good.bin": b"good", "bad.bin": b"will rot"})
    corrupt_cached(oids["bad.bin"], b"rotten!!")
    lazy(repo, "remote", "add", "lake", folder_store.url)
    proc = lazy(repo, "push", "--all", check=False)
    assert proc.returncode == 1
    assert f"failed: bad.bin: expected sha256 {oids['bad.bin']}" in proc.stderr.decode()
    assert store_objects(folder_store.root) == [oids["good.bin"]]


def peak_rss_mib(cwd: Path, *argv: str) -> float:
    """Run a command; return the peak RSS, in MiB, of the biggest process it started."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe, *argv], cwd=cwd, capture_output=True, check=True)
    return int(proc.stdout) / 1024


def test_a_file_over_the_memory_bound_goes_through_add_push_fetch_and_write(
    folder_store: object, repo: Path, tmp_path: Path
) -> None:
    # Held whole in memory anywhere, it would take any process over the bound. Over
    # lazy.smudgemax too (lowered for the test), so the hooks write it, not git's buffer.
    git(None, "config", "--global", "lazy.smudgemax", "64M")
    size = (160 << 20) + 12345
    oid = write_stream(repo / "big.bin", size, seed=3)
    lazy(repo, "remote", "add", "lake", folder_store.url)
    peaks = {"add": peak_rss_mib(repo, "git", "add", "big.bin", ".lazyconfig")}
    git(repo, "commit", "-q", "-m", "big")
    peaks["push"] = peak_rss_mib(repo, "git", "lazy", "push", "--all")
    fresh_cache(tmp_path, "cache2")
    other = clone(repo, tmp_path / "clone")
    peaks["fetch"] = peak_rss_mib(other, "git", "lazy", "fetch", "big.bin")
    assert sha256_file(other / "big.bin") == oid
    git(other, "checkout", "-q", "--detach", "HEAD~1")  # a commit without the file
    peaks["checkout"] = peak_rss_mib(other, "git", "checkout", "-q", "main")
    assert sha256_file(other / "big.bin") == oid
    assert_clean_status(other)
    assert max(peaks.values()) < 150, f"peak RSS in MiB: {peaks}"


def test_fetch_refuses_to_write_where_the_filter_is_not_set_up(folder_store: object, repo: Path, tmp_path: Path) -> None:
    commit_files(repo, {"a.bin": b"payload"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    git(repo, "add", ".lazyconfig")
    git(repo, "commit", "-q", "-m", "store")
    lazy(repo, "push", "--all")
    lazy(None, "uninstall")  # no filter anywhere, as on a machine without git-lazy set up
    fresh_cache(tmp_path, "cache2")
    other = tmp_path / "clone"
    git(None, "clone", "-q", str(repo), str(other))
    proc = lazy(other, "fetch", "a.bin", check=False)
    assert proc.returncode == 1
    assert "run 'git lazy install'" in proc.stderr.decode()
    assert (other / "a.bin").read_bytes().startswith(b"version https://git-lfs")
    assert_clean_status(other)


def test_fetch_of_a_path_that_matches_nothing_says_so(folder_store: object, repo: Path) -> None:
    commit_files(repo, {"a.bin": b"x"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    proc = lazy(repo, "fetch", "no/such/path", check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode() == "git-lazy: no git-lazy file matches no/such/path\n"


def test_push_fails_on_objects_that_exist_nowhere_naming_the_path(folder_store: object, repo: Path) -> None:
    oids = commit_files(repo, {"a.bin": b"will vanish", "b.bin": b"kept"})
    uncache(oids["a.bin"])
    lazy(repo, "remote", "add", "lake", folder_store.url)
    proc = lazy(repo, "push", "--all", check=False)
    assert proc.returncode == 1
    lines = proc.stderr.decode().splitlines()
    assert "failed: a.bin: neither in the local cache nor in lake" in lines
    assert lines[-1] == "git-lazy: 1 object(s) could not be uploaded to lake"
    assert store_objects(folder_store.root) == [oids["b.bin"]]  # the rest still went up


def test_push_takes_revisions_without_a_store_name_and_refuses_options(folder_store: object, repo: Path) -> None:
    commit_files(repo, {"a.bin": b"by revision"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    assert "Uploaded 1 object(s)" in lazy(repo, "push", "HEAD").stderr.decode()
    proc = lazy(repo, "push", "lake", "--", "--output=pwned", check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode() == "git-lazy: not a revision: '--output=pwned'\n"
    assert not (repo / "pwned").exists()


def test_remote_add_refuses_a_name_in_use_and_set_url_changes_it(folder_store: object, repo: Path, tmp_path: Path) -> None:
    lazy(repo, "remote", "add", "lake", folder_store.url)
    proc = lazy(repo, "remote", "add", "lake", str(tmp_path / "elsewhere"), check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode() == (
        "git-lazy: store 'lake' already exists; change its URL with 'git lazy remote set-url lake URL'\n"
    )
    assert not (tmp_path / "elsewhere").exists()
    out = lazy(repo, "remote", "set-url", "lake", str(tmp_path / "elsewhere")).stdout.decode()
    assert f"Created the store folder {tmp_path / 'elsewhere'}." in out
    assert lazy(repo, "remote", "list").stdout.decode().startswith(f"lake\t{tmp_path / 'elsewhere'}")
    commit_files(repo, {"a.bin": b"goes to the new place"})
    lazy(repo, "push")
    assert (tmp_path / "elsewhere" / "objects").is_dir()


def test_a_push_never_creates_a_missing_store_folder(repo: Path, tmp_path: Path) -> None:
    share = tmp_path / "mnt" / "team"
    share.mkdir(parents=True)
    lazy(repo, "remote", "add", "share", str(share / "lake"))  # made by remote add
    (share / "lake").rmdir()  # as when the share is not mounted
    commit_files(repo, {"a.bin": b"x"})
    proc = lazy(repo, "push", check=False)
    assert proc.returncode == 1
    assert "folder does not exist (is it mounted?)" in proc.stderr.decode()
    assert not (share / "lake").exists()


def test_remote_add_refuses_a_folder_whose_parent_is_missing(repo: Path, tmp_path: Path) -> None:
    proc = lazy(repo, "remote", "add", "lake", str(tmp_path / "no" / "such" / "lake"), check=False)
    assert proc.returncode == 1 and "does not exist" in proc.stderr.decode()
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("typo", ["s3:/bucket/data", "nas:", "https:/host/x"])
def test_remote_add_refuses_likely_typos(repo: Path, typo: str) -> None:
    proc = lazy(repo, "remote", "add", "lake", typo, check=False)
    assert proc.returncode == 1
    assert len(proc.stderr.splitlines()) == 1
    assert not (repo / ".lazyconfig").exists()


def test_checkout_of_a_path_that_matches_nothing_fails(repo: Path) -> None:
    commit_files(repo, {"a.bin": b"x"})
    proc = lazy(repo, "checkout", "no/such", check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode() == "git-lazy: no git-lazy file matches no/such\n"


def test_a_failed_fetch_names_each_path_once_then_sums_up(folder_store: object, repo: Path, tmp_path: Path) -> None:
    commit_files(repo, {"d/one.bin": b"same bytes", "d/two.bin": b"same bytes", "d/three.bin": b"other"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    git(repo, "add", ".lazyconfig")
    git(repo, "commit", "-q", "-m", "store")
    lazy(repo, "push")
    oid = hashlib.sha256(b"same bytes").hexdigest()
    object_path(folder_store.root, oid).unlink()
    fresh_cache(tmp_path, "cache2")
    other = clone(repo, tmp_path / "clone")
    proc = lazy(other, "fetch", "d", check=False)
    assert proc.returncode == 1
    lines = proc.stderr.decode().splitlines()
    assert [ln for ln in lines if ln.startswith("failed: ")] == [
        "failed: d/one.bin: not in lake", "failed: d/two.bin: not in lake"
    ]
    assert lines[-1] == "git-lazy: 1 object(s) could not be downloaded"
    assert (other / "d/three.bin").read_bytes() == b"other"
