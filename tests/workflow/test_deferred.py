"""Files of a few MiB: left by the filter to the post-checkout hook where it runs, never elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

from lazyhelpers import assert_clean_status, git

MEDIUM = 1024 * 1024 + 4096  # above deferred.DEFER_MIN
SMALL = 4096


def hook_written(path: Path) -> bool:
    """Files the hook writes are back-dated a second before their link into place (checkout.py)."""
    st = os.lstat(path)
    return st.st_ctime_ns - st.st_mtime_ns >= 900_000_000


def two_branches(repo: Path) -> dict[str, bytes]:
    """Commit a medium and a small file on ``main``; branch ``empty`` has neither."""
    files = {"data/medium.bin": os.urandom(MEDIUM), "data/small.bin": os.urandom(SMALL)}
    (repo / "data").mkdir()
    for name, data in files.items():
        (repo / name).write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    git(repo, "branch", "-M", "main")
    git(repo, "checkout", "-q", "-b", "empty")
    git(repo, "rm", "-r", "-q", "data")
    git(repo, "commit", "-q", "-m", "empty")
    return files


def assert_written(repo: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert (repo / name).read_bytes() == data, name
    # diff-files trusts the index's stat data: the hook recorded what it wrote.
    assert git(repo, "diff-files", "--name-only").stdout == b""
    assert_clean_status(repo)
    assert not (repo / ".git" / "lazy-deferred").exists()


def test_a_branch_switch_leaves_medium_files_to_the_hook(repo: Path) -> None:
    files = two_branches(repo)
    # Global options before the command, as scripts and aliases pass them.
    git(repo, "-c", "core.quotepath=off", "--no-pager", "checkout", "-q", "main")
    assert_written(repo, files)
    assert hook_written(repo / "data/medium.bin")
    assert not hook_written(repo / "data/small.bin")  # small files stay with the filter

    git(repo, "switch", "-q", "empty")
    git(repo, "switch", "-q", "main")
    assert_written(repo, files)
    assert hook_written(repo / "data/medium.bin")


def test_a_path_checkout_and_a_forced_checkout_are_written_too(repo: Path) -> None:
    files = two_branches(repo)
    git(repo, "checkout", "-q", "main")
    (repo / "data/medium.bin").unlink()
    git(repo, "checkout", "main", "--", "data/medium.bin")  # post-checkout with flag 0
    assert_written(repo, files)
    assert hook_written(repo / "data/medium.bin")

    (repo / "data/medium.bin").unlink()
    git(repo, "checkout", "-q", "-f")  # same HEAD: nothing changed between the trees
    assert_written(repo, files)


def test_commands_without_a_hook_get_every_file_from_the_filter(repo: Path) -> None:
    files = two_branches(repo)
    git(repo, "checkout", "-q", "main")
    for command in (["reset", "-q", "--hard"], ["restore", "data/medium.bin"], ["stash", "-q"]):
        (repo / "data/medium.bin").write_bytes(b"changed")
        git(repo, *command)
        assert (repo / "data/medium.bin").read_bytes() == files["data/medium.bin"], command
        assert not hook_written(repo / "data/medium.bin")
    git(repo, "checkout", "-q", "empty")
    git(repo, "cherry-pick", "main")  # brings the data back: no hook runs
    assert_written(repo, files)
    assert not hook_written(repo / "data/medium.bin")


def test_nothing_is_deferred_when_the_hook_is_not_ours(repo: Path, tmp_path: Path) -> None:
    files = two_branches(repo)
    hooks = tmp_path / "other-hooks"
    hooks.mkdir()
    (hooks / "post-checkout").write_text("#!/bin/sh\nexit 0\n")
    (hooks / "post-checkout").chmod(0o755)
    git(repo, "config", "core.hooksPath", str(hooks))
    git(repo, "checkout", "-q", "main")
    assert_written(repo, files)
    assert not hook_written(repo / "data/medium.bin")
