"""Test isolation: every test gets its own HOME, git config and object cache.

The environment is the one seam that reaches the filter and hooks that git spawns,
so isolation is done there and never by patching git_lazydata.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytest_plugins = ["servers"]

_UNSET = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_LAZY_TRACE", "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "MINIO_ACCESS_KEY",
    "MINIO_SECRET_KEY", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "SSH_AUTH_SOCK",
    "GIT_LAZY_CACHE_DIR",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, git's global config and the cache at a fresh folder."""
    home = tmp_path / "home"
    home.mkdir()
    for name in _UNSET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    monkeypatch.setenv("LC_ALL", "C")
    monkeypatch.setenv("GIT_LAZY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for key, value in (
        ("init.defaultBranch", "main"),
        ("user.name", "Test"),
        ("user.email", "test@example.com"),
        ("advice.detachedHead", "false"),
    ):
        subprocess.run(["git", "config", "--global", key, value], check=True)
    return home
