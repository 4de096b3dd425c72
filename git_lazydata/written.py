"""The files a materialize pass has just written, handed to the clean filter.

After writing content over pointer files, git must refresh those index entries, and
git does so by running clean over every byte of every file: for 800 MiB that is as
much hashing as the download itself. Yet git-lazy wrote those bytes a moment ago from
an object it had verified. So the materialize step lists, for each file it wrote, the
pointer and the file's identity once in place (device, inode, size, mtime and ctime
in nanoseconds), in a private file ``<cache>/tmp/written-*`` that it deletes when the
refresh is over, and names that file to the refresh's git in ``GIT_LAZY_WRITTEN``.
clean answers with the listed pointer for a file whose identity is unchanged (and
whose object is cached), without hashing; every other file is hashed as usual.

Why an unchanged identity proves unchanged content: file times move in clock ticks
(milliseconds), so a write in the same tick as ours could leave mtime and ctime as
they were. The writer therefore sets the file's mtime one second before its write time
(a whole second, so that git, which compares times in seconds, never finds the entry
racy either) and lists the file only if its ctime, set by the link or rename that put
it in place, is later than that mtime. Any later write sets the mtime to the current time, which is
at least that ctime, so it can never equal the listed mtime. Where times are too
coarse for this (FAT), files are not listed and are hashed.

File format: for each file, seven fields, each ending in NUL:
``path NUL oid NUL device NUL inode NUL size NUL mtime_ns NUL ctime_ns NUL``.
Standard library and pointer.py only: the filter imports this module.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import NamedTuple

from .atomic import write_atomic
from .pointer import Pointer, is_oid
from .settings import WRITTEN_ENV

__all__ = ["ENV", "Identity", "Written", "identity", "read_ledger", "write_ledger"]

#: The environment variable naming the ledger file for one refresh.
ENV = WRITTEN_ENV
PREFIX = "written-"


class Identity(NamedTuple):
    """What tells one state of a file from another."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int


def identity(st: os.stat_result) -> Identity:
    """Return the identity of a file from its stat."""
    return Identity(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class Written:
    """One file written by git-lazy: its object and its identity just after writing."""

    path: bytes
    oid: str
    ident: Identity

    @property
    def pointer(self) -> bytes:
        """What clean would answer for these bytes: a plain pointer (no extension lines)."""
        return Pointer(self.oid, self.ident.size).encode()

    def unchanged(self, path: bytes) -> bool:
        """Tell whether ``path`` still is, as a regular file, what was written."""
        try:
            st = os.lstat(path)
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and identity(st) == self.ident


def write_ledger(entries: list[Written], folder: str) -> str:
    """Write ``entries`` to a new private file in ``folder``; return its path."""
    data = b"".join(
        field + b"\0"
        for e in entries
        for field in (e.path, e.oid.encode(), *(str(n).encode() for n in e.ident))
    )
    return str(write_atomic(os.path.join(folder, PREFIX + os.urandom(8).hex()), data, mode=0o600))


def read_ledger(path: str | None) -> dict[bytes, Written]:
    """Read a ledger, keyed by path as git names it; anything doubtful gives nothing.

    Only a file of ours is read: named ``written-*``, not a symlink, owned by us and
    readable by nobody else.
    """
    if not path or not os.path.basename(path).startswith(PREFIX):
        return {}
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o077):
            return {}
        fields = f.read().split(b"\0")
    ledger = {}
    width = 2 + len(Identity._fields)
    for i in range(0, len(fields) - width + 1, width):
        name, oid, *numbers = fields[i : i + width]
        try:
            ident = Identity(*(int(n) for n in numbers))
        except ValueError:
            return {}  # not a ledger we wrote: trust none of it
        if not is_oid(oid.decode("ascii", "replace")):
            return {}
        ledger[name] = Written(name, oid.decode(), ident)
    return ledger
