"""Repository content is untrusted: a committed .lazyconfig may name stores to read
from, but never makes git-lazy write somewhere unasked, read another file or run anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from lazyhelpers import commit_files, fresh_cache, git, lazy, store_objects


def test_committed_store_needs_acceptance_before_push(folder_store: object, repo: Path, tmp_path: Path) -> None:
    commit_files(repo, {"a.bin": b"x"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    git(repo, "add", ".lazyconfig")
    git(repo, "commit", "-q", "-m", "store")
    other = tmp_path / "clone"
    git(None, "clone", "-q", str(repo), str(other))  # no install: nothing accepted yet
    (other / "new.bin").write_bytes(b"new data")
    git(other, "add", "new.bin")
    git(other, "commit", "-q", "-m", "new")
    proc = lazy(other, "push", check=False)
    assert proc.returncode == 1
    assert "git lazy remote accept lake" in proc.stderr.decode()
    assert not (folder_store.root / "objects").exists()
    lazy(other, "remote", "accept", "lake")
    lazy(other, "push")
    assert len(store_objects(folder_store.root)) == 2  # HEAD's history: a.bin and new.bin


def test_password_url_goes_to_git_config_only(s3_store: object, repo: Path) -> None:
    host = s3_store.endpoint.removeprefix("http://")
    url = f"s3://testing:sup3rs3cret@{host}/{s3_store.bucket}/p"
    proc = lazy(repo, "remote", "add", "minio", url)
    assert "written to .git/config only" in proc.stderr.decode()
    assert not (repo / ".lazyconfig").exists() or "sup3rs3cret" not in (repo / ".lazyconfig").read_text()
    listing = lazy(repo, "remote", "list").stdout.decode()
    assert "sup3rs3cret" not in listing and "testing:***@" in listing
    commit_files(repo, {"a.bin": b"via a password URL"})
    pushed = lazy(repo, "push", "--all")
    assert "sup3rs3cret" not in pushed.stdout.decode() + pushed.stderr.decode()
    keys = [o["Key"] for o in s3_store.client.list_objects_v2(Bucket=s3_store.bucket)["Contents"]]
    assert "p/git-lazy.json" in keys and len(keys) == 2


def test_lazyconfig_keys_outside_the_allowlist_are_ignored(folder_store: object, repo: Path) -> None:
    (repo / ".lazyconfig").write_text(
        f'[lazy "remote.lake"]\n\turl = {folder_store.url}\n\tcommand = touch pwned\n[core]\n\tsshCommand = evil\n'
    )
    listing = lazy(repo, "remote", "list")
    err = listing.stderr.decode()
    assert "ignoring key 'command'" in err and "ignoring section [core]" in err
    assert listing.stdout.decode().startswith("lake\t")


@pytest.mark.parametrize("bad", ["ssh://-oProxyCommand=touch%20pwned/x", "-oProxyCommand=x:path", "s3://"])
def test_unsafe_or_malformed_urls_are_refused(repo: Path, bad: str) -> None:
    proc = lazy(repo, "remote", "add", "--", "x", bad, check=False)
    assert proc.returncode == 1
    assert len(proc.stderr.splitlines()) == 1
    assert not (repo / "pwned").exists() and not (repo / ".lazyconfig").exists()


def test_committed_option_injection_url_is_ignored(repo: Path, tmp_path: Path) -> None:
    (repo / ".lazyconfig").write_text('[lazy "remote.x"]\n\turl = -oProxyCommand=touch pwned:path\n')
    (repo / "a.bin").write_bytes(b"x")
    git(repo, "add", "a.bin")
    git(repo, "commit", "-q", "-m", "x")
    fresh_cache(tmp_path, "cache2")  # so that the object has to come from a store
    proc = lazy(repo, "fetch", "--rev", "HEAD", "a.bin", check=False)
    assert proc.returncode == 1
    assert "no store configured (.lazyconfig: store 'x'" in proc.stderr.decode()
    assert not (repo / "pwned").exists()


def test_a_pulled_endpoint_change_needs_acceptance_but_local_overrides_do_not(
    folder_store: object, repo: Path
) -> None:
    commit_files(repo, {"a.bin": b"x"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    assert lazy(repo, "push", "--all").returncode == 0
    # as if a pull brought a new endpoint for the same store
    git(repo, "config", "--file", ".lazyconfig", "lazy.remote.lake.endpoint", "https://evil.example:9000")
    proc = lazy(repo, "push", "--all", check=False)
    assert proc.returncode == 1
    assert "endpoint" in proc.stderr.decode() and "git lazy remote accept lake" in proc.stderr.decode()
    git(repo, "config", "--local", "lazy.remote.lake.endpoint", "")  # this clone's own choice
    assert lazy(repo, "push", "--all").returncode == 0


def test_a_committed_folder_store_is_read_but_written_only_once_accepted(
    folder_store: object, repo: Path, tmp_path: Path
) -> None:
    commit_files(repo, {"a.bin": b"shared"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    commit_files(repo, {".lazyconfig": (repo / ".lazyconfig").read_bytes()})
    lazy(repo, "push", "--all")
    fresh_cache(tmp_path, "cache2")
    cloned = lazy(tmp_path, "clone", "-q", str(repo), "other")
    other = tmp_path / "other"
    assert (other / "a.bin").read_bytes() == b"shared"  # reading needs no acceptance
    assert "git lazy remote accept lake" in cloned.stderr.decode()
    commit_files(other, {"new.bin": b"new"})
    refused = lazy(other, "push", check=False)
    assert refused.returncode == 1 and "git lazy remote accept lake" in refused.stderr.decode()
    assert len(store_objects(folder_store.root)) == 1
    lazy(other, "remote", "accept", "lake")
    lazy(other, "push")
    assert len(store_objects(folder_store.root)) == 2


def test_a_push_to_a_committed_store_that_is_not_used_says_why(repo: Path) -> None:
    (repo / ".lazyconfig").write_text('[lazy]\n\tremote = evil\n[lazy "remote.evil"]\n\turl = ssh://-oProxyCommand=x/p\n')
    commit_files(repo, {"a.bin": b"x"})
    proc = lazy(repo, "push", check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines()[-1] == (
        "git-lazy: store 'evil' of .lazyconfig is not used: "
        "invalid store URL 'ssh://-oProxyCommand=x/p': host must not start with '-'"
    )
    lazy(repo, "remote", "remove", "evil")  # and it can be cleaned up
    assert "evil" not in (repo / ".lazyconfig").read_text()
