"""install / uninstall / track / untrack, as a user runs them."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from lazyhelpers import git, lazy

HOOKS = ("pre-push", "post-checkout", "post-merge")


def config(plain_repo: Path, scope: str) -> str:
    return git(plain_repo, "config", f"--{scope}", "--get-regexp", r"^filter\.lazy\.", check=False).stdout.decode()


def test_install_local_is_idempotent(plain_repo: Path) -> None:
    lazy(None, "uninstall", "--global")
    for _ in range(2):
        lazy(plain_repo, "install", "--local")
    assert config(plain_repo, "local").splitlines() == [
        "filter.lazy.process git-lazy filter-process",
        "filter.lazy.clean git-lazy clean -- %f",
        "filter.lazy.smudge git-lazy smudge -- %f",
        "filter.lazy.required true",
    ]
    for name in HOOKS:
        hook = plain_repo / ".git" / "hooks" / name
        assert os.access(hook, os.X_OK)
        assert f'git lazy hook {name} "$@"' in hook.read_text()
        assert not (plain_repo / ".git" / "hooks" / f"{name}.pre-git-lazy").exists()


def test_uninstall_removes_everything_and_is_idempotent(plain_repo: Path) -> None:
    lazy(plain_repo, "install", "--local")
    for _ in range(2):
        lazy(plain_repo, "uninstall", "--local")
    assert config(plain_repo, "local") == ""
    assert not any((plain_repo / ".git" / "hooks" / name).exists() for name in HOOKS)


def test_existing_hook_is_kept_chained_and_restored(plain_repo: Path) -> None:
    hooks = plain_repo / ".git" / "hooks"
    mine = hooks / "post-checkout"
    mine.write_text('#!/bin/sh\necho "mine $*" >> "$(git rev-parse --git-dir)/ran"\n')
    mine.chmod(0o755)
    lazy(plain_repo, "install", "--local")
    lazy(plain_repo, "install", "--local")
    assert (hooks / "post-checkout.pre-git-lazy").read_text().startswith("#!/bin/sh\necho")
    (plain_repo / "f").write_text("x")
    git(plain_repo, "add", "f")
    git(plain_repo, "commit", "-q", "-m", "x")
    git(plain_repo, "checkout", "-q", "-b", "other")
    assert (plain_repo / ".git" / "ran").read_text().startswith("mine ")
    lazy(plain_repo, "uninstall", "--local")
    assert mine.read_text().startswith("#!/bin/sh\necho")
    assert not (hooks / "post-checkout.pre-git-lazy").exists()


def test_chained_pre_push_hook_gets_stdin_and_can_refuse(plain_repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(None, "init", "-q", "--bare", str(remote))
    hook = plain_repo / ".git" / "hooks" / "pre-push"
    hook.write_text('#!/bin/sh\ncat > "$(git rev-parse --git-dir)/stdin"\nexit 1\n')
    hook.chmod(0o755)
    lazy(plain_repo, "install", "--local")
    (plain_repo / "f").write_text("x")
    git(plain_repo, "add", "f")
    git(plain_repo, "commit", "-q", "-m", "x")
    proc = git(plain_repo, "push", "-q", str(remote), "main", check=False)
    assert proc.returncode != 0
    assert (plain_repo / ".git" / "stdin").read_text().startswith("refs/heads/main ")
    assert git(remote, "branch", "--list").stdout == b""


def test_hooks_path_is_honoured(plain_repo: Path) -> None:
    git(plain_repo, "config", "core.hooksPath", "my-hooks")
    lazy(plain_repo, "install", "--local")
    assert all((plain_repo / "my-hooks" / name).is_file() for name in HOOKS)
    assert not (plain_repo / ".git" / "hooks" / "pre-push").exists()


def test_hook_explains_itself_when_git_lazy_is_missing(plain_repo: Path) -> None:
    lazy(plain_repo, "install", "--local")
    env = dict(os.environ, PATH="/usr/bin:/bin")
    proc = git(plain_repo, "-c", "core.hooksPath=.git/hooks", "commit", "--allow-empty", "-q", "-m", "x", env=env)
    hook = plain_repo / ".git" / "hooks" / "post-checkout"
    import subprocess

    run = subprocess.run([str(hook), "0" * 40, "0" * 40, "1"], cwd=plain_repo, env=env, capture_output=True)
    assert proc.returncode == 0
    assert run.returncode == 2
    assert b"'git-lazy' was not found on your PATH" in run.stderr


def test_track_writes_gitattributes_like_git_lfs(plain_repo: Path) -> None:
    out = lazy(plain_repo, "track", "*.bin", "my file.dat", "*.bin").stdout.decode()
    assert 'Tracking "*.bin"' in out and 'Tracking "my file.dat"' in out
    lazy(plain_repo, "track", "*.bin")
    assert (plain_repo / ".gitattributes").read_text() == (
        "*.bin filter=lazy diff=lazy merge=lazy -text\n"
        "my[[:space:]]file.dat filter=lazy diff=lazy merge=lazy -text\n"
    )
    listing = lazy(plain_repo, "track").stdout.decode()
    assert "    *.bin (.gitattributes)" in listing and "    my file.dat (.gitattributes)" in listing
    attrs = git(plain_repo, "check-attr", "filter", "--", "my file.dat").stdout
    assert attrs == b"my file.dat: filter: lazy\n"


def test_track_from_a_subfolder_is_relative_to_it(plain_repo: Path) -> None:
    (plain_repo / "data" / "raw").mkdir(parents=True)
    lazy(plain_repo / "data", "track", "*.csv")
    assert (plain_repo / ".gitattributes").read_text() == "data/*.csv filter=lazy diff=lazy merge=lazy -text\n"
    assert git(plain_repo, "check-attr", "filter", "--", "data/raw/x.csv").stdout.endswith(b"unspecified\n")
    assert git(plain_repo, "check-attr", "filter", "--", "data/x.csv").stdout.endswith(b"lazy\n")


def test_untrack_keeps_other_lines(plain_repo: Path) -> None:
    (plain_repo / ".gitattributes").write_text("*.txt text\n")
    lazy(plain_repo, "track", "*.bin", "*.dat")
    lazy(plain_repo, "untrack", "*.bin")
    assert (plain_repo / ".gitattributes").read_text() == (
        "*.txt text\n*.dat filter=lazy diff=lazy merge=lazy -text\n"
    )


@pytest.mark.parametrize("pattern", [".gitattributes", "sub/.gitmodules", ".lazyconfig"])
def test_track_refuses_git_files(plain_repo: Path, pattern: str) -> None:
    proc = lazy(plain_repo, "track", pattern, check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith("git-lazy: refusing to track")
    assert len(proc.stderr.splitlines()) == 1
    assert not (plain_repo / ".gitattributes").exists()


def test_the_filter_never_writes_hooks_into_a_bare_repository(
    new_repo: Callable[[Path], Path], tmp_path: Path
) -> None:
    src = new_repo(tmp_path / "src")
    (src / "a.bin").write_bytes(b"data")
    git(src, "add", "a.bin")
    git(src, "commit", "-q", "-m", "data")
    bare = tmp_path / "bare.git"
    git(None, "clone", "-q", "--bare", str(src), str(bare))
    archive = git(bare, "archive", "HEAD", "a.bin").stdout  # runs the filter (user-wide install)
    assert b"data" in archive
    assert not [name for name in HOOKS if (bare / "hooks" / name).exists()]


def test_commands_outside_a_repository_give_one_line(tmp_path: Path) -> None:
    proc = lazy(tmp_path, "ls-files", check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith("git-lazy: not in a git repository")
    assert len(proc.stderr.splitlines()) == 1


def test_plain_uninstall_also_removes_a_local_setup(plain_repo: Path) -> None:
    lazy(plain_repo, "install", "--local")
    lazy(plain_repo, "uninstall")
    assert config(plain_repo, "local") == "" and config(plain_repo, "global") == ""


def test_chained_hook_without_a_shebang_still_runs(plain_repo: Path) -> None:
    hook = plain_repo / ".git" / "hooks" / "post-merge"
    hook.write_text('echo "ran $1" > "$(git rev-parse --git-dir)/ran"\n')
    hook.chmod(0o755)
    lazy(plain_repo, "install", "--local")
    proc = lazy(plain_repo, "hook", "post-merge", "0")
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    assert (plain_repo / ".git" / "ran").read_text() == "ran 0\n"


def test_leftover_hooks_never_fail_a_checkout_after_uninstall(plain_repo: Path, tmp_path: Path) -> None:
    lazy(None, "install", "--global")
    lazy(plain_repo, "track", "*.bin")
    (plain_repo / "a.bin").write_bytes(b"data")
    git(plain_repo, "add", "-A")
    git(plain_repo, "commit", "-q", "-m", "x")
    other = tmp_path / "clone"
    git(None, "clone", "-q", str(plain_repo), str(other))
    assert (other / ".git" / "hooks" / "post-checkout").is_file()  # put there by the filter
    lazy(tmp_path, "uninstall")  # run elsewhere: the clone keeps its hooks
    proc = git(other, "checkout", "-q", "-b", "next")
    assert proc.returncode == 0 and proc.stderr == b""


def test_usage_errors_are_one_line(plain_repo: Path) -> None:
    for args in (("remote", "add"), ("bogus",)):
        proc = lazy(plain_repo, *args, check=False)
        assert proc.returncode == 2
        assert len(proc.stderr.splitlines()) == 1
        assert proc.stderr.startswith(b"git-lazy: ")


@pytest.mark.parametrize("pattern", ["../x/*.bin", "../*.bin", "data/../../*.bin", "./a/../b/*.bin"])
def test_track_refuses_patterns_outside_the_repository(plain_repo: Path, pattern: str) -> None:
    (plain_repo / "data").mkdir()
    proc = lazy(plain_repo / "data", "track", pattern, check=False)
    assert proc.returncode == 1
    assert "patterns name files inside the repository" in proc.stderr.decode()
    assert not (plain_repo / ".gitattributes").exists()


def test_install_sets_the_merge_driver_and_uninstall_removes_it(plain_repo: Path) -> None:
    lazy(plain_repo, "install", "--local")
    driver = git(plain_repo, "config", "--local", "merge.lazy.driver").stdout.decode()
    assert driver == "git-lazy merge-driver %O %A %B %P\n"
    lazy(plain_repo, "uninstall", "--local")
    assert git(plain_repo, "config", "--local", "merge.lazy.driver", check=False).returncode == 1
