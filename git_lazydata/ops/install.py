"""``git lazy install`` / ``uninstall``: the filter and merge drivers in git config, and the hooks."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..context import Context
from ..errors import LazyError
from ..gitcmd import GitError, git
from ..hookfiles import HookChange, install_hooks, uninstall_hooks

__all__ = ["DRIVER_CONFIG", "InstallResult", "install", "uninstall"]

#: What ``install`` writes: the filter driver, and a merge driver that treats a
#: conflict on a tracked file as binary (never conflict markers inside a pointer).
DRIVER_CONFIG = (
    ("filter.lazy.process", "git-lazy filter-process"),
    ("filter.lazy.clean", "git-lazy clean -- %f"),
    ("filter.lazy.smudge", "git-lazy smudge -- %f"),
    ("filter.lazy.required", "true"),
    ("merge.lazy.name", "git-lazy data files (never merged line by line)"),
    ("merge.lazy.driver", "git-lazy merge-driver %O %A %B %P"),
)


@dataclass(frozen=True)
class InstallResult:
    """Where the driver config went and what happened to each hook."""

    scope: str
    hooks: list[HookChange] = field(default_factory=list)
    hooks_dir: str | None = None
    #: committed folder stores left unaccepted for push: (name, folder)
    held: list[tuple[str, str]] = field(default_factory=list)


def install(ctx: Context | None, scope: str = "global") -> InstallResult:
    """Set the drivers in ``scope`` (global or local) and install hooks in ``ctx``'s repository."""
    if scope == "local" and ctx is None:
        raise LazyError("'git lazy install --local' must be run inside a git repository")
    cwd = ctx.cwd if ctx is not None else None
    for key, value in DRIVER_CONFIG:
        git("config", f"--{scope}", "--replace-all", key, value, cwd=cwd)
    if ctx is None:
        return InstallResult(scope)
    held = []
    if ctx.repo.work_tree is not None:
        from .remote import accept_committed

        # Installing in a clone is consent to push to its stores, but for folders.
        held = [(r.name, r.parsed(ctx.work_tree).path) for r in accept_committed(ctx)]
    return InstallResult(scope, install_hooks(ctx.repo.hooks_dir), str(ctx.repo.hooks_dir), held)


def uninstall(ctx: Context | None, scope: str = "global") -> InstallResult:
    """Remove the drivers from ``scope`` and our hooks from ``ctx``'s repository.

    The default (global) also removes a repository-local setup, so that no
    ``required`` filter is left behind without its hooks.
    """
    if scope == "local" and ctx is None:
        raise LazyError("'git lazy uninstall --local' must be run inside a git repository")
    cwd = ctx.cwd if ctx is not None else None
    scopes = [scope] + (["local"] if scope == "global" and ctx is not None else [])
    for where in scopes:
        for section in ("filter.lazy", "merge.lazy"):
            try:
                git("config", f"--{where}", "--remove-section", section, cwd=cwd)
            except GitError:
                pass  # nothing was set there
    if ctx is None:
        return InstallResult(scope)
    return InstallResult(scope, uninstall_hooks(ctx.repo.hooks_dir), str(ctx.repo.hooks_dir))
