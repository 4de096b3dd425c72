"""Workflow tests: a repository, its stores, and clones with their own caches."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _user_wide_install(installed_globally: None) -> None:
    """Every test here starts with git-lazy installed user-wide."""

