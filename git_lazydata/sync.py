"""Moving a repository's objects: the one core behind push, fetch, pull, clone and the hooks.

push: the objects that chosen files reference go to one store, skipping what the
store is known to hold (record.py) and refusing any object that is neither in the
cache nor in the store. fetch: the objects of chosen files come into the cache from
the stores, in the order configured, and the files are written out.

Callers choose the files (repo.py) and pass in how progress is shown; both return a
:class:`SyncResult`, which names every object by the paths that use it, so that
failures are reported per file.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from .checkout import MaterializeResult, Writer, still_pointers
from .config import Remote
from .context import Context
from .errors import ConfigError, LazyError
from .eviction import evict
from .pointer import Pointer
from .progress import Progress
from .record import StoreRecord
from .repo import Entry
from .stores import Store, open_store
from .transfer import TransferResult, download, upload

__all__ = ["SyncResult", "check_pushable", "entry_paths", "fetch", "open_remote", "push", "unique_pointers"]


@dataclass
class SyncResult:
    """What a push or a fetch did; ``paths`` maps each oid to the paths that use it."""

    transfer: TransferResult
    paths: dict[str, list[bytes]]
    store: str | None = None  # the store pushed to
    checkout: MaterializeResult | None = None  # what was written out, when anything was
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every object moved (or was already in place)."""
        return self.transfer.ok

    def failures(self) -> list[tuple[bytes, str]]:
        """(path, reason) for each path whose object could not be moved, each path once."""
        out = []
        for oid, reason in sorted(self.transfer.failed.items()):
            for path in self.paths.get(oid, [oid.encode()]):
                out.append((path, reason))
        return sorted(out)

    def error(self, what: str, *, detail: int = 5) -> LazyError | None:
        """The error to raise when objects failed: how many could not be ``what``, then the first paths and why."""
        if not self.transfer.failed:
            return None
        from .terminal import path_text

        failures = self.failures()
        named = "; ".join(f"{path_text(path)}: {reason}" for path, reason in failures[:detail])
        more = f"; and {len(failures) - detail} more" if len(failures) > detail else ""
        return LazyError(f"{len(self.transfer.failed)} object(s) could not be {what} ({named}{more})")


def entry_paths(entries: Sequence[Entry]) -> dict[str, list[bytes]]:
    """Map each oid of ``entries`` to the paths that use it, each path once."""
    paths: dict[str, list[bytes]] = {}
    for entry in entries:
        named = paths.setdefault(entry.pointer.oid, [])
        if entry.path not in named:
            named.append(entry.path)
    return paths


def unique_pointers(entries: Sequence[Entry]) -> list[Pointer]:
    """The pointers of ``entries``, one per oid."""
    return list({e.pointer.oid: e.pointer for e in entries}.values())


def open_remote(ctx: Context, remote: Remote) -> Store:
    """Open the store behind a configured remote (no connection is made yet)."""
    options = {"endpoint": remote.endpoint} if remote.endpoint else {}
    return open_store(remote.parsed(ctx.work_tree), **options)


def check_pushable(ctx: Context, remote: Remote) -> None:
    """Refuse a store that came from ``.lazyconfig`` with values this clone has not accepted."""
    if remote.pushable:
        return
    endpoint = f", endpoint {remote.endpoint}" if remote.endpoint else ""
    raise ConfigError(
        f"store {remote.name!r} comes from the repository's .lazyconfig and its "
        f"{' and '.join(remote.unaccepted)} ({remote.parsed(ctx.work_tree)}{endpoint}) have not been "
        f"accepted for push here; if you trust them, run 'git lazy remote accept {remote.name}'"
    )


def push(ctx: Context, remote: Remote, entries: Sequence[Entry], *, progress: Progress | None = None,
         jobs: int | None = None, ask_store: bool = False) -> SyncResult:
    """Upload to ``remote`` the objects of ``entries`` that it lacks.

    Objects the store is recorded to hold are skipped without asking it, unless
    ``ask_store``. An object that is neither cached nor in the store fails.
    """
    check_pushable(ctx, remote)
    paths = entry_paths(entries)
    transfer = TransferResult()
    pointers = [p for p in unique_pointers(entries) if p.size > 0]
    if not pointers:
        return SyncResult(transfer, paths, remote.name, warnings=list(ctx.config.warnings))
    store = open_remote(ctx, remote)
    record = StoreRecord(ctx.cache.root, store.ident)
    try:
        known = set() if ask_store else record.known(p.oid for p in pointers)
        todo = [p for p in pointers if p.oid not in known]
        cached = [p for p in todo if ctx.cache.has(p.oid, p.size)]
        uncached = [p for p in todo if not ctx.cache.has(p.oid, p.size)]
        if todo:
            store.prepare_push()  # the store's format, and a folder that is really there
            transfer = upload(store, ctx.cache, cached, jobs=jobs or ctx.config.concurrency, progress=progress)
            if uncached:
                lost = store.missing({p.oid: p.size for p in uncached})
                transfer.present += [p.oid for p in uncached if p.oid not in lost]
                for oid in sorted(lost):
                    transfer.failed[oid] = f"neither in the local cache nor in {remote.name}"
        transfer.present += sorted(known)
        record.add([*transfer.done, *transfer.present])
    finally:
        record.close()
        store.close()
    warnings = ctx.config.warnings + transfer.warnings + store.warnings
    return SyncResult(transfer, paths, remote.name, warnings=warnings)


class _Pipeline:
    """Hands each downloaded object's files to a writer thread, while the downloads go on."""

    def __init__(self, writer: Writer | None) -> None:
        self._writer = writer
        self._arrived: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._by_oid: dict[str, list[Entry]] = {}
        if writer is not None:
            for entry in writer.entries:
                self._by_oid.setdefault(entry.pointer.oid, []).append(entry)

    def arrived(self, oid: str) -> None:
        """Called by a download worker once ``oid`` is in the cache."""
        if self._thread is not None:
            self._arrived.put(oid)

    def _run(self) -> None:
        assert self._writer is not None
        while (oid := self._arrived.get()) is not None:
            if self._error is None:
                try:
                    self._writer.write(self._by_oid.get(oid, ()))
                except BaseException as exc:  # raised in the caller's thread, after the downloads
                    self._error = exc

    def __enter__(self) -> _Pipeline:
        if self._writer is not None and self._by_oid:
            self._thread = threading.Thread(target=self._run, name="git-lazy-writer", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._arrived.put(None)
            self._thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error


def fetch(ctx: Context, entries: Sequence[Entry], *, progress: Progress | None = None,
          jobs: int | None = None, write: bool = True) -> SyncResult:
    """Bring the objects of ``entries`` into the cache; with ``write``, write the files out.

    With ``write``, only files that are still pointers in the work tree count: a file
    whose content is already there needs nothing, even if the cache lost its object.
    """
    cache = ctx.cache
    if write:
        entries = still_pointers(ctx.work_tree, entries)
    paths = entry_paths(entries)
    need = [p for p in unique_pointers(entries) if p.size > 0 and not cache.has(p.oid, p.size)]
    transfer = TransferResult()
    warnings: list[str] = []
    # Files are written as their objects arrive, by one thread beside the downloads.
    writer = Writer(ctx.work_tree, entries, cache) if write and entries else None
    if need:
        cfg = ctx.config
        if not cfg.remotes:
            raise cfg.no_store()
        warnings += cfg.warnings
        stores: list[tuple[str, Store]] = []
        with _Pipeline(writer) as pipeline:
            try:
                for remote in cfg.remotes.values():
                    stores.append((remote.name, open_remote(ctx, remote)))
                transfer = download(stores, cache, need, jobs=jobs or cfg.concurrency, progress=progress,
                                    on_moved=pipeline.arrived)
            finally:
                for _, store in stores:
                    store.close()
        warnings += transfer.warnings
    in_cache = {e.pointer.oid for e in entries} - {p.oid for p in need}
    transfer.present = sorted(in_cache.union(transfer.present))
    checkout = writer.finish() if writer is not None else (MaterializeResult() if write else None)
    if checkout is not None and checkout.written:
        done = set(checkout.written)
        for oid in {e.pointer.oid for e in entries if e.path in done}:
            cache.touch(oid)  # just used: last in line for eviction
    if need and ctx.config.cachemax is not None:
        warning = evict(cache, ctx.config.cachemax).warning(ctx.config.cachemax)
        if warning:
            warnings.append(warning)
    return SyncResult(transfer, paths, checkout=checkout, warnings=warnings)
