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
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..cache import CHUNK, CachedObject
from ..checkout import lazy_paths
from ..context import Context
from ..errors import LazyError, ObjectMissing
from ..gitcmd import blob_sizes, git
from ..pointer import Pointer
from ..progress import Progress
from ..record import StoreRecord
from ..repo import Entry, history_entries, pointer_entries, pointers_of_blobs, tree_rows
from ..stores import Store
from ..stores.base import parallel
from ..stores.urls import redact
from ..sync import check_pushable, open_remote
from ..transfer import DEFAULT_JOBS, TransferResult, download, retrying, upload

__all__ = [
    "CORRUPT", "MISSING", "NON_CANONICAL", "NOT_A_POINTER", "STORE_CORRUPT", "STORE_ERROR",
    "UNTRACKED_POINTER", "WRONG_SIZE", "FsckResult", "Problem", "fsck",
]

#: A cached object that does not hash to its oid (or cannot be read).
CORRUPT = "corrupt"
#: A pointer whose size is not the size of its object (the cached copy proves it).
WRONG_SIZE = "wrong-size"
#: ``--remote``: an object no store holds at its size.
MISSING = "missing"
#: ``--remote``: a store holds other bytes under the object's name.
STORE_CORRUPT = "store-corrupt"
#: ``--remote``: a store could not be asked, or could not read an object.
STORE_ERROR = "store-error"
#: ``--pointers``: a file under a lazy rule committed as content.
NOT_A_POINTER = "not-a-pointer"
#: ``--pointers``: a pointer in another encoding than the canonical one (CRLF line ends).
NON_CANONICAL = "non-canonical"
#: ``--pointers``: a pointer committed at a path that no lazy rule covers.
UNTRACKED_POINTER = "untracked-pointer"

#: Cached objects hashed at once: hashlib releases the interpreter on big buffers.
HASH_THREADS = min(4, os.cpu_count() or 1)
#: Objects read at once from a folder store (no round trips to hide).
LOCAL_READS = 2

ProgressFactory = Callable[[str], Progress]


@dataclass
class Problem:
    """One thing wrong: its kind, the object (a git blob for pointer problems), where, and why.

    ``paths`` are the files that use the object (none for a cached object no file here
    uses); ``where`` is the local cache or a store's name; ``repaired`` says how it was
    put right, None while it is not.
    """

    kind: str
    oid: str
    paths: list[bytes] = field(default_factory=list)
    where: str = ""
    detail: str = ""
    repaired: str | None = None


@dataclass
class FsckResult:
    """What fsck checked, and every problem it found (repaired or not)."""

    problems: list[Problem] = field(default_factory=list)
    cached: int = 0  # objects hashed in the cache
    cached_bytes: int = 0
    referenced: int = 0  # distinct objects the checked files use
    files: int = 0  # files checked against the lazy rules (--pointers)
    stores: list[str] = field(default_factory=list)  # stores asked (--remote)
    read_bytes: int = 0  # bytes read from stores (--read-data)
    warnings: list[str] = field(default_factory=list)

    @property
    def unrepaired(self) -> list[Problem]:
        """The problems still there."""
        return [p for p in self.problems if p.repaired is None]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong any more."""
        return not self.unrepaired


@dataclass
class _StoreCheck:
    """What one store holds of the referenced objects."""

    name: str
    store: Store
    good: set[str] = field(default_factory=set)  # held at the right size (and hash, when read)
    bad: dict[str, str] = field(default_factory=dict)  # oid -> what is wrong with the store's copy
    absent: set[str] = field(default_factory=set)  # not held at all
    failed: str | None = None  # why the store could not be asked at all


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


def _references(ctx: Context, all_refs: bool, pointers: bool, result: FsckResult) -> list[Entry]:
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
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    try:
        with f:
            while n := f.readinto(buffer):
                digest.update(view[:n])
                size += n
                progress.add_bytes(n)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    progress.object_done()
    return digest.hexdigest(), size


def _check_cache(ctx: Context, result: FsckResult, progress: Progress) -> tuple[dict[str, int], dict[str, str]]:
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


# --- the stores ------------------------------------------------------------------


def _jobs(ctx: Context, store: Store) -> int:
    return ctx.config.concurrency or (LOCAL_READS if getattr(store, "local", False) else DEFAULT_JOBS)


def _held(store: Store, oid: str) -> bool:
    """Whether the store has anything under ``oid``: an empty read, one request."""
    try:
        with retrying(lambda: store.open(oid, 0, 0)):
            return True
    except ObjectMissing:
        return False


def _read_store_object(store: Store, oid: str, size: int, progress: Progress) -> tuple[str, str]:
    """Stream one store object through sha256: ("good" | "bad" | "absent" | "error", detail)."""

    def attempt() -> tuple[str, int]:
        digest = hashlib.sha256()
        n = 0
        with store.open(oid) as body:
            while chunk := body.read(CHUNK):
                digest.update(chunk)
                n += len(chunk)
                progress.add_bytes(len(chunk))
        return digest.hexdigest(), n

    try:
        got, n = retrying(attempt)
    except ObjectMissing:
        return "absent", ""
    except (LazyError, OSError) as exc:
        return "error", redact(str(exc))
    progress.object_done()
    if got != oid or n != size:
        return "bad", f"its bytes hash to {got} ({n} bytes)"
    return "good", ""


def _check_store(ctx: Context, name: str, store: Store, objects: dict[str, int], read_data: bool,
                 make_progress: ProgressFactory, result: FsckResult) -> _StoreCheck:
    """Ask one store, in bulk, which objects it holds at their size; with ``read_data``, hash them."""
    check = _StoreCheck(name, store)
    jobs = _jobs(ctx, store)
    try:
        lacking = sorted(retrying(lambda: store.missing(objects)))
        there = parallel(lambda oid: _held(store, oid), lacking, jobs)
    except (LazyError, OSError) as exc:
        check.failed = redact(str(exc))
        return check
    for oid, held in zip(lacking, there):
        if held:
            check.bad[oid] = f"the store's copy is not {objects[oid]} bytes"
        else:
            check.absent.add(oid)
    check.good = set(objects) - set(lacking)
    if not read_data or not check.good:
        return check
    todo = sorted(check.good)
    progress = make_progress(f"Reading {name}")
    progress.total_objects, progress.total_bytes = len(todo), sum(objects[oid] for oid in todo)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        answers = list(pool.map(lambda oid: _read_store_object(store, oid, objects[oid], progress), todo))
    progress.finish()
    result.read_bytes += progress.bytes
    for oid, (state, detail) in zip(todo, answers):
        if state == "good":
            continue
        check.good.discard(oid)
        if state == "bad":
            check.bad[oid] = detail
        elif state == "absent":
            check.absent.add(oid)
        elif state == "error":
            result.problems.append(Problem(STORE_ERROR, oid, where=name, detail=f"cannot be read: {detail}"))
    return check


# --- repair ----------------------------------------------------------------------


def _download(ctx: Context, stores: list[tuple[str, Store]], objects: dict[str, int],
              make_progress: ProgressFactory, result: FsckResult) -> TransferResult:
    """Bring ``objects`` into the cache through the engine (verified; the stores in order)."""
    pointers = [Pointer(oid, size) for oid, size in sorted(objects.items())]
    fetched = download(stores, ctx.cache, pointers, jobs=ctx.config.concurrency,
                       progress=make_progress("Downloading"))
    result.warnings += fetched.warnings
    return fetched


def _repair_cache(ctx: Context, bad: dict[str, Problem], sizes: dict[str, int], stores: list[tuple[str, Store]],
                  make_progress: ProgressFactory, result: FsckResult) -> set[str]:
    """Remove corrupt cached objects; download the used ones again. Return the oids now good."""
    for oid in bad:
        ctx.cache.remove(oid)
    wanted = {oid: sizes[oid] for oid in bad if oid in sizes}
    fetched = _download(ctx, stores, wanted, make_progress, result) if wanted else TransferResult()
    for oid, problem in bad.items():
        if oid not in sizes:
            problem.repaired = "removed the corrupt copy (no file checked here uses it)"
        elif oid in fetched.done or oid in fetched.present:
            problem.repaired = "removed the corrupt copy and downloaded the object again"
        else:
            reason = redact(fetched.failed.get(oid, "no store has it"))
            problem.detail += f"; removed the corrupt copy, but it could not be downloaded again: {reason}"
    return set(fetched.done) | set(fetched.present)


def _repair_store(ctx: Context, check: _StoreCheck, problems: dict[str, Problem], sizes: dict[str, int],
                  verified: set[str], make_progress: ProgressFactory, result: FsckResult) -> None:
    """Delete the store's bad copies that the cache holds verified, and upload those again."""
    fixable = [oid for oid in sorted(check.bad) if oid in verified]
    for oid in sorted(set(check.bad) - set(fixable)):
        problems[oid].detail += "; not repaired: no verified copy in the local cache or another store"
    if not fixable:
        return
    try:
        check_pushable(ctx, ctx.config.remote(check.name))
        retrying(check.store.prepare_push)
    except (LazyError, OSError) as exc:
        for oid in fixable:
            problems[oid].detail += f"; not repaired: {redact(str(exc))}"
        return
    deleted = []
    for oid in fixable:
        try:
            retrying(lambda oid=oid: check.store.delete(oid))  # type: ignore[misc]
        except (LazyError, OSError) as exc:
            problems[oid].detail += f"; not repaired: {redact(str(exc))}"
            continue
        deleted.append(Pointer(oid, sizes[oid]))
    sent = upload(check.store, ctx.cache, deleted, jobs=ctx.config.concurrency,
                  progress=make_progress(f"Uploading to {check.name}"))
    result.warnings += sent.warnings
    for pointer in deleted:
        problem = problems[pointer.oid]
        if pointer.oid in sent.done or pointer.oid in sent.present:
            problem.repaired = "deleted the store's copy and uploaded the cached one"
            check.good.add(pointer.oid)
            del check.bad[pointer.oid]
        else:
            problem.detail += ("; deleted the store's copy, but the upload failed: "
                               f"{redact(sent.failed.get(pointer.oid, 'unknown'))}")


def _record(ctx: Context, check: _StoreCheck) -> None:
    """Correct the record of what the store holds (record.py), which push and prune trust."""
    record = StoreRecord(ctx.cache.root, check.store.ident)
    try:
        record.add(sorted(check.good))
        record.forget(sorted(check.absent | set(check.bad)))
    finally:
        record.close()


# --- the command -------------------------------------------------------------------


def _paths(entries: list[Entry]) -> dict[str, list[bytes]]:
    paths: dict[str, list[bytes]] = {}
    for entry in entries:
        named = paths.setdefault(entry.pointer.oid, [])
        if entry.path not in named:
            named.append(entry.path)
    return paths


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
    entries = _references(ctx, all_refs, pointers, result)
    paths = _paths(entries)
    good, bad = _check_cache(ctx, result, make_progress("Checking the cache"))

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
            verified |= _repair_cache(ctx, corrupt, sizes, stores, make_progress, result)
        if remote:
            _check_remote(ctx, stores, sizes, paths, verified, read_data, repair, make_progress, result)
    finally:
        for _, store in stores:
            result.warnings += store.warnings
            store.close()
    return result


def _check_remote(ctx: Context, stores: list[tuple[str, Store]], sizes: dict[str, int],
                  paths: dict[str, list[bytes]], verified: set[str], read_data: bool, repair: bool,
                  make_progress: ProgressFactory, result: FsckResult) -> None:
    """Ask every store about every referenced object; repair bad copies; report what no store holds."""
    checks = [_check_store(ctx, name, store, sizes, read_data, make_progress, result) if sizes
              else _StoreCheck(name, store) for name, store in stores]
    result.stores = [name for name, _ in stores]
    for check in checks:
        if check.failed is not None:
            result.problems.append(Problem(STORE_ERROR, "", where=check.name, detail=check.failed))
    store_problems: dict[str, dict[str, Problem]] = {}
    for check in checks:
        mine = store_problems[check.name] = {}
        for oid, why in sorted(check.bad.items()):
            mine[oid] = Problem(STORE_CORRUPT, oid, paths.get(oid, []), check.name, why)
            result.problems.append(mine[oid])
    if repair and any(check.bad for check in checks):
        lacking = {oid: sizes[oid] for check in checks for oid in check.bad if oid not in verified}
        if lacking:  # a good copy from another store, verified on its way into the cache
            fetched = _download(ctx, stores, lacking, make_progress, result)
            verified |= set(fetched.done) | set(fetched.present)
        for check in checks:
            if check.bad:
                _repair_store(ctx, check, store_problems[check.name], sizes, verified, make_progress, result)
    for check in checks:
        if check.failed is None:
            _record(ctx, check)
    answered = all(check.failed is None for check in checks)
    for oid in sorted(sizes):
        if any(oid in check.good for check in checks):
            continue
        if oid in verified and ctx.cache.has(oid, sizes[oid]):
            detail = "in the local cache only; 'git lazy push' uploads it"
        elif answered:
            detail = "in no store and not in the local cache: lost"
        else:
            detail = "not in any store that answered, nor in the local cache"
        result.problems.append(Problem(MISSING, oid, paths.get(oid, []), "", detail))

