"""``git lazy checkout``: write pointer files' content from the cache alone (no network)."""

from __future__ import annotations

from ..cache import Cache
from ..checkout import MaterializeResult, materialize
from ..repo import Repo, index_rows, pointer_entries
from ..settings import Settings

__all__ = ["checkout"]


def checkout(paths: list[str] | None = None) -> MaterializeResult:
    """Materialize the index's pointer files under ``paths`` that the cache can fill."""
    work_tree = Repo.discover().require_work_tree()
    entries = pointer_entries(index_rows(None, paths), work_tree)
    settings = Settings.load()
    return materialize(work_tree, entries, Cache(settings.cache_root))
