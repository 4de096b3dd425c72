"""``git lazy copy``: replicate what the repository references from one store to another.

Objects stream from the source store to the destination through the transfer
engine (verified, in parallel, resumable per object) and never enter the local
cache. Between two buckets of one S3 service the copy is server-side: no byte of
the objects passes through this machine.
"""

from __future__ import annotations

from ..context import Context
from ..errors import LazyError
from ..progress import Progress
from ..record import StoreRecord
from ..repo import history_entries
from ..sync import SyncResult, check_pushable, entry_paths, open_remote, unique_pointers
from ..transfer import copy as copy_objects

__all__ = ["copy"]


def copy(ctx: Context, source: str, dest: str, revs: list[str], *, all_refs: bool = False,
         jobs: int | None = None, progress: Progress | None = None) -> SyncResult:
    """Copy into store ``dest`` the objects that ``revs`` (default HEAD; ``all_refs``: every ref) reference.

    Each object the destination lacks is read from ``source``; an object ``source``
    lacks is reported by the paths that use it.
    """
    cfg = ctx.config
    src, dst = cfg.remote(source), cfg.remote(dest)
    if src.name == dst.name:
        raise LazyError(f"--from and --to name the same store {src.name!r}")
    check_pushable(ctx, dst)
    for rev in revs:
        if rev.startswith("-"):
            raise LazyError(f"not a revision: {rev!r}")
    entries = history_entries(["--all"] if all_refs else (revs or ["HEAD"]), ctx.work_tree)
    paths = entry_paths(entries)
    pointers = [p for p in unique_pointers(entries) if p.size > 0]
    reader, writer = open_remote(ctx, src), open_remote(ctx, dst)
    record = StoreRecord(ctx.cache.root, writer.ident)
    try:
        if pointers:
            writer.prepare_push()
        result = copy_objects((src.name, reader), writer, pointers, jobs=jobs or cfg.concurrency,
                              progress=progress)
        record.add([*result.done, *result.present])
    finally:
        record.close()
        reader.close()
        writer.close()
    warnings = cfg.warnings + result.warnings + reader.warnings + writer.warnings
    return SyncResult(result, paths, dst.name, warnings=warnings)
