"""Moving a repository's objects: the one core behind push, fetch and the hooks.

push: the objects that chosen files reference go to one store. fetch: the objects of
chosen files come into the cache from the stores, in the order configured, and the
files are written out.

Callers choose the files (repo.py) and pass in how progress is shown; both return a
:class:`SyncResult`, which names every object by the paths that use it, so that
failures are reported per file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .checkout import MaterializeResult, materialize, require_filter
from .config import Remote
from .context import Context
from .errors import ConfigError
from .pointer import Pointer
from .progress import Progress
from .repo import Entry
from .stores import Store, open_store
from .transfer import TransferResult, download, upload

__all__ = ["SyncResult", "check_pushable", "fetch", "open_remote", "push"]


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


def _paths(entries: Sequence[Entry]) -> dict[str, list[bytes]]:
    paths: dict[str, list[bytes]] = {}
    for entry in entries:
        named = paths.setdefault(entry.pointer.oid, [])
        if entry.path not in named:
            named.append(entry.path)
    return paths


def _unique(entries: Sequence[Entry]) -> list[Pointer]:
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
         jobs: int | None = None) -> SyncResult:
    """Upload to ``remote`` the cached objects of ``entries`` that it lacks."""
    check_pushable(ctx, remote)
    pointers = _unique(entries)
    cached = [p for p in pointers if ctx.cache.has(p.oid)]
    store = open_remote(ctx, remote)
    try:
        if cached:
            store.prepare_push()
        transfer = upload(store, ctx.cache, cached, jobs=jobs or ctx.config.concurrency, progress=progress)
        not_cached = sorted({p.oid for p in pointers} - {p.oid for p in cached})
        lost = sorted(store.missing(not_cached)) if not_cached else []
    finally:
        store.close()
    warnings = ctx.config.warnings + transfer.warnings
    if lost:
        warnings.append(
            f"{len(lost)} referenced object(s) are neither in the local cache nor in {remote.name}; "
            f"clones cannot fetch them (first: {lost[0]})"
        )
    return SyncResult(transfer, _paths(entries), remote.name, warnings=warnings)


def fetch(ctx: Context, entries: Sequence[Entry], *, progress: Progress | None = None,
          jobs: int | None = None, write: bool = True) -> SyncResult:
    """Bring the objects of ``entries`` into the cache; with ``write``, write the files out."""
    if write and entries:
        require_filter(ctx.work_tree)  # before anything is downloaded
    cfg = ctx.config
    if not cfg.remotes:
        raise cfg.no_store()
    stores: list[tuple[str, Store]] = []
    try:
        for remote in cfg.remotes.values():
            stores.append((remote.name, open_remote(ctx, remote)))
        transfer = download(stores, ctx.cache, [e.pointer for e in entries], jobs=jobs or cfg.concurrency,
                            progress=progress)
    finally:
        for _, store in stores:
            store.close()
    checkout = materialize(ctx.work_tree, entries, ctx.cache) if write else None
    return SyncResult(transfer, _paths(entries), checkout=checkout, warnings=cfg.warnings + transfer.warnings)
