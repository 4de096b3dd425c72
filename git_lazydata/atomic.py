"""Writing a local file whole or not at all: the one atomic write of git-lazy.

A temp file is created in the folder where the file will live (or in another folder
of the same filesystem), opened with ``O_EXCL|O_NOFOLLOW`` so that nothing planted at
its name is followed, filled, and moved into place by one rename. On any error before
that, the temp file is removed. A reader sees the old file, no file, or the whole new
one, never a part (RELIABILITY.md, "Publish atomically").

The cache, the folder store, the hook files, ``.gitattributes``, the written-files
ledger and the files written out to the work tree all go through :class:`AtomicFile`.
Standard library only: the filter imports this module.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import TracebackType

__all__ = ["AtomicFile", "fsync_dir", "is_temp_name", "temp_name", "write_atomic"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


#: The longest file name, in bytes, that common filesystems take (ext4, xfs, btrfs, APFS).
NAME_MAX = 255


def temp_name(name: str) -> str:
    """Return a fresh hidden temp name for a file to be published as ``name``.

    It fits in NAME_MAX bytes whatever the length of ``name``: a long name is cut,
    in bytes, which the random tail keeps unique.
    """
    tail = f".tmp-{os.urandom(8).hex()}"
    room = NAME_MAX - 1 - len(tail)
    encoded = os.fsencode(name)
    if len(encoded) > room:
        name = os.fsdecode(encoded[:room])
    return f".{name}{tail}"


_TEMP_TAIL = re.compile(r"\.tmp-[0-9a-f]{16}\Z")


def is_temp_name(name: str) -> bool:
    """Tell whether ``name`` is one that :func:`temp_name` makes."""
    return name.startswith(".") and _TEMP_TAIL.search(name) is not None


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename in ``path`` durable; skipped where a folder cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a folder; the rename itself is done
    finally:
        os.close(fd)


class AtomicFile:
    """A temp file that becomes ``final`` on :meth:`publish`, or vanishes.

    ``temp_dir`` puts the temp file in another folder of the same filesystem (the
    cache keeps its temps in ``<root>/tmp``); ``mode`` is the file's permission
    bits before the umask.
    """

    def __init__(self, final: str | os.PathLike[str], *, temp_dir: str | os.PathLike[str] | None = None,
                 mode: int = 0o666) -> None:
        """Create the temp file; nothing exists at ``final`` because of it yet."""
        self.final = os.fspath(final)
        folder = os.fspath(temp_dir) if temp_dir is not None else os.path.dirname(self.final)
        self.path = os.path.join(folder, temp_name(os.path.basename(self.final)))
        self.fd = os.open(self.path, _FLAGS, mode)
        self.size = 0
        self.published = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` (raw writes may be partial: loop until all is written)."""
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.size += len(data)

    def close(self) -> None:
        """Close the descriptor (the temp file stays); safe to call twice."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def publish(self, final: str | os.PathLike[str] | None = None, *, durable: bool = False) -> str:
        """Move the temp file to ``final`` (default: the name given at creation); return it.

        ``os.replace`` swaps a symlink planted at the final name instead of following
        it. ``durable`` flushes the file before and its folder after the rename, for
        stores that other machines read.
        """
        target = os.fspath(final) if final is not None else self.final
        if durable and self.fd >= 0:
            os.fsync(self.fd)
        self.close()
        os.replace(self.path, target)
        self.published = True
        if durable:
            fsync_dir(os.path.dirname(target))
        return target

    def discard(self) -> None:
        """Close and remove the temp file unless it was published; safe to call twice."""
        self.close()
        if not self.published:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> AtomicFile:
        """Use as a context manager: the temp file is removed unless published."""
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Remove the temp file if it was not published."""
        self.discard()


def write_atomic(final: str | os.PathLike[str], data: bytes, *, mode: int = 0o666,
                 durable: bool = False) -> Path:
    """Write ``data`` to ``final`` atomically; ``mode`` applies before the umask."""
    with AtomicFile(final, mode=mode) as temp:
        temp.write(data)
        return Path(temp.publish(durable=durable))
