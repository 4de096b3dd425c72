"""The hooks one case at a time: what pre-push sends, what checkouts bring, merges that conflict."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lazyhelpers import assert_clean_status, bare_repo, git, is_pointer, lazy, uncache
from servers import TcpProxy


def oid(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def add_commit(repo: Path, files: dict[str, bytes], message: str = "data") -> None:
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return bare_repo(tmp_path / "origin.git")


@pytest.fixture
def author(new_repo: Callable[[Path], Path], origin: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Make a repository set up as the README says (install, `*.bin` tracked, store `lake`), pushing to ``origin``."""

    def make(store_url: str) -> Path:
        repo = new_repo(tmp_path / "a")
        git(repo, "remote", "add", "origin", str(origin))
        lazy(repo, "remote", "add", "lake", store_url)
        add_commit(repo, {"readme.txt": b"hello\n"}, "setup")
        return repo

    return make


def test_pre_push_new_branch_force_push_tags_and_several_refs(
    folder_store: Any, origin: Path, author: Callable[[str], Path]
) -> None:
    a = author(folder_store.url)
    add_commit(a, {"one.bin": b"one"})
    git(a, "push", "-q", "origin", "main")
    assert folder_store.objects() == {oid(b"one")}

    git(a, "checkout", "-q", "-b", "topic")
    add_commit(a, {"two.bin": b"two"})
    git(a, "push", "-q", "origin", "topic")  # a new branch: only what main lacks
    assert folder_store.objects() == {oid(b"one"), oid(b"two")}

    (a / "two.bin").write_bytes(b"two, amended")
    git(a, "commit", "-q", "-a", "--amend", "-m", "amended")
    git(a, "push", "-q", "--force", "origin", "topic")
    assert oid(b"two, amended") in folder_store.objects()

    add_commit(a, {"three.bin": b"three"})
    git(a, "tag", "-a", "-m", "release", "v1")
    git(a, "checkout", "-q", "-b", "other", "main")
    add_commit(a, {"four.bin": b"four"})
    git(a, "push", "-q", "origin", "topic", "other", "v1")  # several refs at once, a tag among them
    assert {oid(b"three"), oid(b"four")} <= folder_store.objects()
    remote_refs = git(a, "ls-remote", str(origin)).stdout.decode()
    assert "refs/heads/other" in remote_refs and "refs/tags/v1" in remote_refs


def test_pre_push_deletion_needs_no_store(folder_store: Any, origin: Path, author: Callable[[str], Path]) -> None:
    a = author(folder_store.url)
    add_commit(a, {"one.bin": b"one"})
    git(a, "push", "-q", "origin", "main", "main:refs/heads/old")
    folder_store.root.rename(folder_store.root.with_name("gone"))  # the store cannot be reached
    git(a, "push", "-q", "origin", "--delete", "old")
    assert "refs/heads/old" not in git(a, "ls-remote", str(origin)).stdout.decode()


def test_dry_run_uploads_nothing(folder_store: Any, origin: Path, author: Callable[[str], Path]) -> None:
    a = author(folder_store.url)
    add_commit(a, {"one.bin": b"one"})
    for flag in ("--dry-run", "-n"):
        proc = git(a, "push", flag, "origin", "main")
        assert "dry run: 1 object(s) would be checked against lake; nothing uploaded" in proc.stderr.decode()
        assert folder_store.objects() == set()
        assert git(a, "ls-remote", str(origin)).stdout == b""


def test_push_is_refused_when_an_object_exists_nowhere(folder_store: Any, origin: Path, author: Callable[[str], Path]) -> None:
    a = author(folder_store.url)
    add_commit(a, {"data/lost.bin": b"lost", "data/kept.bin": b"kept"})
    lost = oid(b"lost")
    uncache(lost)
    proc = git(a, "push", "origin", "main", check=False)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.decode().splitlines() if ln.startswith("git-lazy:")]
    assert lines == [
        "git-lazy: cannot upload data/lost.bin: neither in the local cache nor in lake",
        "git-lazy: pre-push: 1 object(s) could not be uploaded to lake; "
        "push stopped, nothing was sent to the git remote",
    ]
    assert git(a, "ls-remote", str(origin)).stdout == b""
    assert folder_store.objects() == {oid(b"kept")}


def test_push_without_a_store_is_refused(origin: Path, repo: Path) -> None:
    a = repo
    git(a, "remote", "add", "origin", str(origin))
    add_commit(a, {"one.bin": b"one"})
    proc = git(a, "push", "origin", "main", check=False)
    assert proc.returncode != 0
    assert "no store configured" in proc.stderr.decode()
    assert git(a, "ls-remote", str(origin)).stdout == b""


def test_a_push_asks_the_store_only_about_new_objects(
    s3_store: Any, origin: Path, tmp_path: Path, author: Callable[[str], Path]
) -> None:
    host, port = s3_store.endpoint.removeprefix("http://").split(":")
    with TcpProxy((host, int(port)), record=True) as proxy:
        os.environ["AWS_ENDPOINT_URL_S3"] = proxy.endpoint
        a = author(s3_store.url)
        add_commit(a, {f"f{i}.bin": f"file {i}".encode() for i in range(20)})
        git(a, "push", "-q", "origin", "main")
        assert len(s3_store.objects()) == 20
        # A second git remote has no remote-tracking refs: git-lazy sees all 21
        # pointers, and the record of what the store holds spares 20 questions.
        other = bare_repo(tmp_path / "other.git")
        add_commit(a, {"new.bin": b"the new one"})
        proxy.upstream.clear()
        git(a, "push", "-q", str(other), "main")
        sent = bytes(proxy.upstream)
        assert sent.count(b"HEAD /") == 1 and sent.count(b"PUT /") == 1
        assert oid(b"the new one") in s3_store.objects()
        # Nothing new at all: the store is not even contacted.
        proxy.close()
        third = bare_repo(tmp_path / "third.git")
        git(a, "push", "-q", str(third), "main")
        assert git(a, "ls-remote", str(third)).stdout != b""


def clone_with_fresh_cache(origin: Path, path: Path, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, GIT_LAZY_CACHE_DIR=str(tmp_path / f"cache-{path.name}"))
    git(None, "clone", "-q", str(origin), str(path), env=env)
    return env


def test_a_plain_clone_after_a_global_install_gets_hooks_and_included_data(
    folder_store: Any, origin: Path, tmp_path: Path, author: Callable[[str], Path], installed_globally: None
) -> None:
    a = author(folder_store.url)
    git(a, "config", "--file", ".lazyconfig", "lazy.fetchinclude", "data/a/**")
    add_commit(a, {"data/a/x.bin": b"included", "data/b/y.bin": b"left out"})
    git(a, "push", "-q", "origin", "main")
    b = tmp_path / "b"
    clone_with_fresh_cache(origin, b, tmp_path)  # plain git clone, no further command
    assert (b / "data/a/x.bin").read_bytes() == b"included"
    assert is_pointer(b / "data/b/y.bin")
    assert all((b / ".git" / "hooks" / name).is_file() for name in ("pre-push", "post-checkout", "post-merge"))
    assert_clean_status(b)


def test_checkout_with_the_store_unreachable_warns_once_and_succeeds(
    folder_store: Any, origin: Path, tmp_path: Path, author: Callable[[str], Path], installed_globally: None
) -> None:
    a = author(folder_store.url)
    git(a, "push", "-q", "origin", "main")
    git(a, "checkout", "-q", "-b", "feature")
    add_commit(a, {"x.bin": b"on feature", "y.bin": b"also"})
    git(a, "push", "-q", "origin", "feature")
    b = tmp_path / "b"
    env = clone_with_fresh_cache(origin, b, tmp_path)
    folder_store.root.rename(folder_store.root.with_name("unmounted"))
    proc = git(b, "checkout", "feature", env=env)
    ours = [ln for ln in proc.stderr.decode().splitlines() if ln.startswith("git-lazy")]
    assert len(ours) == 1 and "2 file(s) not downloaded" in ours[0] and "git lazy pull" in ours[0]
    assert is_pointer(b / "x.bin")
    assert_clean_status(b)
    folder_store.root.with_name("unmounted").rename(folder_store.root)
    lazy(b, "pull", env=env)
    assert (b / "x.bin").read_bytes() == b"on feature"
    assert_clean_status(b)


def test_a_conflict_on_a_tracked_file_is_a_binary_conflict(folder_store: Any, author: Callable[[str], Path]) -> None:
    a = author(folder_store.url)
    add_commit(a, {"model.bin": b"base weights"})
    git(a, "checkout", "-q", "-b", "theirs")
    add_commit(a, {"model.bin": b"their weights"})
    git(a, "checkout", "-q", "main")
    add_commit(a, {"model.bin": b"our weights"})
    proc = git(a, "merge", "theirs", check=False)
    assert proc.returncode != 0
    assert "git checkout --theirs -- model.bin" in proc.stderr.decode()
    assert (a / "model.bin").read_bytes() == b"our weights"
    assert b"<<<<<<<" not in git(a, "cat-file", "blob", ":2:model.bin").stdout
    git(a, "checkout", "--theirs", "--", "model.bin")
    assert (a / "model.bin").read_bytes() == b"their weights"
    git(a, "add", "model.bin")
    git(a, "commit", "-q", "--no-edit")
    assert_clean_status(a)


def test_status_lists_states_and_what_a_push_would_upload(folder_store: Any, author: Callable[[str], Path]) -> None:
    a = author(folder_store.url)
    add_commit(a, {"pushed.bin": b"pushed"})
    git(a, "push", "-q", "origin", "main")
    add_commit(a, {"new one.bin": b"not pushed yet", "changed.bin": b"v1"})
    (a / "changed.bin").write_bytes(b"v2, not added")
    out = lazy(a, "status", "--porcelain").stdout.decode().splitlines()
    assert f"present {oid(b'pushed')} 6 pushed.bin" in out
    assert f"modified {oid(b'v1')} 2 changed.bin" in out
    assert sorted(ln for ln in out if ln.startswith("push ")) == sorted(
        [f"push {oid(b'not pushed yet')} 14 new one.bin", f"push {oid(b'v1')} 2 changed.bin"]
    )
    human = lazy(a, "status").stdout.decode()
    assert "Objects to push to lake: 2 (16 B)" in human
