"""Filter tests run with git-lazy installed user-wide, as most users have it."""

from __future__ import annotations

import pytest
from lazyhelpers import lazy


@pytest.fixture(autouse=True)
def installed_globally(isolated_env: object) -> None:
    lazy(None, "install", "--global")
