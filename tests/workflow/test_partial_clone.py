"""A partial clone (``--filter=blob:none``) with a sparse checkout: git-lazy reads what is
here or inside the cone, and never makes git fetch blobs from the git remote one by one."""

from __future__ import annotations

import os
from pathlib import Path

from lazyhelpers import assert_cached, commit_files, fresh_cache, git, lazy, refute_cached


def missing_blobs(repo: Path) -> set[str]:
    """The objects of the clone's history that stayed on the git remote."""
    out = git(repo, "rev-list", "--objects", "--all", "--missing=print").stdout.decode().split()
    return {name[1:] for name in out if name.startswith("?")}


def test_a_partial_sparse_clone_reads_only_what_is_here_or_in_the_cone(
    folder_store: object, repo: Path, tmp_path: Path, installed_globally: None
) -> None:
    oids = commit_files(repo, {"in/a.bin": b"inside the cone", "out/b.bin": b"outside the cone",
                               "out/c.bin": b"outside too"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    commit_files(repo, {".lazyconfig": (repo / ".lazyconfig").read_bytes()})
    lazy(repo, "push", "--all")
    git(repo, "config", "uploadpack.allowFilter", "true")
    fresh_cache(tmp_path, "cache2")
    other = tmp_path / "clone"
    git(None, "clone", "-q", "--filter=blob:none", "--sparse", f"file://{repo}", str(other))
    git(other, "sparse-checkout", "set", "in")
    left_out = missing_blobs(other)
    out_pointer = git(other, "rev-parse", "HEAD:out/b.bin").stdout.decode().strip()
    assert out_pointer in left_out

    listed = lazy(other, "ls-files").stdout.decode()
    assert "in/a.bin" in listed and "out/b.bin" not in listed
    lazy(other, "fetch", "--all")
    assert (other / "in/a.bin").read_bytes() == b"inside the cone"
    assert_cached(oids["in/a.bin"])
    refute_cached(oids["out/b.bin"])
    lazy(other, "remote", "accept", "lake")
    lazy(other, "push", "--all")
    assert missing_blobs(other) == left_out  # not one blob fetched from the git remote

    # A revision's files, asked for by name: their blobs come in one fetch, not one each.
    trace = tmp_path / "trace"
    lazy(other, "fetch", "--rev", "HEAD", "out", env=dict(os.environ, GIT_TRACE=str(trace)))
    assert_cached(oids["out/b.bin"], b"outside the cone")
    assert_cached(oids["out/c.bin"], b"outside too")
    assert out_pointer not in missing_blobs(other)
    lazy_fetches = [ln for ln in trace.read_text().splitlines() if "run_command:" in ln and "negotiationAlgorithm" in ln]
    assert lazy_fetches == [], lazy_fetches  # git fetched nothing on its own, object by object
