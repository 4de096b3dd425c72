"""``git lazy push``: upload to a store what chosen commits reference and it lacks."""

from __future__ import annotations

from ..context import Context
from ..errors import LazyError
from ..gitcmd import git
from ..progress import Progress
from ..repo import history_entries
from ..sync import SyncResult
from ..sync import push as push_entries

__all__ = ["push"]


def _is_revision(ctx: Context, name: str) -> bool:
    if name.startswith("-"):
        return False
    out = git("rev-parse", "--verify", "--quiet", "--end-of-options", name + "^{commit}",
              cwd=ctx.work_tree, check=False)
    return bool(out.strip())


def push(ctx: Context, store_name: str | None, revs: list[str], *, all_refs: bool = False,
         jobs: int | None = None, progress: Progress | None = None) -> SyncResult:
    """Upload the objects that ``revs`` (default HEAD; ``all_refs``: every ref) reference.

    ``--all`` also asks the store about every object instead of trusting the record
    of what it holds (record.py): the way to repair a store that lost objects.
    """
    cfg = ctx.config
    if store_name is not None and store_name not in cfg.remotes and _is_revision(ctx, store_name):
        revs, store_name = [store_name, *revs], None  # "git lazy push main": a revision
    for rev in revs:
        if rev.startswith("-"):
            raise LazyError(f"not a revision: {rev!r}")
    remote = cfg.push_remote(store_name)
    if not revs and not all_refs:
        revs = ["HEAD"]
    entries = history_entries(["--all"] if all_refs else revs, ctx.work_tree)
    ctx.cache.remove_stale_temps()  # left by processes killed mid-write, over an hour ago
    return push_entries(ctx, remote, entries, progress=progress, jobs=jobs, ask_store=all_refs)
