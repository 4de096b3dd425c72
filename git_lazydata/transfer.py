"""The transfer engine: moves many objects between the cache and stores, in parallel.

Stores only move bytes (stores/__init__.py). This module does everything around
that, once: a bulk existence check so nothing is sent twice, a pool of workers
(``lazy.concurrency``; by default 8 for remote stores, and one thread for many small
objects in a local folder, where threads only fight over the interpreter), retries with backoff on transient errors, sha256
verification of every byte on both sides (a local object that does not match its oid
is never uploaded; a download that does not match is discarded and the next store is
tried), progress, and a result that lists what failed instead of stopping at the
first failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from .cache import CHUNK, Cache
from .errors import (
    ChecksumMismatch,
    LazyError,
    ObjectMissing,
    RangeNotHonoured,
    StoreAuthError,
    StoreUnreachable,
    TransientStoreError,
)
from .pointer import Pointer
from .progress import Progress
from .stores import Store
from .stores.urls import redact

__all__ = ["RETRY_DELAYS", "TransferResult", "download", "retrying", "upload"]

#: Seconds to wait before each retry of a transient failure.
RETRY_DELAYS = (0.5, 2.0, 5.0)
#: The longest single wait a store's Retry-After gets, in seconds.
MAX_RETRY_AFTER = 60.0
#: The most time spent waiting between the attempts at one object, in seconds.
RETRY_BUDGET = 120.0

T = TypeVar("T")


@dataclass
class TransferResult:
    """What a transfer did: oids moved, oids already in place, and failures with a reason."""

    done: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed


def retrying(action: Callable[[], T], sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``action``, retrying TransientStoreError after each delay in RETRY_DELAYS.

    A store that says how long to wait (``Retry-After`` on a 429 or 503) is waited for,
    up to MAX_RETRY_AFTER at a time and RETRY_BUDGET in all; past that budget the
    error is given up on at once rather than waited out.
    """
    waited = 0.0
    for delay in RETRY_DELAYS:
        try:
            return action()
        except TransientStoreError as exc:
            asked = exc.retry_after
            wait = delay if asked is None else min(max(asked, delay), MAX_RETRY_AFTER)
            if waited + wait > RETRY_BUDGET:
                raise
            waited += wait
            sleep(wait)
    return action()


def _unique(pointers: Sequence[Pointer]) -> list[Pointer]:
    return list({p.oid: p for p in pointers}.values())


#: Downloads of objects at least this big are kept when cut and resumed (cache.PartialObject);
#: smaller ones start over, which costs less than the extra file operations.
RESUME_SIZE = 1024 * 1024
#: Parallel transfers to and from remote stores when nothing else is configured.
DEFAULT_JOBS = 8
#: Objects at least this big are worth a second thread in a local folder (hashing).
LOCAL_PARALLEL_SIZE = 1024 * 1024


def default_jobs(store: Store, pointers: Sequence[Pointer], *, upload: bool = False) -> int:
    """Choose how many transfers to run at once when the user did not say.

    Remote stores hide latency behind parallel requests. A local folder has none to
    hide: measured on 5,000 objects of 16 KiB, one thread copies them in 0.45 s and
    eight in 1.5 s (the threads queue for the interpreter between short syscalls),
    while big objects still gain from a second core for hashing. Uploads to a folder
    store end each object with fsyncs, which wait on the disk: there the waits overlap
    (300 objects of 16 KiB on a busy ext4 disk: 57 s on one thread, 29 s on eight).
    """
    if not getattr(store, "local", False):
        return DEFAULT_JOBS
    if upload and getattr(store, "durable_uploads", False):
        return DEFAULT_JOBS
    big = sum(1 for p in pointers if p.size >= LOCAL_PARALLEL_SIZE)
    return 2 if big * 2 >= len(pointers) else 1


def upload(store: Store, cache: Cache, pointers: Sequence[Pointer], *, jobs: int | None = None,
           progress: Progress | None = None) -> TransferResult:
    """Send the objects of ``pointers`` that ``store`` lacks; verify each one first.

    The caller has checked the store's format (``Store.prepare_push``).
    """
    result = TransferResult()
    todo = _unique(pointers)
    if not todo:
        return result
    lacking = store.missing({p.oid: p.size for p in todo})
    result.present = [p.oid for p in todo if p.oid not in lacking]
    send = [p for p in todo if p.oid in lacking]
    progress = progress or Progress()
    progress.total_objects, progress.total_bytes = len(send), sum(p.size for p in send)

    def one(pointer: Pointer) -> None:
        try:
            if not cache.has(pointer.oid):
                raise ObjectMissing(pointer.oid, "the local cache")
            # Stores read the file through hashing.VerifyingReader: bytes that no longer
            # match their oid are refused before the store publishes anything.
            retrying(lambda: store.upload(pointer.oid, pointer.size, cache.path(pointer.oid), progress.add_bytes))
        except StoreAuthError:
            raise
        except (LazyError, OSError) as exc:
            result.failed[pointer.oid] = redact(str(exc))
            return
        result.done.append(pointer.oid)
        result.bytes += pointer.size
        progress.object_done()

    _run_all(one, send, jobs or default_jobs(store, send, upload=True))
    progress.finish()
    return result


def download(stores: Sequence[tuple[str, Store]], cache: Cache, pointers: Sequence[Pointer], *,
             jobs: int | None = None, progress: Progress | None = None) -> TransferResult:
    """Bring into the cache the objects it lacks, trying ``stores`` in order; verify each."""
    result = TransferResult()
    fetch = []
    for p in _unique(pointers):
        if cache.has(p.oid, p.size):
            result.present.append(p.oid)
        else:
            fetch.append(p)
    progress = progress or Progress()
    progress.total_objects, progress.total_bytes = len(fetch), sum(p.size for p in fetch)

    counted: dict[str, int] = {}  # bytes of each object shown in the progress so far

    def from_store(store: Store, pointer: Pointer) -> None:
        if pointer.size < RESUME_SIZE:
            return whole(store, pointer)
        try:
            with cache.partial(pointer.oid, pointer.size) as part:
                # What an earlier attempt kept is not asked for again.
                kept = part.size
                progress.add_bytes(kept - counted.get(pointer.oid, 0))
                counted[pointer.oid] = kept
                try:
                    if part.size < pointer.size:
                        with store.open(pointer.oid, part.size) as body:
                            while chunk := body.read(max(1, min(CHUNK, pointer.size - part.size))):
                                part.write(chunk)
                                counted[pointer.oid] += len(chunk)
                                progress.add_bytes(len(chunk))
                    part.commit()  # a wrong hash deletes the part file
                except (ChecksumMismatch, RangeNotHonoured) as exc:
                    part.drop()
                    progress.add_bytes(-counted.pop(pointer.oid, 0))
                    if isinstance(exc, ChecksumMismatch) and not kept:
                        raise
                    # The bytes kept from before may be the bad ones, or the store cannot
                    # resume: once more, from byte 0.
                    whole(store, pointer)
        except BlockingIOError:  # another process is downloading it: do it on our own
            whole(store, pointer)

    def whole(store: Store, pointer: Pointer) -> None:
        moved = 0
        try:
            with cache.writer() as temp, store.open(pointer.oid) as body:
                # Ask for no more than is due (a 1 MiB buffer per small object costs an
                # mmap and munmap); the read past the end must come back empty.
                while chunk := body.read(max(1, min(CHUNK, pointer.size - moved))):
                    temp.write(chunk)
                    moved += len(chunk)
                    progress.add_bytes(len(chunk))
                temp.commit(pointer.oid, pointer.size)
        except BaseException:
            progress.add_bytes(-moved)  # the bytes will be counted again on retry
            raise

    # A store that cannot be reached, or refuses our credentials, is not asked again
    # for every other object: one slow timeout, not one per object.
    given_up: dict[str, str] = {}

    def one(pointer: Pointer) -> None:
        reasons = []
        for name, store in stores:
            if name in given_up:
                reasons.append(given_up[name])
                continue
            try:
                retrying(lambda store=store: from_store(store, pointer))  # type: ignore[misc]
            except (StoreUnreachable, StoreAuthError) as exc:
                given_up[name] = f"{name}: {redact(str(exc))}"
                reasons.append(given_up[name])
                continue
            except ObjectMissing:
                reasons.append(f"not in {name}")
                continue
            except ChecksumMismatch as exc:
                result.warnings.append(f"{name}: object {pointer.oid} is corrupt ({exc}); trying the next store")
                reasons.append(f"corrupt in {name}")
                continue
            except (LazyError, OSError) as exc:
                reasons.append(f"{name}: {redact(str(exc))}")
                continue
            result.done.append(pointer.oid)
            result.bytes += pointer.size
            progress.object_done()
            return
        result.failed[pointer.oid] = "; ".join(reasons) or "no store configured"

    _run_all(one, fetch, jobs or (default_jobs(stores[0][1], fetch) if stores else 1))
    progress.finish()
    return result


#: Small objects go to the pool in batches of up to this many objects or bytes: one
#: task per 16 KiB object costs more in thread hand-offs than the copy itself.
BATCH_OBJECTS = 64
BATCH_BYTES = 4 * 1024 * 1024


def _batches(items: list[Pointer]) -> list[list[Pointer]]:
    """Group objects, biggest first, into batches of similar total work."""
    batches: list[list[Pointer]] = []
    current: list[Pointer] = []
    held = 0
    for item in sorted(items, key=lambda p: -p.size):
        if current and (len(current) >= BATCH_OBJECTS or held + item.size > BATCH_BYTES):
            batches.append(current)
            current, held = [], 0
        current.append(item)
        held += item.size
    if current:
        batches.append(current)
    return batches


def _run_all(fn: Callable[[Pointer], None], items: list[Pointer], jobs: int) -> None:
    """Run ``fn`` over ``items`` on a pool; the first StoreAuthError stops the rest."""
    if not items:
        return
    batches = _batches(items)  # big objects first: the pool finishes together

    def run_batch(batch: list[Pointer]) -> None:
        for item in batch:
            fn(item)

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(batches)))) as pool:
        futures = [pool.submit(run_batch, batch) for batch in batches]
        try:
            for future in futures:
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
