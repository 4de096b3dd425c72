"""``git lazy clone``: clone without data, set git-lazy up, fetch only what is included.

git clones with the filter off, so checkout writes pointer files and no data moves
through git's filter pipe. The clone then gets the filter and hooks (``install
--local``), keeps ``--include``/``--exclude`` in its ``.git/config`` as
``lazy.fetchinclude``/``lazy.fetchexclude`` (later checkouts and merges follow
them), and fetches the included files in parallel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..context import Context
from ..errors import LazyError
from ..gitcmd import git, git_shown
from ..progress import Progress
from ..sync import SyncResult
from .install import install
from .pull import pull

__all__ = ["CloneResult", "clone", "default_directory"]


@dataclass(frozen=True)
class CloneResult:
    """The new clone's folder and what was fetched into it."""

    path: Path
    fetched: SyncResult
    #: committed folder stores left unaccepted for push: (name, folder)
    held: list[tuple[str, str]] = field(default_factory=list)


def default_directory(url: str) -> str:
    """The folder git itself would clone ``url`` into (``host:team/data.git`` -> ``data``)."""
    name = url.rstrip("/")
    name = name[: -len("/.git")] if name.endswith("/.git") else name
    name = re.split(r"[/:]", name)[-1]
    name = name[: -len(".git")] if name.endswith(".git") and len(name) > 4 else name
    if not name or name in (".", ".."):
        raise LazyError(f"cannot guess a folder name from {url!r}; give one")
    return name


def clone(url: str, directory: str | None, *, cwd: Path, include: list[str], exclude: list[str],
          quiet: bool = False, jobs: int | None = None, progress: Progress | None = None) -> CloneResult:
    """Clone ``url`` into ``directory`` and fetch what include/exclude select."""
    if url.startswith("-"):
        raise LazyError(f"not a repository URL: {url!r}")
    for pattern in (*include, *exclude):
        if not pattern.strip() or "," in pattern or any(ch in pattern for ch in "\r\n\0"):
            raise LazyError(f"not a usable pattern: {pattern!r} (one pattern per option, no commas)")
    target = cwd / (directory or default_directory(url))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise LazyError(f"destination {str(target)!r} already exists and is not an empty folder")
    git_shown("clone", *(["-q"] if quiet else []), "--", url, str(target), cwd=cwd)
    ctx = Context.open(target)
    installed = install(ctx, "local")
    for key, values in (("lazy.fetchinclude", include), ("lazy.fetchexclude", exclude)):
        if values:
            git("config", "--local", key, ",".join(values), cwd=target)
    ctx.reload_config()
    return CloneResult(target, pull(ctx, jobs=jobs, progress=progress), installed.held)
