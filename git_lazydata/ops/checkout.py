"""``git lazy checkout``: write pointer files' content from the cache alone (no network)."""

from __future__ import annotations

from ..checkout import MaterializeResult, materialize
from ..context import Context
from ..errors import LazyError
from ..repo import index_rows, pointer_entries

__all__ = ["checkout"]


def checkout(ctx: Context, paths: list[str] | None = None) -> MaterializeResult:
    """Materialize the index's pointer files under ``paths`` that the cache can fill."""
    entries = pointer_entries(index_rows(ctx.cwd, paths), ctx.work_tree)
    if paths and not entries:
        raise LazyError(f"no git-lazy file matches {' '.join(paths)}")
    return materialize(ctx.work_tree, entries, ctx.cache)
