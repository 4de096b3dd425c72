"""The transfer engine: moves many objects from sources to a destination, in parallel.

A source is anything that opens an object by range (the cache, a store, a file); a
destination is anything that says which objects it lacks and takes one from a
source: the cache or a store. push is cache to store, fetch is stores to cache,
copy is store to store, and they all go through :func:`transfer`, which does
everything around the bytes once:

- a bulk existence check, so nothing is sent twice;
- a pool of workers (``lazy.concurrency``; by default 8 where a remote store is at
  either end, 32 for small objects to and from S3, and one thread for many small
  objects between local folders, where threads only fight over the interpreter);
- retries with backoff on transient errors;
- sha256 verification of every byte: a destination reads its source through a
  verifying reader and publishes nothing that does not match its oid (a corrupt
  copy in one source is reported and the next source is tried);
- progress, and a result that lists what failed instead of stopping at the first
  failure. A source that cannot be reached, or refuses our credentials, is not asked
  again for every other object; a destination that refuses our credentials stops
  the transfer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol, TypeVar

from .cache import Cache
from .errors import (
    ChecksumMismatch,
    LazyError,
    ObjectMissing,
    StoreAuthError,
    StoreUnreachable,
    TransientStoreError,
)
from .pointer import Pointer
from .progress import Progress
from .stores import Store
from .stores.base import ProgressFn, Source
from .stores.urls import redact

__all__ = ["RETRY_DELAYS", "Destination", "TransferResult", "copy", "download", "retrying", "transfer",
           "upload"]

#: Seconds to wait before each retry of a transient failure.
RETRY_DELAYS = (0.5, 2.0, 5.0)
#: The longest single wait a store's Retry-After gets, in seconds.
MAX_RETRY_AFTER = 60.0
#: The most time spent waiting between the attempts at one object, in seconds.
RETRY_BUDGET = 120.0
#: Parallel transfers when a remote store is at either end and nothing else is configured.
DEFAULT_JOBS = 8
#: Objects at least this big are worth a second thread between local folders (hashing).
LOCAL_PARALLEL_SIZE = 1024 * 1024
#: Small objects go to the pool in batches of up to this many objects or bytes: one
#: task per 16 KiB object costs more in thread hand-offs than the copy itself.
BATCH_OBJECTS = 64
BATCH_BYTES = 4 * 1024 * 1024

T = TypeVar("T")


class Destination(Protocol):
    """Where a transfer puts objects: the cache or a store."""

    def missing(self, objects: dict[str, int]) -> set[str]:
        """Return the oids of ``objects`` (oid -> size) that are not held at that size."""

    def upload(self, oid: str, size: int, source: Source, progress: ProgressFn) -> None:
        """Take object ``oid`` from ``source``, verified; visible only once complete."""


@dataclass
class TransferResult:
    """What a transfer did: oids moved, oids already in place, and failures with a reason.

    Workers report through :meth:`moved`, :meth:`fail` and :meth:`warn`, which are
    safe to call from several threads at once.
    """

    done: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def moved(self, oid: str, size: int) -> None:
        """Count an object that reached its destination."""
        with self._lock:
            self.done.append(oid)
            self.bytes += size

    def fail(self, oid: str, reason: str) -> None:
        """Record why an object could not be moved."""
        with self._lock:
            self.failed[oid] = reason

    def warn(self, message: str) -> None:
        """Keep a message for the user."""
        with self._lock:
            self.warnings.append(message)


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


def _is_local(end: object) -> bool:
    return isinstance(end, Cache) or bool(getattr(end, "local", False))


def default_jobs(sources: Sequence[Source], dest: Destination, pointers: Sequence[Pointer]) -> int:
    """Choose how many transfers to run at once when the user did not say.

    Remote stores hide latency behind parallel requests. Local folders have none to
    hide: measured on 5,000 objects of 16 KiB, one thread copies them in 0.45 s and
    eight in 1.5 s (the threads queue for the interpreter between short syscalls),
    while big objects still gain from a second core for hashing. Uploads to a folder
    store end each object with fsyncs, which wait on the disk: there the waits overlap
    (300 objects of 16 KiB on a busy ext4 disk: 57 s on one thread, 29 s on eight).
    """
    ends = (dest, *sources)
    if not all(_is_local(end) for end in ends) or getattr(dest, "durable_uploads", False):
        if not any(p.size >= LOCAL_PARALLEL_SIZE for p in pointers):
            # Only small objects: as many at once as every store at the ends takes. On
            # S3 a request is cheap and its answer slow (10-50 ms from AWS): eight in
            # flight would cap 5,000 objects at a few hundred a second.
            stores = [end for end in ends if not isinstance(end, Cache)]
            return min([getattr(end, "small_transfers", DEFAULT_JOBS) for end in stores] or [DEFAULT_JOBS])
        # A store may ask for fewer streams of big objects (SSH: memory per stream).
        return min([DEFAULT_JOBS, *(end.parallel_transfers for end in ends if hasattr(end, "parallel_transfers"))])
    big = sum(1 for p in pointers if p.size >= LOCAL_PARALLEL_SIZE)
    return 2 if big * 2 >= len(pointers) else 1


class _Watched:
    """A source that remembers the errors it raised, so that a failure is blamed on the right end."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.where = source.where
        self._raised: set[int] = set()

    def blamed(self, exc: BaseException) -> bool:
        """Tell whether ``exc`` came from this source (an object it lacks or whose bytes are wrong, too)."""
        return id(exc) in self._raised or isinstance(exc, (ObjectMissing, ChecksumMismatch))

    def blame(self, exc: BaseException) -> None:
        self._raised.add(id(exc))

    def open(self, oid: str, start: int = 0, end: int | None = None) -> BinaryIO:
        try:
            stream = self.source.open(oid, start, end)
        except BaseException as exc:
            self.blame(exc)
            raise
        return _WatchedStream(stream, self)  # type: ignore[return-value]


class _WatchedStream:
    """A source's stream whose errors are reported to its :class:`_Watched`."""

    def __init__(self, stream: BinaryIO, watched: _Watched) -> None:
        self._stream, self._watched = stream, watched

    def read(self, n: int = -1) -> bytes:
        try:
            return self._stream.read(n)
        except BaseException as exc:
            self._watched.blame(exc)
            raise

    def readinto(self, buffer: Any) -> int:
        try:
            return self._stream.readinto(buffer)  # type: ignore[attr-defined,no-any-return]
        except BaseException as exc:
            self._watched.blame(exc)
            raise

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> _WatchedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _copy_one(dest: Destination, source: _Watched, pointer: Pointer, progress: ProgressFn) -> None:
    """Move one object; between two buckets of one S3 service, by a server-side copy."""
    same_service = getattr(dest, "same_service", None)
    if same_service is not None and same_service(source.source):
        dest.copy_from(source.source, pointer.oid, pointer.size, progress)  # type: ignore[attr-defined]
    else:
        dest.upload(pointer.oid, pointer.size, source, progress)


def _unique(pointers: Sequence[Pointer]) -> list[Pointer]:
    return list({p.oid: p for p in pointers}.values())


def transfer(sources: Sequence[tuple[str, Source]], dest: Destination, pointers: Sequence[Pointer], *,
             jobs: int | None = None, progress: Progress | None = None,
             on_moved: Callable[[str], None] | None = None) -> TransferResult:
    """Put into ``dest`` the objects of ``pointers`` that it lacks, each from the first of ``sources`` that has it.

    ``on_moved`` is called with each oid once it is in ``dest``, from the worker
    that moved it.
    """
    result = TransferResult()
    todo = _unique(pointers)
    if not todo:
        return result
    lacking = dest.missing({p.oid: p.size for p in todo})
    result.present = [p.oid for p in todo if p.oid not in lacking]
    send = [p for p in todo if p.oid in lacking]
    progress = progress or Progress()
    progress.total_objects, progress.total_bytes = len(send), sum(p.size for p in send)
    given_up: dict[str, str] = {}  # source name -> why it is no longer asked

    def one(pointer: Pointer) -> None:
        reasons = []
        for name, source in sources:
            if name in given_up:
                reasons.append(given_up[name])
                continue
            watched = _Watched(source)
            try:
                retrying(lambda watched=watched: _copy_one(dest, watched, pointer, progress.add_bytes))  # type: ignore[misc]
            except (LazyError, OSError) as exc:
                if not watched.blamed(exc):  # the destination failed: another source cannot help
                    if isinstance(exc, StoreAuthError):
                        raise
                    result.fail(pointer.oid, redact(str(exc)))
                    return
                if isinstance(exc, (StoreUnreachable, StoreAuthError)):
                    given_up.setdefault(name, f"{name}: {redact(str(exc))}")
                    reasons.append(given_up[name])
                elif isinstance(exc, ObjectMissing):
                    reasons.append(f"not in {name}")
                elif isinstance(exc, ChecksumMismatch):
                    if name != sources[-1][0]:
                        result.warn(f"{name}: object {pointer.oid} is corrupt ({exc}); trying the next source")
                    reasons.append(str(exc))
                else:
                    reasons.append(f"{name}: {redact(str(exc))}")
                continue
            result.moved(pointer.oid, pointer.size)
            progress.object_done()
            if on_moved is not None:
                on_moved(pointer.oid)
            return
        result.fail(pointer.oid, "; ".join(reasons) or "no store configured")

    _run_all(one, send, jobs or default_jobs([s for _, s in sources], dest, send))
    progress.finish()
    return result


def upload(store: Store, cache: Cache, pointers: Sequence[Pointer], *, jobs: int | None = None,
           progress: Progress | None = None) -> TransferResult:
    """Push: send the cached objects of ``pointers`` that ``store`` lacks.

    The caller has checked the store's format (``Store.prepare_push``).
    """
    return transfer([(cache.where, cache)], store, pointers, jobs=jobs, progress=progress)


def download(stores: Sequence[tuple[str, Store]], cache: Cache, pointers: Sequence[Pointer], *,
             jobs: int | None = None, progress: Progress | None = None,
             on_moved: Callable[[str], None] | None = None) -> TransferResult:
    """Fetch: bring into the cache the objects it lacks, trying ``stores`` in order."""
    return transfer(stores, cache, pointers, jobs=jobs, progress=progress, on_moved=on_moved)


def copy(source: tuple[str, Store], dest: Store, pointers: Sequence[Pointer], *, jobs: int | None = None,
         progress: Progress | None = None) -> TransferResult:
    """Copy: replicate into ``dest`` the objects of ``pointers`` it lacks, streaming from ``source``."""
    return transfer([source], dest, pointers, jobs=jobs, progress=progress)


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
