"""``git lazy prune``: free cache space no repository needs, without losing anything.

An object is kept when any repository that uses this cache (usage.py) needs it: a
file of its index (what is checked out), of HEAD, or of the tip of a branch, tag or
remote-tracking branch committed within ``keep_recent`` days. An object that is in no
store is always kept: with ``verify_remote``, this repository's stores are asked;
otherwise the record of what stores hold (record.py) is trusted. Objects used within
the last hour are kept too, so a fetch or checkout running at the same time in
another process never loses the object it is writing out. Then the temp files and
unfinished multipart uploads that dead uploads left in this repository's stores
are swept, once a day old.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import CachedObject
from ..context import Context
from ..errors import LazyError
from ..gitcmd import git, git_lines_z
from ..record import StoreRecord
from ..repo import index_rows, pointers_of_blobs
from ..stores.base import STALE_TEMP_SECONDS
from ..stores.urls import redact
from ..sync import open_remote
from ..usage import forget, registered

__all__ = ["GRACE_SECONDS", "PruneResult", "needed_oids", "prune"]

#: Objects used this recently are kept whatever else is true (a concurrent fetch).
GRACE_SECONDS = 3600
#: Refs committed within this many days keep their objects, by default.
KEEP_RECENT_DAYS = 7


@dataclass
class PruneResult:
    """What prune removed (or, in a dry run, would remove) and what it kept, and why."""

    removed: list[CachedObject] = field(default_factory=list)
    kept_needed: int = 0
    kept_recent: int = 0
    kept_unpushed: int = 0
    repositories: int = 0
    swept: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def freed(self) -> int:
        """Bytes removed (or that would be)."""
        return sum(o.size for o in self.removed)


def needed_oids(work_tree: Path, keep_recent: float) -> set[str]:
    """The oids a repository needs: its index, HEAD, and refs committed within ``keep_recent`` days."""
    since = int(time.time() - keep_recent * 86400)
    tips = git("rev-list", "--no-walk=unsorted", f"--since={since}", "--branches", "--tags", "--remotes",
               cwd=work_tree, check=False).decode().split()
    head = git("rev-parse", "--verify", "--quiet", "HEAD", cwd=work_tree, check=False).decode().strip()
    blobs = {blob for _, mode, blob in index_rows(work_tree) if mode in ("100644", "100755")}
    for tip in dict.fromkeys([*tips, *([head] if head else [])]):
        # ls-tree itself, not repo.tree_rows: that one fetches the blobs a partial clone
        # left out, and prune must not download anything.
        for item in git_lines_z("ls-tree", "-r", "-z", tip, cwd=work_tree):
            meta = item.partition(b"\t")[0].decode().split()
            if meta[1] == "blob" and meta[0] in ("100644", "100755"):
                blobs.add(meta[2])
    return {p.oid for p in pointers_of_blobs(sorted(blobs), work_tree).values()}


def _repositories(ctx: Context) -> list[Path]:
    """The work trees that use this cache and still exist (forgetting the others), this one first."""
    here = ctx.work_tree.resolve()
    found = [here]
    for work_tree in registered(ctx.cache.root):
        if work_tree == here:
            continue
        if not (work_tree / ".git").exists():
            forget(ctx.cache.root, work_tree)  # removed, or moved (it registers again when used)
            continue
        found.append(work_tree)
    return found


def _in_stores(ctx: Context, objects: list[CachedObject], result: PruneResult) -> set[str]:
    """The oids of ``objects`` that this repository's stores say they hold at the right size."""
    cfg = ctx.config
    if not cfg.remotes:
        raise cfg.no_store()
    confirmed: set[str] = set()
    for remote in cfg.remotes.values():
        left = {o.oid: o.size for o in objects if o.oid not in confirmed}
        if not left:
            break
        store = open_remote(ctx, remote)
        try:
            confirmed |= set(left) - store.missing(left)
        except LazyError as exc:
            result.warnings.append(f"{remote.name}: {redact(str(exc))}; its objects are kept")
        finally:
            store.close()
    return confirmed


def _sweep(ctx: Context, result: PruneResult) -> None:
    """Remove what dead uploads left in the stores this clone may write to, once a day old."""
    for remote in ctx.config.remotes.values():
        if not remote.pushable:
            continue
        store = open_remote(ctx, remote)
        try:
            result.swept += store.sweep(STALE_TEMP_SECONDS)
        except LazyError as exc:
            result.warnings.append(f"{remote.name}: {redact(str(exc))}")
        finally:
            store.close()


def prune(ctx: Context, *, dry_run: bool = False, verify_remote: bool = False,
          keep_recent: float = KEEP_RECENT_DAYS) -> PruneResult:
    """Delete cached objects that no repository of this cache needs and that are safe in a store."""
    if keep_recent < 0:
        raise LazyError("--keep-recent takes a number of days, 0 or more")
    result = PruneResult()
    needed: set[str] = set()
    for work_tree in _repositories(ctx):
        try:
            needed |= needed_oids(work_tree, keep_recent)
        except LazyError as exc:
            raise LazyError(f"cannot tell what {work_tree} needs ({exc}); nothing was removed") from None
        result.repositories += 1
    fresh = time.time() - GRACE_SECONDS
    candidates = []
    for obj in ctx.cache.list():
        if obj.oid in needed:
            result.kept_needed += 1
        elif obj.used > fresh:
            result.kept_recent += 1
        else:
            candidates.append(obj)
    if verify_remote:
        safe = _in_stores(ctx, candidates, result)
    else:
        record = StoreRecord(ctx.cache.root, "")
        try:
            safe = record.in_any_store(o.oid for o in candidates)
        finally:
            record.close()
    for obj in candidates:
        if obj.oid not in safe:
            result.kept_unpushed += 1
        elif dry_run or ctx.cache.remove(obj.oid):
            result.removed.append(obj)
    if not dry_run:
        ctx.cache.remove_stale_temps()
        _sweep(ctx, result)
    return result
