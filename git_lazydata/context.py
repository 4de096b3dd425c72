"""The repository an operation works on: made once, then passed to every operation.

Nothing below the command line, the hooks and the Python API looks at the process's
working directory: they take a :class:`Context`. One is made from a path (any folder
inside a repository, by default the current one); it knows the repository's folders,
the local settings, the object cache, and, read on first use, the merged store
configuration.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from .cache import Cache
from .config import LazyConfig, load_config
from .errors import LazyError
from .repo import Repo
from .settings import Settings
from .usage import register

__all__ = ["Context"]


class Context:
    """A repository, its settings, the cache and the store configuration."""

    def __init__(self, repo: Repo, settings: Settings, cwd: Path) -> None:
        """Use ``repo``; pathspecs given by the user are relative to ``cwd``."""
        self.repo = repo
        self.settings = settings
        self.cwd = cwd
        self.cache = Cache(settings.cache_root)
        if repo.work_tree is not None:
            register(settings.cache_root, repo.work_tree)  # prune keeps what this repository needs

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Context:
        """Find the repository around ``path`` (a folder or a file; default: the current folder)."""
        where = Path(path).absolute() if path is not None else Path.cwd()
        if path is not None and not where.is_dir():
            if not where.parent.is_dir():
                raise LazyError(f"no such folder: {where.parent}")
            where = where.parent
        repo = Repo.discover(where)
        return cls(repo, Settings.load(str(where)), where)

    @classmethod
    def find(cls, path: str | os.PathLike[str] | None = None) -> Context | None:
        """Like :meth:`open`, but None outside a repository."""
        try:
            return cls.open(path)
        except LazyError:
            return None

    @property
    def work_tree(self) -> Path:
        """The top of the work tree; a clear error in a bare repository."""
        return self.repo.require_work_tree()

    @cached_property
    def config(self) -> LazyConfig:
        """The stores and fetch rules: ``.lazyconfig`` merged with git config."""
        return load_config(self.work_tree)

    def reload_config(self) -> LazyConfig:
        """Forget the configuration read so far (after changing it) and read it again."""
        self.__dict__.pop("config", None)
        return self.config
