"""The files a materialize pass has just written, handed to the clean filter.

After writing content over pointer files, git must refresh those index entries, and
git refreshes by running clean over every byte of every file: for 800 MiB that is
as much hashing as the download itself. Yet git-lazy wrote those bytes a moment ago
from an object it had verified. So the materialize step lists, for each file it
wrote, the pointer and the file's identity right after the rename (inode, size,
mtime and ctime, all in nanoseconds), and passes that list to the refresh's filter
process through ``GIT_LAZY_WRITTEN``. clean then answers with the listed pointer
for a file whose identity is unchanged, without hashing. Any write, rename or
chmod since changes the ctime, and such a file is hashed as usual.

File format: for each file, six fields, each ending in NUL:
``path NUL pointer NUL size NUL inode NUL mtime_ns NUL ctime_ns NUL``.
Standard library only: the filter imports this module.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass

__all__ = ["ENV", "Written", "identity", "read_ledger", "write_ledger"]

#: The environment variable naming the ledger file for one refresh.
ENV = "GIT_LAZY_WRITTEN"
_FIELDS = 6


def identity(st: os.stat_result) -> tuple[int, int, int, int]:
    """Return what tells one state of a file from another: inode, size, mtime, ctime."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class Written:
    """One file written by git-lazy: its pointer and its identity just after writing."""

    path: bytes
    pointer: bytes
    ident: tuple[int, int, int, int]

    def unchanged(self, path: str | bytes) -> bool:
        """Tell whether ``path`` still is, as a regular file, what was written."""
        try:
            st = os.lstat(path)
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and identity(st) == self.ident


def write_ledger(entries: list[Written], folder: str) -> str:
    """Write ``entries`` to a new private file in ``folder``; return its path."""
    fd, path = tempfile.mkstemp(prefix="written-", dir=folder)
    with os.fdopen(fd, "wb") as f:
        for e in entries:
            fields = [e.path, e.pointer, *(str(n).encode() for n in e.ident)]
            f.write(b"".join(field + b"\0" for field in fields))
    return path


def read_ledger(path: str | None) -> dict[str, Written]:
    """Read a ledger, keyed by path as git names it; an unusable file gives nothing."""
    if not path:
        return {}
    try:
        with open(path, "rb") as f:
            fields = f.read().split(b"\0")
    except OSError:
        return {}
    ledger = {}
    for i in range(0, len(fields) - _FIELDS + 1, _FIELDS):
        name, pointer, *numbers = fields[i : i + _FIELDS]
        try:
            ino, size, mtime, ctime = (int(n) for n in numbers)
        except ValueError:
            return {}  # not a ledger we wrote: trust none of it
        ledger[os.fsdecode(name)] = Written(name, pointer, (ino, size, mtime, ctime))
    return ledger
