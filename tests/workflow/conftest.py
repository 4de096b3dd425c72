"""Workflow tests: a repository, its stores, and clones with their own caches."""

from __future__ import annotations

from pathlib import Path

import pytest
from lazyhelpers import make_repo


@pytest.fixture(autouse=True)
def _user_wide_install(installed_globally: None) -> None:
    """Every test here starts with git-lazy installed user-wide."""


@pytest.fixture(params=["folder", "s3", "ssh"])
def any_store(request: pytest.FixtureRequest) -> object:
    """Each kind of store in turn (``.url`` is what ``remote add`` takes)."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", "*.bin")
