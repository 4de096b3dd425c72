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

from .checkout import MaterializeResult, filter_configured, materialize
from .context import Context
from .errors import LazyError
from .hookfiles import CHAINED_SUFFIX, HOOKS
from .pointer import MAX_POINTER_SIZE
from .repo import Repo, changed_rows, index_rows, pointer_entries
from .settings import trace_enabled

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


def _pointer_sized(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and 0 < st.st_size < MAX_POINTER_SIZE


def _materialize_changes(ctx: Context, old: str | None, new: str) -> MaterializeResult | None:
    work_tree = ctx.repo.work_tree
    if work_tree is None:
        return None
    if old is None or old in NULL_SHA:
        rows = index_rows(work_tree)
    else:
        rows = changed_rows(work_tree, old, new)
    # Only a small regular file can still be a pointer: skip reading the blobs of
    # everything the filter already wrote out (the common case).
    rows = [row for row in rows if _pointer_sized(work_tree / os.fsdecode(row[0]))]
    entries = pointer_entries(rows, work_tree)
    if not entries:
        return None
    return materialize(work_tree, entries, ctx.cache)


def post_checkout(ctx: Context, args: list[str], stdin: bytes | None) -> None:
    """``post-checkout <old> <new> <flag>``: on branch checkouts, write what the cache has."""
    if len(args) >= 3 and args[2] == "1":
        _materialize_changes(ctx, args[0], args[1])


def post_merge(ctx: Context, args: list[str], stdin: bytes | None) -> None:
    """``post-merge <squash>``: write what the merge brought, from the cache."""
    _materialize_changes(ctx, "ORIG_HEAD", "HEAD")


def pre_push(ctx: Context, args: list[str], stdin: bytes | None) -> None:
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
        ctx = Context.open()
        code = _run_chained(ctx.repo, name, rest, stdin)
        if code:
            return code
        if name != "pre-push" and not filter_configured(ctx.repo.work_tree or ctx.repo.git_dir):
            return 0  # git-lazy was uninstalled; a leftover hook has nothing to do
        _HANDLERS[name](ctx, rest, stdin)
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
