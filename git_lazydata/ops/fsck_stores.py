"""The fsck checks of the stores, and the repairs (which go through the stores).

``check_remote`` asks every store, in bulk, which referenced objects it holds at
their size (and with ``--read-data`` hashes them), repairs bad store copies with
``--repair`` and reports what no store holds; ``repair_cache`` replaces corrupt
cached objects. See fsck.py for what each check and repair does, and why.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..cache import CHUNK
from ..context import Context
from ..errors import LazyError, ObjectMissing
from ..hashing import sha256_stream
from ..pointer import Pointer
from ..progress import Progress
from ..record import StoreRecord
from ..stores import Store
from ..stores.base import parallel
from ..stores.urls import redact
from ..sync import check_pushable
from ..transfer import DEFAULT_JOBS, TransferResult, download, retrying, upload
from .fsck_report import MISSING, STORE_CORRUPT, STORE_ERROR, FsckResult, Problem, ProgressFactory

__all__ = ["LOCAL_READS", "check_remote", "repair_cache"]

#: Objects read at once from a folder store (no round trips to hide).
LOCAL_READS = 2


@dataclass
class _StoreCheck:
    """What one store holds of the referenced objects."""

    name: str
    store: Store
    good: set[str] = field(default_factory=set)  # held at the right size (and hash, when read)
    bad: dict[str, str] = field(default_factory=dict)  # oid -> what is wrong with the store's copy
    absent: set[str] = field(default_factory=set)  # not held at all
    failed: str | None = None  # why the store could not be asked at all


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
        with store.open(oid) as body:
            return sha256_stream(body, progress.add_bytes, CHUNK)

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


def repair_cache(ctx: Context, bad: dict[str, Problem], sizes: dict[str, int], stores: list[tuple[str, Store]],
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


# --- every store, and what none holds ---------------------------------------------


def check_remote(ctx: Context, stores: list[tuple[str, Store]], sizes: dict[str, int],
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
