"""`git lazy migrate import` rewrites history into pointers; `git lazy migrate from-lfs`
adopts a git-lfs repository without rewriting it."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from lazyhelpers import (
    assert_cached,
    assert_clean_status,
    assert_pointer,
    git,
    is_pointer,
    lazy,
    pointer_text,
)

RULE = "filter=lazy diff=lazy merge=lazy -text"


def _commit(repo: Path, files: dict[str, bytes], message: str, when: int) -> dict[str, str]:
    """Write ``files``, commit them with fixed dates and a distinct committer; return {path: sha256}."""
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    env = dict(os.environ, GIT_AUTHOR_DATE=f"{when} +0200", GIT_COMMITTER_DATE=f"{when + 7} -0500",
               GIT_COMMITTER_NAME="Committer", GIT_COMMITTER_EMAIL="c@example.com")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--cleanup=verbatim", "-m", message, env=env)
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


@pytest.fixture
def history(plain_repo: Path) -> tuple[Path, dict[str, dict[str, bytes]]]:
    """Three commits on main (a file changed over them, nested folders, a name with a space),
    a branch `side` and an annotated tag `v0`; returns the repo and {commit: {path: bytes}}."""
    repo = plain_repo
    one = {".gitattributes": b"*.txt text\n", "readme.txt": b"hello\n", "data/a.bin": os.urandom(5000),
           "models/deep/er/x.bin": os.urandom(3000), "data/with space.bin": b"small\n"}
    _commit(repo, one, "one\n\nbody  with  spaces\n", 1_600_000_000)
    git(repo, "tag", "-a", "v0", "-m", "first release")
    two = {"data/a.bin": os.urandom(6000), "data/sub/c.bin": os.urandom(2000)}
    _commit(repo, two, "two", 1_600_000_100)
    git(repo, "branch", "side")
    three = {"readme.txt": b"hello again\n", "data/a.bin": os.urandom(7000)}
    _commit(repo, three, "three\n", 1_600_000_200)
    git(repo, "checkout", "-q", "side")
    _commit(repo, {"side.bin": os.urandom(1000)}, "side\n", 1_600_000_300)
    git(repo, "checkout", "-q", "main")
    return repo, {"main~2": one, "main~1": {**one, **two}, "main": {**one, **two, **three}}


def _bin_files(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k.endswith(".bin")}


def _meta(repo: Path, rev: str) -> bytes:
    """A commit object without its tree and parent lines: what the rewrite must keep byte for byte."""
    raw = git(repo, "cat-file", "commit", rev).stdout
    return b"\n".join(line for line in raw.split(b"\n") if not line.startswith((b"tree ", b"parent ")))


def test_import_turns_every_commit_of_the_branch_into_pointers(history: tuple[Path, dict]) -> None:
    repo, versions = history
    old = {rev: git(repo, "rev-parse", rev).stdout.decode().strip() for rev in ("main", "main~1", "main~2", "side")}
    metas = {rev: _meta(repo, rev) for rev in versions}
    before = {name: (repo / name).read_bytes() for name in versions["main"]}

    proc = lazy(repo, "migrate", "import", "--include", "*.bin")

    new_main = git(repo, "rev-parse", "main").stdout.decode().strip()
    assert proc.stdout.decode() == f"refs/heads/main\t{old['main']} -> {new_main}\n"
    for rev, files in versions.items():
        for name, data in _bin_files(files).items():
            oid = hashlib.sha256(data).hexdigest()
            assert_pointer(repo, rev, name, oid, len(data))
            assert_cached(oid, data)
        assert git(repo, "cat-file", "blob", f"{rev}:readme.txt").stdout == files["readme.txt"]
        assert git(repo, "cat-file", "blob", f"{rev}:.gitattributes").stdout == f"*.txt text\n*.bin {RULE}\n".encode()
        assert _meta(repo, rev) == metas[rev]
        assert git(repo, "rev-parse", rev).stdout.decode().strip() != old[rev]
    assert git(repo, "rev-list", "--count", "main").stdout == b"3\n"
    # Only the current branch: the other one and the tag keep their commits.
    assert git(repo, "rev-parse", "side").stdout.decode().strip() == old["side"]
    assert git(repo, "rev-parse", "v0^{commit}").stdout.decode().strip() == old["main~2"]
    # The same files on disk, now pointers in git; the old tip is in the reflog.
    assert {name: (repo / name).read_bytes() for name in before} == before | {
        ".gitattributes": f"*.txt text\n*.bin {RULE}\n".encode()}
    assert_clean_status(repo)
    reflog = git(repo, "reflog", "-1", "--format=%H %gs", "main").stdout.decode()
    assert reflog == f"{new_main} git lazy migrate import\n"
    assert git(repo, "rev-parse", "main@{1}").stdout.decode().strip() == old["main"]
    listed = lazy(repo, "ls-files").stdout.decode()
    assert "data/with space.bin" in listed and "models/deep/er/x.bin" in listed


def test_import_everything_rewrites_branches_and_tags_and_adds_each_rule_once(
    history: tuple[Path, dict]
) -> None:
    repo, versions = history
    side_bin = git(repo, "cat-file", "blob", "side:side.bin").stdout
    lazy(repo, "migrate", "import", "--include", "*.bin")  # main only
    main_once = git(repo, "rev-parse", "main").stdout

    proc = lazy(repo, "migrate", "import", "--include", "*.bin", "--include", "*.txt", "--everything")

    out = proc.stdout.decode()
    assert "refs/heads/side\t" in out and "refs/tags/v0\t" in out and "refs/heads/main\t" in out
    attributes = git(repo, "cat-file", "blob", "main:.gitattributes").stdout.decode()
    assert attributes == f"*.txt text\n*.bin {RULE}\n*.txt {RULE}\n"
    # Pointers made by the first run stay as they are; the readme becomes one now.
    data = _bin_files(versions["main"])["data/a.bin"]
    assert_pointer(repo, "main", "data/a.bin", hashlib.sha256(data).hexdigest(), len(data))
    assert git(repo, "rev-parse", "main").stdout != main_once
    readme = versions["main"]["readme.txt"]
    assert_pointer(repo, "main", "readme.txt", hashlib.sha256(readme).hexdigest(), len(readme))
    assert_pointer(repo, "side", "side.bin", hashlib.sha256(side_bin).hexdigest(), len(side_bin))
    assert git(repo, "merge-base", "side", "main").stdout == git(repo, "rev-parse", "main~1").stdout
    # The annotated tag is still one, with its message, on the rewritten commit.
    assert git(repo, "cat-file", "-t", "v0").stdout == b"tag\n"
    assert git(repo, "tag", "-l", "--format=%(contents)", "v0").stdout == b"first release\n\n"
    assert git(repo, "rev-parse", "v0^{commit}").stdout == git(repo, "rev-parse", "main~2").stdout
    first = versions["main~2"]["data/a.bin"]
    assert_pointer(repo, "v0", "data/a.bin", hashlib.sha256(first).hexdigest(), len(first))
    assert (repo / "readme.txt").read_bytes() == readme
    assert_clean_status(repo)


def test_import_refuses_a_dirty_work_tree_or_index(history: tuple[Path, dict]) -> None:
    repo, _ = history
    tip = git(repo, "rev-parse", "main").stdout
    (repo / "readme.txt").write_bytes(b"changed\n")
    proc = lazy(repo, "migrate", "import", "--include", "*.bin", check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines() == [
        "git-lazy: the work tree or the index has changes (1 path(s)); "
        "commit or stash them before 'git lazy migrate import'"]
    git(repo, "add", "readme.txt")
    assert lazy(repo, "migrate", "import", "--include", "*.bin", check=False).returncode == 1
    assert git(repo, "rev-parse", "main").stdout == tip
    assert git(repo, "cat-file", "blob", "main:data/a.bin").stdout == (repo / "data/a.bin").read_bytes()


# --- from-lfs ------------------------------------------------------------------------


def _without_git_lfs(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has git and git-lazy but no git-lfs."""
    bin_dir = tmp_path / "bin-no-lfs"
    bin_dir.mkdir()
    real_git = shutil.which("git")
    lazy_bin = shutil.which("git-lazy")
    assert real_git and lazy_bin
    (bin_dir / "git").symlink_to(real_git)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.path.dirname(lazy_bin)}")
    assert git(None, "lfs", "version", env=env, check=False).returncode != 0
    return env


@pytest.mark.skipif(shutil.which("git-lfs") is None, reason="git-lfs is not installed (apt-get install git-lfs)")
def test_from_lfs_adopts_a_git_lfs_repository_without_rewriting_it(tmp_path: Path) -> None:
    repo = tmp_path / "lfs"
    git(None, "init", "-q", str(repo))
    git(repo, "lfs", "install", "--local")
    git(repo, "lfs", "track", "*.bin")
    v1 = {"a.bin": os.urandom(4000), "deep/dir/b.bin": os.urandom(2500)}
    v2 = {"a.bin": os.urandom(4500)}
    _commit(repo, v1, "first\n", 1_600_000_000)
    _commit(repo, v2, "second\n", 1_600_000_100)
    assert is_pointer_blob(git(repo, "cat-file", "blob", "HEAD:a.bin").stdout, v2["a.bin"])
    tip = git(repo, "rev-parse", "HEAD").stdout
    git(repo, "lfs", "uninstall", "--local")
    env = _without_git_lfs(tmp_path)

    out = lazy(repo, "migrate", "from-lfs", env=env).stdout.decode()

    assert "Copied 3 git-lfs object(s)" in out and "commit that" in out
    for data in (*v1.values(), *v2.values()):
        assert_cached(hashlib.sha256(data).hexdigest(), data)
    assert (repo / ".gitattributes").read_text() == f"*.bin {RULE}\n"
    assert git(repo, "config", "filter.lfs.process").stdout == b"git-lazy filter-process\n"
    assert git(repo, "rev-parse", "HEAD").stdout == tip  # no commit changed
    git(repo, "commit", "-q", "-am", "Track data files with git-lazy", env=env)

    # The old commit still says filter=lfs: git-lazy answers for it.
    git(repo, "checkout", "-q", "HEAD~2", env=env)
    assert (repo / "a.bin").read_bytes() == v1["a.bin"]
    assert (repo / "deep/dir/b.bin").read_bytes() == v1["deep/dir/b.bin"]
    assert_clean_status(repo)
    listed = lazy(repo, "ls-files", env=env).stdout.decode().splitlines()
    assert [line.split(" ", 2)[1:] for line in listed] == [["*", "a.bin (3.9 KiB)"], ["*", "deep/dir/b.bin (2.4 KiB)"]]
    # A file git left as a pointer (over lazy.smudgemax) is written by `git lazy checkout`.
    git(repo, "config", "lazy.smudgemax", "1k")
    (repo / "a.bin").unlink()
    git(repo, "checkout", "--", "a.bin", env=env)
    assert is_pointer(repo / "a.bin")
    lazy(repo, "checkout", env=env)
    assert (repo / "a.bin").read_bytes() == v1["a.bin"]
    assert_clean_status(repo)

    git(repo, "config", "--unset", "lazy.smudgemax")
    git(repo, "checkout", "-q", "main", env=env)
    assert (repo / "a.bin").read_bytes() == v2["a.bin"]
    assert_clean_status(repo)


def is_pointer_blob(blob: bytes, data: bytes) -> bool:
    """``blob`` is the pointer of ``data`` (git-lfs's and ours are the same bytes)."""
    return blob == pointer_text(hashlib.sha256(data).hexdigest(), len(data))
