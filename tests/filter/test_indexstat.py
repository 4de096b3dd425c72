"""Writing files out puts their stat data into git's index without git reading them again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from lazyhelpers import assert_clean_status, git, lazy, pointer_clone

from git_lazydata.indexstat import Recorded, record_written
from git_lazydata.written import Written, identity


def repo_and_clone(tmp_path: Path, files: dict[str, bytes], *init: str) -> tuple[Path, Path]:
    """Commit ``files`` in a new repository and clone it with the tracked files left as pointers."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", *init)
    lazy(repo, "track", "*.bin")
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    clone = pointer_clone(repo, tmp_path / "clone")
    assert (clone / "a.bin").read_bytes().startswith(b"version https://git-lfs")
    return repo, clone


def checkout_traced(clone: Path, tmp_path: Path) -> list[str]:
    """Run ``git lazy checkout``; return the git commands it ran."""
    trace = tmp_path / "trace"
    lazy(clone, "checkout", env={**os.environ, "GIT_TRACE": str(trace)})
    return trace.read_text().splitlines()


@pytest.mark.parametrize(("version", "init"), [
    ("2", ()), ("3", ()), ("4", ()), ("2", ("--object-format=sha256",)),
])
def test_written_files_are_clean_in_every_index_format(tmp_path: Path, version: str, init: tuple[str, ...]) -> None:
    files = {"a.bin": os.urandom(300_000), "b.bin": os.urandom(5_000), "notes.txt": b"plain\n"}
    # Long names sharing a prefix: version 4 stores the second as a suffix of the first.
    for tail in ("y" * 100 + ".bin", "y" * 90 + ".bin"):
        files["d/" + "x" * 120 + "/" + tail] = os.urandom(1_000)
    repo, clone = repo_and_clone(tmp_path, files, *init)
    git(clone, "update-index", "--index-version", version)
    if version == "3":
        git(clone, "update-index", "--skip-worktree", "notes.txt")  # extended flags in the index

    trace = checkout_traced(clone, tmp_path)
    for name in files:
        assert (clone / name).read_bytes() == (repo / name).read_bytes()
    # Nothing read the files back through the filter (git starts none)...
    assert not [line for line in trace if "filter-process" in line]
    # ...and diff-files, which trusts the index's stat data, finds them clean.
    assert git(clone, "diff-files", "--name-only").stdout == b""
    assert int.from_bytes((clone / ".git" / "index").read_bytes()[4:8], "big") == int(version)
    git(clone, "fsck", "--no-dangling", "--no-progress")  # the index checksum holds
    assert_clean_status(clone)


def test_a_split_index_is_left_to_git(tmp_path: Path) -> None:
    repo, clone = repo_and_clone(tmp_path, {"a.bin": os.urandom(200_000)})
    git(clone, "update-index", "--split-index")
    trace = checkout_traced(clone, tmp_path)
    assert [line for line in trace if "filter-process" in line]
    assert (clone / "a.bin").read_bytes() == (repo / "a.bin").read_bytes()
    assert git(clone, "diff-files", "--name-only").stdout == b""
    assert_clean_status(clone)


def test_a_racily_clean_neighbour_is_still_compared(tmp_path: Path) -> None:
    # notes.txt was recorded in the index's own clock tick, then changed with its size
    # and mtime kept: git only trusts such an entry after comparing content, and
    # rewriting the index at a later time must not make it trusted.
    data = os.urandom(200_000)
    repo, clone = repo_and_clone(tmp_path, {"a.bin": data, "notes.txt": b"before\n"})
    git(clone, "config", "core.trustctime", "false")  # so that only mtime and size tell
    notes, index = clone / "notes.txt", clone / ".git" / "index"
    tick = os.stat(notes).st_mtime_ns - 10 * 10**9  # seconds ago: git compares whole seconds
    os.utime(notes, ns=(tick, tick))
    git(clone, "update-index", "-q", "--refresh")  # the entry now holds that mtime
    notes.write_bytes(b"after!\n")
    os.utime(notes, ns=(tick, tick))
    os.utime(index, ns=(tick, tick))  # ...which was the index's own tick

    (clone / "a.bin").write_bytes(data)  # written out, as materialize does
    written = Written(b"a.bin", hashlib.sha256(data).hexdigest(), identity(os.lstat(clone / "a.bin")))
    assert record_written(str(clone), str(index), "sha1", {b"a.bin": written}) == Recorded({b"a.bin"}, True)
    assert os.stat(index).st_mtime_ns > tick + 5 * 10**9
    assert git(clone, "status", "--porcelain").stdout == b" M notes.txt\n"


def test_a_locked_index_is_not_written(tmp_path: Path) -> None:
    _, clone = repo_and_clone(tmp_path, {"a.bin": os.urandom(200_000)})
    index = clone / ".git" / "index"
    before = index.read_bytes()
    (clone / ".git" / "index.lock").write_bytes(b"")  # another git command holds it
    lazy(clone, "checkout", check=False)
    assert index.read_bytes() == before
    assert (clone / ".git" / "index.lock").read_bytes() == b""
