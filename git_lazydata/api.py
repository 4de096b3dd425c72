"""The Python API: ``import git_lazydata as lazy``.

For scripts and notebooks: ``pd.read_csv(lazy.track("data/big.csv"))`` works for the
author and on a fresh clone; ``lazy.open(path, rev="v1")`` reads any version without
fetching it whole; ``lazy.ls()`` lists a dataset lazily. Each call finds the
repository from the path it is given (or ``repo=``), so it works from any folder.
Errors are :class:`~git_lazydata.errors.LazyError` with the command line's words;
a path or revision that is not there is also a FileNotFoundError.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Union

from .checkout import lazy_paths, require_filter
from .context import Context
from .errors import LazyError, NotFound
from .lookup import find, resolve_rev
from .ops import fetch as fetch_ops
from .ops import push as push_ops
from .ops import track as track_ops
from .ops.log import Version, versions
from .ops.ls_files import FileStatus, ls_files
from .pointer import MAX_POINTER_SIZE, parse
from .reader import open_node
from .sync import SyncResult

__all__ = ["FileStatus", "Version", "fetch", "log", "ls", "open", "push", "track"]

PathLike = Union[str, "os.PathLike[str]"]


def _locate(path: PathLike, repo: PathLike | None) -> tuple[Context, str]:
    """The repository of ``path`` and the path from its top ('/'-separated).

    Without ``repo``, ``path`` is relative to the current folder and the repository is
    the one around it; with ``repo``, ``path`` is relative to the top of that repository.
    """
    if repo is not None:
        ctx = Context.open(repo)
        ctx = Context(ctx.repo, ctx.settings, ctx.work_tree)
        full = Path(os.path.realpath(ctx.work_tree / path))
    else:
        given = Path(path).absolute()
        ctx = Context.open(given.parent)
        full = Path(os.path.realpath(given.parent)) / given.name
    top = Path(os.path.realpath(ctx.work_tree))
    try:
        rel = full.relative_to(top).as_posix()
    except ValueError:
        raise LazyError(f"{os.fspath(path)!r} is outside the repository at {top}") from None
    if rel in (".", "") or rel == ".git" or rel.startswith(".git/"):
        raise LazyError(f"{os.fspath(path)!r} is not a file of the repository")
    return ctx, rel


#: Files ``track`` has made present in this process: path -> (inode, size, mtime).
_TRACKED: dict[str, tuple[int, int, int]] = {}


def track(path: PathLike, *, repo: PathLike | None = None) -> str:
    """Make sure ``path`` is tracked by git-lazy and its content is in the work tree; return ``path``.

    Adds a ``.gitattributes`` rule for the file when none covers it yet, and fetches
    the content when the file is still a pointer. It never stages or commits. Called
    again on a file that has not changed, it costs a ``stat``.
    """
    key = os.path.abspath(os.fspath(path) if repo is None else os.path.join(os.fspath(repo), path))
    try:
        st = os.stat(key)
        if _TRACKED.get(key) == (st.st_ino, st.st_size, st.st_mtime_ns):
            return os.fspath(path)
    except FileNotFoundError:
        st = None
    ctx, rel = _locate(path, repo)
    if st is None:
        raise NotFound(f"no such file: {rel!r}")
    top = ctx.work_tree
    if rel.encode() not in lazy_paths(top, [rel.encode()]):
        require_filter(top)  # a rule without the filter would put the bytes into git
        track_ops.track(Context(ctx.repo, ctx.settings, top), ["/" + track_ops.literal(rel)])
    if st.st_size < MAX_POINTER_SIZE:
        with builtins.open(key, "rb") as f:
            is_pointer = parse(f.read(MAX_POINTER_SIZE)) is not None
        if is_pointer:
            result = fetch_ops.fetch(Context(ctx.repo, ctx.settings, top), [f":(literal){rel}"])
            _raise_failures(result, "downloaded")
            st = os.stat(key)
    _TRACKED[key] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return os.fspath(path)


def open(path: PathLike, rev: str | None = None, repo: PathLike | None = None) -> BinaryIO:
    """A seekable binary file object over ``path``'s content at ``rev`` (default: the work tree).

    ``rev`` is a branch, tag or commit. The bytes come from the work tree, the local
    cache, or by range from the first store that has the object: nothing is fetched
    whole first. A whole read checks the bytes against the object's sha256. Files git
    keeps itself can be opened too. Use it as a context manager.
    """
    ctx, rel = _locate(path, repo)
    commit = resolve_rev(ctx, rev) if rev is not None else None
    return open_node(ctx, find(ctx, rel, commit, rev))


def ls(path: PathLike = ".", rev: str | None = None, repo: PathLike | None = None) -> list[FileStatus]:
    """The git-lazy files under ``path`` at ``rev`` (default: the index), with size, oid and ``cached``."""
    ctx = _context(repo)
    return ls_files(ctx, [os.fspath(path)] if os.fspath(path) not in (".", "") else [], rev)


def log(path: PathLike, repo: PathLike | None = None) -> list[Version]:
    """The versions of one file through history, newest first: commit, date, size, oid."""
    return versions(_context(repo), os.fspath(path))


def fetch(paths: PathLike | Sequence[PathLike] = (), rev: str | None = None, repo: PathLike | None = None, *,
          all: bool = False, jobs: int | None = None) -> SyncResult:
    """Download the objects of ``paths`` (files, folders or globs) and write the files out, as ``git lazy fetch``.

    With ``rev``, the objects of that revision's files go into the cache only.
    Raises LazyError naming each file whose object could not be downloaded.
    """
    names = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    ctx = _context(repo)
    result = fetch_ops.fetch(ctx, names, rev=rev, all_files=all, jobs=jobs)
    _raise_failures(result, "downloaded")
    return result


def push(store: str | None = None, revs: Sequence[str] = (), repo: PathLike | None = None, *,
         all: bool = False, jobs: int | None = None) -> SyncResult:
    """Upload to ``store`` (default: the push store) what ``revs`` (default HEAD) reference, as ``git lazy push``."""
    result = push_ops.push(_context(repo), store, list(revs), all_refs=all, jobs=jobs)
    _raise_failures(result, f"uploaded to {result.store}")
    return result


def _context(repo: PathLike | None) -> Context:
    """The repository named by ``repo`` (paths from its top), else the current folder's."""
    if repo is None:
        return Context.open()
    ctx = Context.open(repo)
    return Context(ctx.repo, ctx.settings, ctx.work_tree)


def _raise_failures(result: SyncResult, what: str) -> None:
    error = result.error(what)
    if error is not None:
        raise error
    if result.checkout is not None and result.checkout.skipped:
        path, reason = result.checkout.skipped[0]
        raise LazyError(f"{len(result.checkout.skipped)} file(s) could not be written "
                        f"({os.fsdecode(path)}: {reason})")
