"""``git lazy push`` and ``git lazy fetch``: choose objects, run the transfer engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..cache import Cache
from ..checkout import MaterializeResult, materialize, require_filter
from ..config import LazyConfig, Remote, load_config
from ..errors import ConfigError, LazyError
from ..gitcmd import git
from ..progress import make_progress
from ..repo import Entry, Repo, index_rows, pointer_entries, pointers_in_history, tree_rows
from ..settings import Settings
from ..stores import Store, open_store
from ..transfer import TransferResult, download, upload

__all__ = ["FetchResult", "fetch", "open_remote", "push"]


def open_remote(remote: Remote, work_tree: Path) -> Store:
    """Open the store behind a configured remote."""
    options = {"endpoint": remote.endpoint} if remote.endpoint else {}
    return open_store(remote.parsed(work_tree), **options)


def _context() -> tuple[Path, LazyConfig, Cache]:
    work_tree = Repo.discover().require_work_tree()
    cache = Cache(Settings.load().cache_root)
    cache.remove_stale_temps()  # left by processes killed mid-write, over an hour ago
    return work_tree, load_config(work_tree), cache


def _is_revision(name: str, work_tree: Path) -> bool:
    if name.startswith("-"):
        return False
    out = git("rev-parse", "--verify", "--quiet", "--end-of-options", name + "^{commit}", cwd=work_tree, check=False)
    return bool(out.strip())


def push(store_name: str | None, revs: list[str], *, all_refs: bool = False, jobs: int | None = None,
         quiet: bool = False) -> tuple[Remote, TransferResult, list[str]]:
    """Upload the objects that ``revs`` (or every ref) reference and the store lacks."""
    work_tree, cfg, cache = _context()
    if store_name is not None and store_name not in cfg.remotes and _is_revision(store_name, work_tree):
        revs, store_name = [store_name, *revs], None  # "git lazy push main": a revision
    for rev in revs:
        if rev.startswith("-"):
            raise LazyError(f"not a revision: {rev!r}")
    remote = cfg.push_remote(store_name)
    if not remote.pushable:
        raise ConfigError(
            f"store {remote.name!r} comes from the repository's .lazyconfig and its "
            f"{' and '.join(remote.unaccepted)} ({remote.parsed(work_tree)}"
            f"{', endpoint ' + remote.endpoint if remote.endpoint else ''}) have not been accepted "
            f"for push here; if you trust them, run 'git lazy remote accept {remote.name}'"
        )
    if not revs and not all_refs:
        revs = ["HEAD"]
    pointers = pointers_in_history(["--all"] if all_refs else revs, work_tree)
    present = [p for p in pointers if cache.has(p.oid)]
    store = open_remote(remote, work_tree)
    try:
        progress = make_progress(f"Uploading to {remote.name}", 0, 0, quiet)
        result = upload(store, cache, present, jobs=jobs or cfg.concurrency, progress=progress)
        cached = {p.oid for p in present}
        not_cached = sorted({p.oid for p in pointers} - cached)
        lost = sorted(store.missing(not_cached)) if not_cached else []
    finally:
        store.close()
    warnings = cfg.warnings + result.warnings
    if lost:
        warnings.append(
            f"{len(lost)} referenced object(s) are neither in the local cache nor in {remote.name}; "
            f"clones cannot fetch them (first: {lost[0]})"
        )
    return remote, result, warnings


@dataclass
class FetchResult:
    """Downloads and what was then written to the work tree."""

    transfer: TransferResult
    checkout: MaterializeResult | None
    warnings: list[str] = field(default_factory=list)


def fetch(paths: list[str], *, rev: str | None = None, all_files: bool = False, jobs: int | None = None,
          quiet: bool = False) -> FetchResult:
    """Download the objects of the given files (of the index, or of ``rev``) and write them out."""
    work_tree, cfg, cache = _context()
    if not paths and not all_files:
        raise LazyError("name the files to fetch (paths or globs), or use --all")
    # Paths, folders and globs all go to git as pathspecs (relative to the current folder).
    rows = tree_rows(None, rev, paths) if rev else index_rows(None, paths)
    entries: list[Entry] = pointer_entries(rows, work_tree)
    if paths and not entries:
        raise LazyError(f"no git-lazy file matches {' '.join(paths)}")
    if rev is None and entries:
        require_filter(work_tree)  # before downloading anything
    if not cfg.remotes:
        raise cfg.no_store()
    stores = []
    try:
        for remote in cfg.remotes.values():
            stores.append((remote.name, open_remote(remote, work_tree)))
        progress = make_progress("Downloading", 0, 0, quiet)
        result = download(stores, cache, [e.pointer for e in entries], jobs=jobs or cfg.concurrency,
                          progress=progress)
    finally:
        for _, store in stores:
            store.close()
    written = None
    if rev is None:
        written = materialize(work_tree, entries, cache)
    return FetchResult(result, written, cfg.warnings + result.warnings)
