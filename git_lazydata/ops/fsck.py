"""``git lazy fsck``: check the cache, the pointers and the stores; repair what can be.

What is checked:

- Every object in the local cache (the per-user one, shared by every repository) is
  read in full and hashed, a few at a time, 1 MiB at a time (flat memory whatever its
  size). A copy that does not hash to its name is corrupt.
- Every pointer in the files of HEAD (``--all``: of every commit any ref reaches, the
  selection of ``push --all``) names an object that, when it is cached, must be that
  object at the pointer's size. An object that is not cached is fine: files are
  fetched lazily.
- ``--pointers``: the same files, against the rules as git-lazy applies them today
  (``filter=lazy`` from ``git check-attr``, as checkout decides): a file under a rule
  whose blob is not a pointer (content committed without the filter), a pointer that
  is not in its one canonical encoding (CRLF), and a pointer at a path no rule covers.
- ``--remote``: each configured store is asked once, in bulk, which of the referenced
  objects it lacks at their size (``Store.missing``). Each one it lacks is then opened
  with an empty range (one request, no bytes) to tell an absent object, which is fine
  while another store holds it, from one held at another size, which is corrupt. An
  object that no store holds at its size is reported: if the cache has it, ``git lazy
  push`` sends it; otherwise it is lost. What the stores answered corrects the record of
  what each holds (record.py), which ``push`` and ``prune`` trust.
- ``--read-data`` (implies ``--remote``): also stream and hash every referenced object
  from every store that holds it.

Why store objects are not read by default: reading is downloading. For a dataset of a
few TiB, each ``--remote`` run would move all of it out of every store (S3 bills each
GiB that leaves it), where the bulk size check costs a request per thousand objects. A
size check finds what goes wrong in practice with our uploads and with other tools
writing the same keys (a cut copy, another file under the name); bytes that rot at
the same size need a read, which is asked for with ``--read-data``, as ``restic check
--read-data`` does. Corrupt store objects are thus those held at the wrong size, and
with ``--read-data`` also those whose bytes fail the hash.

What ``--repair`` does:

- A corrupt cached object is removed first (the filter would otherwise hand its bytes
  to git), then, if the files checked here use it, it is downloaded again through the
  transfer engine, which verifies every byte, tries the stores in order and skips a
  corrupt copy. An object no file here uses belongs to another repository (the cache
  is shared) and its size is not known here: it is only removed, and that repository
  fetches it again when it needs it.
- A corrupt store object is deleted and uploaded again through the engine, from a
  copy in the cache that hashed right in this run at the size the pointer declares
  (if the cache lacks one, it is first downloaded from the other stores, verified).
  Without such a copy nothing is deleted: a store's copy at another size might be the
  right one under a pointer that lies about its size. Only stores this clone may push
  to are touched (``git lazy remote accept``). Delete comes first because the engine
  skips what a store says it holds, and a bad copy of the right size looks held; a
  good copy is in the cache throughout.
- Not repaired: an object in no store (``git lazy push`` uploads it), pointer problems
  (they need a new commit), a pointer whose size is wrong, a store that did not answer.

The result lists every problem with what was repaired; the command line prints it.

This module runs the checks in order; fsck_report.py has the kinds of problem and the
result, fsck_local.py the pointer and cache checks, fsck_stores.py the store checks
and the repairs.
"""

from __future__ import annotations

from ..context import Context
from ..progress import Progress
from ..stores import Store
from ..sync import entry_paths, open_remote
from .fsck_local import check_cache, references
from .fsck_report import (
    CORRUPT,
    MISSING,
    NON_CANONICAL,
    NOT_A_POINTER,
    STORE_CORRUPT,
    STORE_ERROR,
    UNTRACKED_POINTER,
    WRONG_SIZE,
    FsckResult,
    Problem,
    ProgressFactory,
)
from .fsck_stores import check_remote, repair_cache

__all__ = [
    "CORRUPT", "MISSING", "NON_CANONICAL", "NOT_A_POINTER", "STORE_CORRUPT", "STORE_ERROR",
    "UNTRACKED_POINTER", "WRONG_SIZE", "FsckResult", "Problem", "fsck",
]


def fsck(ctx: Context, *, pointers: bool = False, remote: bool = False, read_data: bool = False,
         repair: bool = False, all_refs: bool = False,
         progress: ProgressFactory | None = None) -> FsckResult:
    """Check the cache, HEAD's (or every ref's) pointers and, with ``remote``, the stores.

    ``progress(label)`` makes the progress of each long step (hashing the cache,
    reading a store, a repair's transfers). See the module docstring for what is
    checked and what ``repair`` does.
    """
    make_progress: ProgressFactory = progress or Progress
    remote = remote or read_data
    result = FsckResult()
    entries = references(ctx, all_refs, pointers, result)
    paths = entry_paths(entries)
    good, bad = check_cache(ctx, result, make_progress("Checking the cache"))

    # The size each object must have: a verified cached copy proves it; else the pointer says.
    sizes: dict[str, int] = {}
    wrong_size: dict[tuple[str, int], Problem] = {}
    for entry in entries:
        p = entry.pointer
        if p.size == 0:
            continue  # the empty file: no object anywhere
        if p.oid in good and good[p.oid] != p.size:
            problem = wrong_size.setdefault((p.oid, p.size), Problem(
                WRONG_SIZE, p.oid, where=ctx.cache.where,
                detail=f"the pointer says {p.size} bytes; the object is {good[p.oid]} bytes"))
            if entry.path not in problem.paths:
                problem.paths.append(entry.path)
        sizes.setdefault(p.oid, good.get(p.oid, p.size))
    result.referenced = len(sizes)
    result.problems += wrong_size.values()
    corrupt = {oid: Problem(CORRUPT, oid, paths.get(oid, []) if oid in sizes else [], ctx.cache.where,
                            f"the cached copy {why}")
               for oid, why in sorted(bad.items())}
    result.problems += corrupt.values()

    stores: list[tuple[str, Store]] = []
    try:
        if remote or (repair and corrupt):
            cfg = ctx.config
            result.warnings += cfg.warnings
            if remote and not cfg.remotes:
                raise cfg.no_store()
            for r in cfg.remotes.values():
                stores.append((r.name, open_remote(ctx, r)))
        verified = {oid for oid in good if oid in sizes and good[oid] == sizes[oid]}
        if repair and corrupt:
            verified |= repair_cache(ctx, corrupt, sizes, stores, make_progress, result)
        if remote:
            check_remote(ctx, stores, sizes, paths, verified, read_data, repair, make_progress, result)
    finally:
        for _, store in stores:
            result.warnings += store.warnings
            store.close()
    return result
