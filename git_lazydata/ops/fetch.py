"""``git lazy fetch``: download the objects of chosen files and write the files out."""

from __future__ import annotations

from ..context import Context
from ..errors import LazyError
from ..lookup import resolve_rev
from ..progress import Progress
from ..repo import index_rows, pointer_entries, tree_rows
from ..sync import SyncResult
from ..sync import fetch as fetch_entries

__all__ = ["fetch"]


def fetch(ctx: Context, paths: list[str], *, rev: str | None = None, all_files: bool = False,
          jobs: int | None = None, progress: Progress | None = None) -> SyncResult:
    """Fetch the files ``paths`` select (pathspecs, relative to ``ctx.cwd``).

    With ``rev``, the files of that revision go into the cache only.
    """
    if not paths and not all_files:
        raise LazyError("name the files to fetch (paths or globs), or use --all")
    if paths and all_files:
        raise LazyError("name the files to fetch, or use --all, not both")
    where = ctx.work_tree if all_files else ctx.cwd  # --all: every file, from any folder
    rows = tree_rows(where, resolve_rev(ctx, rev), paths) if rev is not None else index_rows(where, paths)
    entries = pointer_entries(rows, ctx.work_tree)
    if paths and not entries:
        raise LazyError(f"no git-lazy file matches {' '.join(paths)}")
    ctx.cache.remove_stale_temps()
    return fetch_entries(ctx, entries, progress=progress, jobs=jobs, write=rev is None)
