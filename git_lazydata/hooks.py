"""What each git hook does; the hook files themselves are installed by hookfiles.py.

A hook the user had before (``<name>.pre-git-lazy``) runs first, with the same
arguments and standard input.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

from .cache import Cache
from .checkout import MaterializeResult, filter_configured, materialize
from .errors import LazyError
from .gitcmd import git_lines_z
from .hookfiles import CHAINED_SUFFIX, HOOKS
from .pointer import MAX_POINTER_SIZE
from .repo import Repo, index_rows, pointer_entries
from .settings import Settings, trace_enabled

__all__ = ["main"]

NULL_SHA = {"0" * 40, "0" * 64}


def _run_chained(repo: Repo, name: str, args: list[str], stdin: bytes | None) -> int:
    chained = repo.hooks_dir / (name + CHAINED_SUFFIX)
    try:
        mode = chained.stat().st_mode
    except FileNotFoundError:
        return 0
    if not (stat.S_ISREG(mode) and os.access(chained, os.X_OK)):
        return 0
    try:
        return subprocess.run([str(chained), *args], input=stdin, check=False).returncode
    except OSError as exc:
        if exc.errno != errno.ENOEXEC:
            raise
        # No "#!" line: git runs such a hook with the shell, and so do we.
        return subprocess.run(["/bin/sh", str(chained), *args], input=stdin, check=False).returncode


def _changed_rows(work_tree: Path, old: str, new: str) -> list[tuple[bytes, str, str]]:
    """Files added or changed from ``old`` to ``new``, as (path, mode, blob).

    git> :<old mode> <new mode> <old blob> <new blob> <status> NUL <path> NUL
    """
    items = git_lines_z("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", old, new, cwd=work_tree)
    rows = []
    for meta, path in zip(items[::2], items[1::2]):
        _, new_mode, _, new_blob, status = meta.decode().split()
        if status in ("A", "M", "T"):
            rows.append((path, new_mode, new_blob))
    return rows


def _pointer_sized(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and 0 < st.st_size < MAX_POINTER_SIZE


def _materialize_changes(repo: Repo, old: str | None, new: str) -> MaterializeResult | None:
    work_tree = repo.work_tree
    if work_tree is None:
        return None
    if old is None or old in NULL_SHA:
        rows = index_rows(work_tree)
    else:
        rows = _changed_rows(work_tree, old, new)
    # Only a small regular file can still be a pointer: skip reading the blobs of
    # everything the filter already wrote out (the common case).
    rows = [row for row in rows if _pointer_sized(work_tree / os.fsdecode(row[0]))]
    entries = pointer_entries(rows, work_tree)
    if not entries:
        return None
    settings = Settings.load(str(work_tree))
    return materialize(work_tree, entries, Cache(settings.cache_root))


def post_checkout(repo: Repo, args: list[str], stdin: bytes | None) -> None:
    """``post-checkout <old> <new> <flag>``: on branch checkouts, write what the cache has."""
    if len(args) >= 3 and args[2] == "1":
        _materialize_changes(repo, args[0], args[1])


def post_merge(repo: Repo, args: list[str], stdin: bytes | None) -> None:
    """``post-merge <squash>``: write what the merge brought, from the cache."""
    _materialize_changes(repo, "ORIG_HEAD", "HEAD")


def pre_push(repo: Repo, args: list[str], stdin: bytes | None) -> None:
    """``pre-push <remote> <url>`` with ``<local ref> <local sha> <remote ref> <remote sha>`` lines."""


_HANDLERS = {"pre-push": pre_push, "post-checkout": post_checkout, "post-merge": post_merge}


def main(args: list[str]) -> int:
    """Entry point for ``git-lazy hook NAME ARGS...`` (kept clear of click: it runs often)."""
    if not args or args[0] not in _HANDLERS:
        sys.stderr.write(f"git-lazy: unknown hook {args[0] if args else ''!r}; expected one of {', '.join(HOOKS)}\n")
        return 2
    name, rest = args[0], args[1:]
    stdin = sys.stdin.buffer.read() if name == "pre-push" else None  # always read it all
    # git reports a failing post-checkout/post-merge hook as a failed command: those
    # hooks explain a problem on stderr but never fail the checkout or merge itself.
    failure = 2 if name == "pre-push" else 0
    try:
        repo = Repo.discover()
        code = _run_chained(repo, name, rest, stdin)
        if code:
            return code
        if name != "pre-push" and not filter_configured(repo.work_tree or repo.git_dir):
            return 0  # git-lazy was uninstalled; a leftover hook has nothing to do
        _HANDLERS[name](repo, rest, stdin)
        return 0
    except LazyError as exc:
        if trace_enabled():
            raise
        sys.stderr.write(f"git-lazy: {name}: {exc}\n")
        return exc.exit_code if name == "pre-push" else failure
    except Exception as exc:  # a bug must not leave a traceback in the user's checkout
        if trace_enabled():
            raise
        sys.stderr.write(f"git-lazy: {name}: internal error: {type(exc).__name__}: {exc} "
                         "(run again with GIT_LAZY_TRACE=1 for the traceback)\n")
        return failure
