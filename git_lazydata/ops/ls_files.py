"""``git lazy ls-files``: tracked files with oid, size and what the work tree holds."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..context import Context
from ..gitcmd import git_lines_z
from ..pointer import MAX_POINTER_SIZE, parse
from ..repo import index_rows, pointer_entries, tree_rows

__all__ = ["MARKERS", "FileStatus", "ls_files"]

#: How each state is shown: content here, pointer only, changed by the user, deleted.
MARKERS = {"present": "*", "pointer": "-", "modified": "M", "missing": "!"}


@dataclass(frozen=True)
class FileStatus:
    """One tracked file: path (str), oid, size, and its ``state`` (a key of MARKERS)."""

    path: str
    oid: str
    size: int
    state: str

    @property
    def present(self) -> bool:
        """Whether the work tree holds the file's content."""
        return self.state == "present"


def _state(path: str, modified: bool) -> str:
    """Classify the work-tree file of an index entry."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "missing"
    if modified:
        return "modified"
    if st.st_size >= MAX_POINTER_SIZE:
        return "present"
    with open(path, "rb") as f:
        return "pointer" if parse(f.read(MAX_POINTER_SIZE)) is not None else "present"


def ls_files(ctx: Context, paths: list[str] | None = None, rev: str | None = None) -> list[FileStatus]:
    """List the pointer files of the index (or of ``rev``) under ``paths``."""
    work_tree = ctx.work_tree
    rows = tree_rows(ctx.cwd, rev, paths) if rev else index_rows(ctx.cwd, paths)
    entries = pointer_entries(rows, work_tree)
    changed: set[bytes] = set()
    if rev is None and entries:
        # git decides what differs from the index (it cleans stat-dirty files itself).
        changed = set(git_lines_z("diff-files", "--name-only", "-z", "--", cwd=work_tree, with_filter=True))
    out = []
    for entry in entries:
        rel = os.fsdecode(entry.path)
        state = _state(str(work_tree / rel), entry.path in changed)
        out.append(FileStatus(rel, entry.pointer.oid, entry.pointer.size, state))
    return out
