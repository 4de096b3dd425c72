"""The fsck checks that need no store: the pointers the checked files hold, and the cache.

``references`` lists the pointers of HEAD's files (or of every commit) and, with
``--pointers``, checks those files against the lazy rules; ``check_cache`` hashes
every object of the local cache. See fsck.py for what each check means.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from ..cache import CHUNK, CachedObject
from ..checkout import lazy_paths
from ..context import Context
from ..errors import ObjectMissing
from ..gitcmd import blob_sizes, git
from ..hashing import sha256_stream
from ..progress import Progress
from ..repo import Entry, history_entries, pointer_entries, pointers_of_blobs, tree_rows
from .fsck_report import NON_CANONICAL, NOT_A_POINTER, UNTRACKED_POINTER, FsckResult, Problem

__all__ = ["HASH_THREADS", "check_cache", "references"]

#: Cached objects hashed at once: hashlib releases the interpreter on big buffers.
HASH_THREADS = min(4, os.cpu_count() or 1)


# --- what the repository references ----------------------------------------------


def _has_head(ctx: Context) -> bool:
    return bool(git("rev-parse", "--verify", "--quiet", "HEAD", cwd=ctx.work_tree, check=False).strip())


def _history_rows(ctx: Context) -> list[tuple[bytes, str, str]]:
    """(path, "", object name) for every object every ref reaches; trees are dropped later.

    git> <object name> SP <path> LF     (one path per object; cut at a newline)

    The mode is not listed: a symlink under a lazy rule would be taken for a file.
    """
    out = git("rev-list", "--objects", "--missing=allow-promisor", "--all", "--", cwd=ctx.work_tree)
    rows: dict[tuple[bytes, str], None] = {}
    for line in out.split(b"\n"):
        name, _, path = line.partition(b" ")
        if name and path:
            rows[(path, name.decode("ascii", "replace"))] = None
    return [(path, "", name) for path, name in rows]


def references(ctx: Context, all_refs: bool, pointers: bool, result: FsckResult) -> list[Entry]:
    """The pointer entries of HEAD (or of every commit); with ``pointers``, also check the rules."""
    top = ctx.work_tree
    if not _has_head(ctx):
        return []
    if not pointers:
        if all_refs:
            return history_entries(["--all"], top)
        return pointer_entries(tree_rows(top, "HEAD"), top)
    rows = _history_rows(ctx) if all_refs else tree_rows(top, "HEAD")
    rows = [row for row in rows if row[1] in ("", "100644", "100755")]  # no symlinks, no submodules
    sizes = blob_sizes(sorted({blob for _, _, blob in rows}), cwd=top)
    rows = [row for row in rows if row[2] in sizes]  # blobs only
    found = pointers_of_blobs(sorted(sizes), top, sizes)
    tracked = lazy_paths(top, sorted({path for path, _, _ in rows}))
    result.files = len(rows)
    problems: dict[tuple[str, str], Problem] = {}

    def report(kind: str, blob: str, path: bytes, detail: str) -> None:
        problem = problems.setdefault((kind, blob), Problem(kind, blob, detail=detail))
        if path not in problem.paths:
            problem.paths.append(path)

    for path, _, blob in rows:
        pointer = found.get(blob)
        if path in tracked:
            if pointer is None and sizes[blob] > 0:
                report(NOT_A_POINTER, blob, path,
                       f"under a lazy rule but committed as content ({sizes[blob]} bytes, blob {blob})")
            elif pointer is not None and not pointer.canonical:
                report(NON_CANONICAL, blob, path, f"the pointer (blob {blob}) has CRLF line ends")
        elif pointer is not None:
            report(UNTRACKED_POINTER, blob, path, f"a pointer (blob {blob}) at a path no lazy rule covers")
    result.problems += problems.values()
    return [Entry(path, mode, blob, found[blob]) for path, mode, blob in rows if blob in found]


# --- the cache -------------------------------------------------------------------


def _hash_cached(ctx: Context, oid: str, progress: Progress) -> tuple[str, int] | str | None:
    """(sha256, size) of a cached object, read in chunks; why it cannot be read; None if it went."""
    try:
        f = ctx.cache.open(oid)
    except ObjectMissing:
        return None  # removed meanwhile (prune, another fsck)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    try:
        with f:
            found = sha256_stream(f, progress.add_bytes, CHUNK)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    progress.object_done()
    return found


def check_cache(ctx: Context, result: FsckResult, progress: Progress) -> tuple[dict[str, int], dict[str, str]]:
    """Hash every cached object; return ({oid: size} of good copies, {oid: what is wrong} of bad ones)."""
    objects: list[CachedObject] = list(ctx.cache.list())
    progress.total_objects, progress.total_bytes = len(objects), sum(o.size for o in objects)
    good: dict[str, int] = {}
    bad: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
        answers = list(pool.map(lambda o: _hash_cached(ctx, o.oid, progress), objects))
    progress.finish()
    for obj, answer in zip(objects, answers):
        if answer is None:
            continue
        result.cached += 1
        if isinstance(answer, str):
            bad[obj.oid] = answer
            continue
        got, size = answer
        result.cached_bytes += size
        if got == obj.oid:
            good[obj.oid] = size
        else:
            bad[obj.oid] = f"hashes to {got} ({size} bytes)"
    return good, bad
