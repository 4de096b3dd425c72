"""``git lazy status``: what the work tree holds, and what a push would upload.

Offline: the objects "to push" are those referenced by commits that no remote-tracking
branch has yet, less those the default store is recorded to hold (record.py), which
is what the pre-push hook would send.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..context import Context
from ..errors import ConfigError
from ..gitcmd import git
from ..record import StoreRecord
from ..repo import Entry, history_entries
from ..stores import store_ident
from .ls_files import FileStatus, ls_files

__all__ = ["Status", "status"]


@dataclass(frozen=True)
class Status:
    """Tracked files by state, and the objects a push would upload to ``store``."""

    files: list[FileStatus]
    to_push: list[Entry] = field(default_factory=list)
    store: str | None = None  # the default store; None when none is configured

    def by_state(self, state: str) -> list[FileStatus]:
        """The files in ``state`` (present, pointer, modified or missing)."""
        return [f for f in self.files if f.state == state]


def _unpushed(ctx: Context) -> list[Entry]:
    """Pointers in commits reachable from HEAD that no remote-tracking ref reaches."""
    if not git("rev-parse", "--verify", "--quiet", "HEAD", cwd=ctx.work_tree, check=False).strip():
        return []  # no commit yet
    return history_entries(["HEAD", "--not", "--remotes"], ctx.work_tree)


def status(ctx: Context) -> Status:
    """Classify every tracked file and find what a push would upload."""
    files = ls_files(ctx)
    try:
        remote = ctx.config.push_remote(None)
    except ConfigError:
        return Status(files, _unpushed(ctx), None)
    entries = _unpushed(ctx)
    record = StoreRecord(ctx.cache.root, store_ident(remote.parsed(ctx.work_tree), remote.endpoint))
    try:
        known = record.known(e.pointer.oid for e in entries)
    finally:
        record.close()
    unique = {e.pointer.oid: e for e in entries if e.pointer.oid not in known and e.pointer.size > 0}
    return Status(files, sorted(unique.values(), key=lambda e: e.path), remote.name)
