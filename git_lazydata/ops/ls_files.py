"""``git lazy ls-files``: tracked files with oid, size, and whether their content is here.

For the index, "here" means in the work tree (the file is not a pointer); for another
revision, whose files are not written out, it means in the local cache.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..context import Context
from ..gitcmd import git_lines_z
from ..lookup import resolve_rev
from ..pointer import MAX_POINTER_SIZE, parse
from ..repo import index_rows, pointer_entries, tree_rows

__all__ = ["MARKERS", "FileStatus", "ls_files"]

#: How each state is shown: content here, pointer only, changed by the user, deleted.
MARKERS = {"present": "*", "pointer": "-", "modified": "M", "missing": "!"}


@dataclass(frozen=True)
class FileStatus:
    """One tracked file: path from the top, oid, size, its ``state`` (a key of MARKERS), and ``cached``.

    ``state`` is ``present`` when the content is here (for a revision: in the cache);
    ``cached`` tells whether the local cache holds the object.
    """

    path: str
    oid: str
    size: int
    state: str
    cached: bool = False

    @property
    def present(self) -> bool:
        """Whether the content is here (in the work tree; for a revision, in the cache)."""
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
    rows = tree_rows(ctx.cwd, resolve_rev(ctx, rev), paths) if rev else index_rows(ctx.cwd, paths)
    entries = pointer_entries(rows, work_tree)
    changed: set[bytes] = set()
    if rev is None and entries:
        # git decides what differs from the index. Porcelain diff, unlike diff-files,
        # refreshes first: a file only touched (or rewritten as the same pointer) is
        # cleaned and compared, not reported for its changed time.
        changed = set(git_lines_z("diff", "--name-only", "-z", "--no-color", "--no-ext-diff", "--no-textconv",
                                  "--", cwd=work_tree, with_filter=True))
    out = []
    for entry in entries:
        rel = os.fsdecode(entry.path)
        pointer = entry.pointer
        cached = pointer.size == 0 or ctx.cache.has(pointer.oid, pointer.size)
        if rev is None:
            state = _state(str(work_tree / rel), entry.path in changed)
        else:
            state = "present" if cached else "pointer"
        out.append(FileStatus(rel, pointer.oid, pointer.size, state, cached))
    return out
