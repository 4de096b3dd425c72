"""Real git through the filter: add, commit, checkout give back the same bytes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from lazyhelpers import (
    assert_cached,
    assert_clean_status,
    assert_pointer,
    git,
    lazy,
    pointer_clone,
    pointer_text,
    sha256_file,
    write_stream,
)

#: git options that check out or add with our filter off (what a filter-less git sees).
NOFILTER = ("-c", "filter.lazy.process=", "-c", "filter.lazy.required=false")


def commit_all(repo: Path, message: str = "data") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def switch_away_and_back(repo: Path) -> None:
    """Check out a branch without the data, then the branch with it again."""
    git(repo, "checkout", "-q", "--orphan", "empty")
    git(repo, "rm", "-rfq", ".")
    git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    assert not [p for p in repo.iterdir() if p.name != ".git"]
    git(repo, "checkout", "-q", "main")


CASES = {
    "tiny": b"hello\n",
    "binary with NUL": bytes(range(256)) * 300,
    "exactly a packet": b"p" * 65516,
    "packet plus one": b"q" * 65517,
    "two packets": b"r" * (2 * 65516),
    "pointer-sized": b"v" * 1023,
    "just past pointer size": b"w" * 1025,
    # clean holds 8 MiB in memory, then goes on into a temp file: the switch must keep every byte.
    "past the memory buffer": bytes(range(256)) * (40 * 1024 * 4 + 1),
}


ODD_NAMES = ["with space.bin", "ünïcødé.bin", "-dash.bin", "sub dir/#hash $x 'q'.bin"]


def test_every_size_and_odd_name_round_trips(repo: Path) -> None:
    # All in one commit and one checkout, as git sends them: one filter process, many files.
    files = {f"{name}.bin": data for name, data in CASES.items()}
    files.update({name: b"content of " + name.encode() for name in ODD_NAMES})
    for name, data in files.items():
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_bytes(data)
    (repo / "empty.bin").write_bytes(b"")
    commit_all(repo)
    for name, data in files.items():
        oid = hashlib.sha256(data).hexdigest()
        assert_pointer(repo, "HEAD", name, oid, len(data))
        assert_cached(oid, data)
    assert git(repo, "cat-file", "-s", "HEAD:empty.bin").stdout.strip() == b"0"  # the empty blob, no pointer
    assert_clean_status(repo)
    switch_away_and_back(repo)
    for name, data in files.items():
        assert (repo / name).read_bytes() == data, name
    assert (repo / "empty.bin").read_bytes() == b""
    assert_clean_status(repo)
    listing = lazy(repo, "ls-files", "--long").stdout.decode()
    for name in ODD_NAMES:
        assert f"{hashlib.sha256(files[name]).hexdigest()} * {name} (" in listing


def test_uncached_object_checks_out_as_its_pointer_and_is_not_modified(repo: Path, tmp_path: Path) -> None:
    (repo / "a.bin").write_bytes(b"A" * 5000)
    commit_all(repo)
    oid = hashlib.sha256(b"A" * 5000).hexdigest()
    clone = tmp_path / "clone"
    os.environ["GIT_LAZY_CACHE_DIR"] = str(tmp_path / "empty-cache")
    git(None, "clone", "-q", str(repo), str(clone))
    assert (clone / "a.bin").read_bytes() == pointer_text(oid, 5000)
    assert_clean_status(clone)
    assert lazy(clone, "ls-files").stdout.decode() == f"{oid[:10]} - a.bin (4.9 KiB)\n"
    # the pointer survives a re-add untouched, and no object appears from it
    git(clone, "add", "--renormalize", ".")
    assert_clean_status(clone)
    assert not (tmp_path / "empty-cache" / "objects").exists()


def test_objects_over_smudgemax_are_materialized_by_the_hook(repo: Path) -> None:
    git(repo, "config", "lazy.smudgemax", "64k")
    oid = write_stream(repo / "big.bin", 300_000, seed=1)
    commit_all(repo)
    switch_away_and_back(repo)
    assert sha256_file(repo / "big.bin") == oid
    assert_clean_status(repo)


def test_git_lazy_checkout_fills_pointers_from_the_cache(repo: Path, tmp_path: Path) -> None:
    (repo / "a.bin").write_bytes(b"payload")
    commit_all(repo)
    clone = pointer_clone(repo, tmp_path / "clone")
    assert (clone / "a.bin").read_bytes().startswith(b"version https://git-lfs")
    lazy(clone, "checkout")
    assert (clone / "a.bin").read_bytes() == b"payload"
    assert_clean_status(clone)


def test_checkout_never_overwrites_a_file_the_user_changed(repo: Path, tmp_path: Path) -> None:
    (repo / "a.bin").write_bytes(b"payload")
    commit_all(repo)
    clone = pointer_clone(repo, tmp_path / "clone")
    (clone / "a.bin").write_bytes(b"my own edit")
    lazy(clone, "checkout")
    assert (clone / "a.bin").read_bytes() == b"my own edit"


def test_checkout_never_writes_through_a_symlinked_folder(repo: Path, tmp_path: Path) -> None:
    (repo / "d").mkdir()
    (repo / "d" / "a.bin").write_bytes(b"payload")
    commit_all(repo)
    clone = pointer_clone(repo, tmp_path / "clone")
    outside = tmp_path / "outside"
    outside.mkdir()
    pointer = (clone / "d" / "a.bin").read_bytes()
    (outside / "a.bin").write_bytes(pointer)
    (clone / "d" / "a.bin").unlink()
    (clone / "d").rmdir()
    (clone / "d").symlink_to(outside)
    proc = lazy(clone, "checkout", check=False)
    assert proc.returncode != 0
    assert b"beyond a symlink" in proc.stderr
    assert (outside / "a.bin").read_bytes() == pointer


def test_pointer_like_text_is_plain_content(repo: Path) -> None:
    fake = pointer_text("A" * 64, 3)  # uppercase oid: not a pointer
    extra = pointer_text("a" * 64, 3) + b"trailing data\n"
    (repo / "fake.bin").write_bytes(fake)
    (repo / "extra.bin").write_bytes(extra)
    commit_all(repo)
    assert_pointer(repo, "HEAD", "fake.bin", hashlib.sha256(fake).hexdigest(), len(fake))
    assert_pointer(repo, "HEAD", "extra.bin", hashlib.sha256(extra).hexdigest(), len(extra))
    switch_away_and_back(repo)
    assert (repo / "fake.bin").read_bytes() == fake
    assert (repo / "extra.bin").read_bytes() == extra


def test_malformed_pointer_committed_without_the_filter_passes_through(repo: Path) -> None:
    bad = pointer_text("a" * 64, 3).replace(b"sha256:", b"sha1:")
    (repo / "bad.bin").write_bytes(bad)
    git(repo, *NOFILTER, "add", "bad.bin")
    git(repo, "commit", "-q", "-m", "bad")
    switch_away_and_back(repo)
    assert (repo / "bad.bin").read_bytes() == bad


def test_worktree(repo: Path, tmp_path: Path) -> None:
    (repo / "a.bin").write_bytes(b"in a worktree")
    commit_all(repo)
    git(repo, "branch", "side")
    wt = tmp_path / "wt dir"
    git(repo, "worktree", "add", "-q", str(wt), "side")
    assert (wt / "a.bin").read_bytes() == b"in a worktree"
    (wt / "b.bin").write_bytes(b"added in the worktree")
    commit_all(wt)
    assert_pointer(wt, "HEAD", "b.bin", hashlib.sha256(b"added in the worktree").hexdigest(), 21)
    assert_clean_status(wt)


def test_git_dir_and_work_tree_variables(repo: Path, tmp_path: Path) -> None:
    (repo / "a.bin").write_bytes(b"via GIT_DIR")
    env = dict(os.environ, GIT_DIR=str(repo / ".git"), GIT_WORK_TREE=str(repo))
    git(tmp_path, "add", "-A", env=env)
    git(tmp_path, "commit", "-q", "-m", "x", env=env)
    assert_pointer(repo, "HEAD", "a.bin", hashlib.sha256(b"via GIT_DIR").hexdigest(), 11)
    assert lazy(tmp_path, "ls-files", env=env).stdout.decode().endswith("* a.bin (11 B)\n")


def test_relative_git_dir_and_work_tree_from_a_subfolder(repo: Path) -> None:
    (repo / "sub").mkdir()
    (repo / "sub" / "a.bin").write_bytes(b"relative")
    env = dict(os.environ, GIT_DIR="../.git", GIT_WORK_TREE="..")
    git(repo / "sub", "add", "-A", env=env)
    git(repo / "sub", "commit", "-q", "-m", "x", env=env)
    proc = lazy(repo / "sub", "ls-files", env=env)
    assert proc.stdout.decode().endswith(" * sub/a.bin (8 B)\n")


def test_repo_path_with_spaces(tmp_path: Path, new_repo: Callable[[Path], Path]) -> None:
    repo = new_repo(tmp_path / "my data repo")
    (repo / "a.bin").write_bytes(b"spaces")
    commit_all(repo)
    switch_away_and_back(repo)
    assert (repo / "a.bin").read_bytes() == b"spaces"
    assert_clean_status(repo)


def test_add_from_a_subfolder_and_status_after_commit(repo: Path) -> None:
    (repo / "nested" / "deeper").mkdir(parents=True)
    for i in range(30):
        (repo / "nested" / "deeper" / f"{i}.bin").write_bytes(os.urandom(2000))
    git(repo / "nested", "add", ".")
    git(repo, "commit", "-q", "-m", "many")
    assert_clean_status(repo)
    assert len(lazy(repo, "ls-files").stdout.splitlines()) == 30


def test_merge_materializes_big_files_through_post_merge(repo: Path) -> None:
    git(repo, "config", "lazy.smudgemax", "64k")
    (repo / "readme.txt").write_text("base\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    oid = write_stream(repo / "big.bin", 200_000, seed=5)
    commit_all(repo, "big")
    git(repo, "checkout", "-q", "main")
    assert not (repo / "big.bin").exists()
    git(repo, "merge", "-q", "--no-edit", "feature")
    assert sha256_file(repo / "big.bin") == oid
    assert_clean_status(repo)


def test_clone_with_a_user_wide_install_gets_hooks_and_big_files(repo: Path, tmp_path: Path) -> None:
    git(repo, "config", "lazy.smudgemax", "64k")
    oid = write_stream(repo / "big.bin", 200_000, seed=9)
    (repo / "small.bin").write_bytes(b"small")
    commit_all(repo)
    clone = tmp_path / "clone"
    # lazy.smudgemax must reach the clone's first checkout: pass it user-wide
    git(None, "config", "--global", "lazy.smudgemax", "64k")
    git(None, "clone", "-q", str(repo), str(clone))
    assert all((clone / ".git" / "hooks" / name).is_file() for name in ("pre-push", "post-checkout", "post-merge"))
    assert sha256_file(clone / "big.bin") == oid
    assert (clone / "small.bin").read_bytes() == b"small"
    assert_clean_status(clone)


def test_a_catch_all_pattern_leaves_git_files_plain(repo: Path) -> None:
    lazy(repo, "track", "*")
    (repo / ".lazyconfig").write_text('[lazy]\n\tremote = lake\n')
    (repo / "a.bin").write_bytes(b"data")
    commit_all(repo)
    assert git(repo, "show", "HEAD:.gitattributes").stdout.startswith(b"*.bin filter=lazy")
    assert git(repo, "show", "HEAD:.lazyconfig").stdout == b"[lazy]\n\tremote = lake\n"
    assert git(repo, "show", "HEAD:a.bin").stdout.startswith(b"version https://git-lfs")


def test_untracked_pattern_is_not_written_out_or_staged(repo: Path, tmp_path: Path) -> None:
    (repo / "a.bin").write_bytes(b"payload")
    commit_all(repo)
    clone = pointer_clone(repo, tmp_path / "clone")
    lazy(clone, "untrack", "*.bin")
    git(clone, "commit", "-q", "-am", "untrack")
    lazy(clone, "checkout")
    assert (clone / "a.bin").read_bytes().startswith(b"version https://git-lfs")
    assert_clean_status(clone)


def test_ls_files_marks_modified_and_deleted_files(repo: Path) -> None:
    (repo / "a.bin").write_bytes(b"A" * 3000)
    (repo / "b.bin").write_bytes(b"B" * 3000)
    (repo / "c.bin").write_bytes(b"C" * 3000)
    commit_all(repo)
    (repo / "a.bin").write_bytes(b"changed")
    (repo / "b.bin").unlink()
    markers = {line.split()[2]: line.split()[1] for line in lazy(repo, "ls-files").stdout.decode().splitlines()}
    assert markers == {"a.bin": "M", "b.bin": "!", "c.bin": "*"}
