"""Test isolation: every test gets its own HOME, git config and object cache.

The environment is the one seam that reaches the filter and hooks that git spawns,
so isolation is done there and never by patching git_lazydata.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lazyhelpers import make_repo

pytest_plugins = ["servers"]

_UNSET = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_LAZY_TRACE", "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "MINIO_ACCESS_KEY",
    "MINIO_SECRET_KEY", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "SSH_AUTH_SOCK",
    "GIT_LAZY_CACHE_DIR",
)


#: The user-wide git settings every test starts from, as `git config --global` writes them.
_BASE_GITCONFIG = """\
[init]
\tdefaultBranch = main
[user]
\tname = Test
\temail = test@example.com
[advice]
\tdetachedHead = false
"""


def _isolated_vars(home: Path, cache: Path) -> dict[str, str]:
    """The environment that points HOME, git's global config, the cache and AWS's files inside ``home``."""
    return {
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
        "GIT_LAZY_CACHE_DIR": str(cache),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, git's global config and the cache at a fresh folder."""
    home = tmp_path / "home"
    home.mkdir()
    for name in _UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in _isolated_vars(home, tmp_path / "cache").items():
        monkeypatch.setenv(name, value)
    # Written as text: four `git config --global` processes per test add up.
    (home / ".gitconfig").write_text(_BASE_GITCONFIG)
    return home


@pytest.fixture(scope="session")
def global_install_config(tmp_path_factory: pytest.TempPathFactory) -> str:
    """What `git lazy install --global` adds to the user's git config, run once.

    Tests that start from a user-wide install append this to their own config instead
    of starting git-lazy again; tests of `install` itself run the command.
    """
    home = tmp_path_factory.mktemp("install-home")
    env = {k: v for k, v in os.environ.items() if k not in _UNSET} | _isolated_vars(home, home / "cache")
    subprocess.run(["git", "lazy", "install", "--global"], env=env, check=True, capture_output=True)
    return (home / ".gitconfig").read_text()


@pytest.fixture
def installed_globally(isolated_env: Path, global_install_config: str) -> None:
    """git-lazy installed user-wide, as `git lazy install --global` leaves it."""
    with open(isolated_env / ".gitconfig", "a") as f:
        f.write(global_install_config)


@pytest.fixture(scope="session")
def _tracked_repo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository made once with the real commands: init, `install --local`, `*.bin` tracked and committed."""
    home = tmp_path_factory.mktemp("template-home")
    env = {k: v for k, v in os.environ.items() if k not in _UNSET} | _isolated_vars(home, home / "cache")
    (home / ".gitconfig").write_text(_BASE_GITCONFIG)
    return make_repo(home / "repo", "*.bin", env=env)


@pytest.fixture
def new_repo(_tracked_repo_template: Path) -> Callable[[Path], Path]:
    """Make a repository at a path, as `make_repo(path, "*.bin")` would, by copying one made once.

    A copy holds nothing that names its place: git finds the work tree from the
    folder, and the index's file times only make git look at the files once again.
    """

    def make(path: Path) -> Path:
        shutil.copytree(_tracked_repo_template, path, symlinks=True)
        return path

    return make


@pytest.fixture
def repo(tmp_path: Path, new_repo: Callable[[Path], Path]) -> Path:
    """A repository with git-lazy installed and `*.bin` tracked and committed."""
    return new_repo(tmp_path / "repo")


@pytest.fixture
def plain_repo(tmp_path: Path) -> Path:
    """A new repository without git-lazy set up, for the tests of setting it up."""
    path = tmp_path / "plain"
    subprocess.run(["git", "init", "-q", str(path)], check=True, capture_output=True)
    return path
