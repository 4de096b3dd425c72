"""Writing files out after a download: a file that cannot be written is named, stays a
pointer, and the command fails (a hook says how to finish instead of failing git)."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

from lazyhelpers import assert_clean_status, clone, commit_files, fresh_cache, git, is_pointer, lazy


def _pushed_and_cloned(folder_store: object, repo: Path, tmp_path: Path, files: dict[str, bytes]) -> Path:
    """Push ``files`` from ``repo``; return a clone with its own empty cache, files as pointers."""
    commit_files(repo, files)
    lazy(repo, "remote", "add", "lake", folder_store.url)
    commit_files(repo, {".lazyconfig": (repo / ".lazyconfig").read_bytes()})
    lazy(repo, "push", "--all")
    fresh_cache(tmp_path, "cache2")
    return clone(repo, tmp_path / "clone")


def test_fetch_into_a_folder_that_became_a_symlink_fails_naming_the_file(
    folder_store: object, repo: Path, tmp_path: Path
) -> None:
    other = _pushed_and_cloned(folder_store, repo, tmp_path, {"d/a.bin": b"data"})
    (tmp_path / "elsewhere").mkdir()
    (other / "d" / "a.bin").rename(tmp_path / "elsewhere" / "a.bin")
    (other / "d").rmdir()
    (other / "d").symlink_to(tmp_path / "elsewhere")
    proc = lazy(other, "fetch", "--all", check=False)
    assert proc.returncode == 1
    lines = proc.stderr.decode().splitlines()
    assert "skipped d/a.bin: beyond a symlink (d)" in lines
    assert lines[-1] == "git-lazy: 1 file(s) could not be written"
    assert is_pointer(tmp_path / "elsewhere" / "a.bin")  # nothing written through the link


def _file_size_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))


def test_a_file_size_limit_fails_fetch_and_the_hook_says_how_to_finish(
    folder_store: object, repo: Path, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    other = _pushed_and_cloned(folder_store, repo, tmp_path, {"big.bin": data})
    lazy(other, "fetch", "--rev", "HEAD", "big.bin")  # into the cache only
    limited = subprocess.run(["git", "lazy", "fetch", "big.bin"], cwd=other, capture_output=True,
                             preexec_fn=_file_size_limit)
    assert limited.returncode == 1
    assert "skipped big.bin: File too large" in limited.stderr.decode()
    assert is_pointer(other / "big.bin")

    git(other, "config", "lazy.smudgemax", "1k")  # the hook writes it, not git
    git(other, "config", "--unset", "lazy.fetchexclude")  # hooks bring every file again
    git(other, "checkout", "-q", "--detach", "HEAD~2")  # before the file was added
    switched = subprocess.run(["git", "checkout", "-q", "main"], cwd=other, capture_output=True,
                              preexec_fn=_file_size_limit)
    assert switched.returncode == 0
    err = switched.stderr.decode()
    assert "skipped big.bin: File too large" in err and "run 'git lazy pull'" in err
    assert is_pointer(other / "big.bin")
    lazy(other, "pull")
    assert (other / "big.bin").read_bytes() == data
    assert_clean_status(other)
