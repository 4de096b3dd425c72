"""Workflow tests: a repository, its stores, and clones with their own caches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lazyhelpers import git, lazy, make_repo

from servers import FolderFixture  # noqa: F401  (fixtures come from the servers plugin)


@pytest.fixture(autouse=True)
def installed_globally(isolated_env: object) -> None:
    lazy(None, "install", "--global")


@pytest.fixture(params=["folder", "s3", "ssh"])
def any_store(request: pytest.FixtureRequest) -> object:
    """Each kind of store in turn (``.url`` is what ``remote add`` takes)."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", "*.bin")


def fresh_cache(tmp_path: Path, name: str) -> Path:
    """Point GIT_LAZY_CACHE_DIR at a new empty cache, as on another machine."""
    path = tmp_path / name
    os.environ["GIT_LAZY_CACHE_DIR"] = str(path)
    return path


def clone(src: Path, dst: Path) -> Path:
    git(None, "clone", "-q", str(src), str(dst))
    lazy(dst, "install", "--local")
    return dst
