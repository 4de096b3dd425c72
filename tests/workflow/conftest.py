"""Workflow tests: a repository, its stores, and clones with their own caches."""

from __future__ import annotations

from pathlib import Path

import pytest
from lazyhelpers import lazy, make_repo


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
