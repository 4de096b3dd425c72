"""``git lazy ls-files``: tracked files with oid, size and whether the content is here."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..pointer import MAX_POINTER_SIZE, parse
from ..repo import Repo, index_rows, pointer_entries, tree_rows

__all__ = ["FileStatus", "ls_files"]


@dataclass(frozen=True)
class FileStatus:
    """One tracked file: path (str), oid, size, and ``present`` (content in the work tree)."""

    path: str
    oid: str
    size: int
    present: bool


def _is_content(path: str) -> bool:
    """Tell whether the work-tree file holds content rather than a pointer."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if st.st_size >= MAX_POINTER_SIZE:
        return True
    with open(path, "rb") as f:
        return parse(f.read(MAX_POINTER_SIZE)) is None


def ls_files(paths: list[str] | None = None, rev: str | None = None) -> list[FileStatus]:
    """List the pointer files of the index (or of ``rev``) under ``paths``."""
    work_tree = Repo.discover().require_work_tree()
    rows = tree_rows(None, rev, paths) if rev else index_rows(None, paths)
    out = []
    for entry in pointer_entries(rows, work_tree):
        rel = os.fsdecode(entry.path)
        present = entry.pointer.size == 0 or _is_content(str(work_tree / rel))
        out.append(FileStatus(rel, entry.pointer.oid, entry.pointer.size, present))
    return out
