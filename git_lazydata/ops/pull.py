"""``git lazy pull``: fetch and write what ``lazy.fetchinclude``/``fetchexclude`` select.

The post-checkout and post-merge hooks do the same for the files a checkout or a
merge changed; ``pull`` covers every file of the index (HEAD), or the given paths.
"""

from __future__ import annotations

from ..context import Context
from ..errors import LazyError
from ..progress import Progress
from ..repo import index_rows, pointer_entries
from ..sync import SyncResult
from ..sync import fetch as fetch_entries

__all__ = ["pull"]


def pull(ctx: Context, paths: list[str] | None = None, *, jobs: int | None = None,
         progress: Progress | None = None) -> SyncResult:
    """Fetch and write the files ``paths`` select, or else what include/exclude select."""
    if paths:
        rows = index_rows(ctx.cwd, paths)
    else:
        rows = index_rows(ctx.work_tree, ctx.config.fetch_pathspecs() or [])
    entries = pointer_entries(rows, ctx.work_tree)
    if paths and not entries:
        raise LazyError(f"no git-lazy file matches {' '.join(paths)}")
    ctx.cache.remove_stale_temps()
    return fetch_entries(ctx, entries, progress=progress, jobs=jobs)
