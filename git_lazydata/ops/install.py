"""``git lazy install`` / ``uninstall``: the filter driver in git config, and the hooks."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import LazyError
from ..gitcmd import GitError, git
from ..hookfiles import HookChange, install_hooks, uninstall_hooks
from ..repo import Repo

__all__ = ["FILTER_CONFIG", "InstallResult", "install", "uninstall"]

FILTER_CONFIG = (
    ("filter.lazy.process", "git-lazy filter-process"),
    ("filter.lazy.clean", "git-lazy clean -- %f"),
    ("filter.lazy.smudge", "git-lazy smudge -- %f"),
    ("filter.lazy.required", "true"),
)


@dataclass(frozen=True)
class InstallResult:
    """Where the filter config went and what happened to each hook."""

    scope: str
    hooks: list[HookChange] = field(default_factory=list)
    hooks_dir: str | None = None


def _repo_or_none() -> Repo | None:
    try:
        return Repo.discover()
    except LazyError:
        return None


def install(scope: str = "global") -> InstallResult:
    """Set the filter driver in ``scope`` (global or local) and install hooks in this repo."""
    repo = _repo_or_none()
    if scope == "local" and repo is None:
        raise LazyError("'git lazy install --local' must be run inside a git repository")
    for key, value in FILTER_CONFIG:
        git("config", f"--{scope}", "--replace-all", key, value)
    if repo is None:
        return InstallResult(scope)
    if repo.work_tree is not None:
        from .remote import accept_committed

        accept_committed()  # installing in a clone is consent to push to its stores
    return InstallResult(scope, install_hooks(repo.hooks_dir), str(repo.hooks_dir))


def uninstall(scope: str = "global") -> InstallResult:
    """Remove the filter driver from ``scope`` and our hooks from this repo.

    The default (global) also removes a repository-local filter setup, so that no
    ``required`` filter is left behind without its hooks.
    """
    repo = _repo_or_none()
    if scope == "local" and repo is None:
        raise LazyError("'git lazy uninstall --local' must be run inside a git repository")
    scopes = [scope] + (["local"] if scope == "global" and repo is not None else [])
    for where in scopes:
        try:
            git("config", f"--{where}", "--remove-section", "filter.lazy")
        except GitError:
            pass  # nothing was set there
    if repo is None:
        return InstallResult(scope)
    return InstallResult(scope, uninstall_hooks(repo.hooks_dir), str(repo.hooks_dir))
