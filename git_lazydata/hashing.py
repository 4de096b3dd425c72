"""Hashing while bytes stream, so that no object is read twice to be checked."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import BinaryIO

from .errors import ChecksumMismatch

__all__ = ["VerifyingReader", "sha256_file", "sha256_stream"]


class VerifyingReader:
    """Reads an object and refuses to hand over its last bytes unless they hash to ``oid``.

    Stores read their source with this: a store publishes an object only after it
    has read all of it, so bytes that rotted in the cache, or a store's copy that
    does not match, are never sent on (the read that would complete it raises
    ChecksumMismatch instead). Seeking back to the start opens the source again and
    restarts the hash (botocore reads a body once to sign it, once to send it);
    ``progress`` hears only of bytes past the furthest point read.
    """

    def __init__(self, opener: Callable[[], BinaryIO], oid: str, size: int,
                 progress: Callable[[int], None] | None = None, where: str = "") -> None:
        """Read what ``opener()`` gives, which should be ``size`` bytes hashing to ``oid``."""
        self._opener = opener
        self._file = opener()
        self.oid, self.size = oid, size
        self._hash = hashlib.sha256()
        self._pos = self._reported = 0
        self._progress = progress
        self.name = where

    def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all that is left when ``n`` < 0)."""
        left = self.size - self._pos
        n = left if n is None or n < 0 else min(n, left)
        data = self._file.read(n) if n > 0 else b""
        self._took(data, n)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """Read into ``buffer`` without an extra copy; see :meth:`read`."""
        view = memoryview(buffer)[: max(0, self.size - self._pos)]
        n = self._file.readinto(view) if len(view) else 0
        self._took(view[:n], len(view))
        return n

    def _took(self, data: bytes | memoryview, asked: int) -> None:
        """Account for ``data`` just read (``asked`` bytes were wanted)."""
        if asked > 0 and not data:
            raise ChecksumMismatch(self.oid, "(truncated)", self._pos, self.name)
        self._hash.update(data)
        self._pos += len(data)
        if self._pos == self.size and data or self.size == 0:
            self._check()
        if self._progress is not None and self._pos > self._reported:
            self._progress(self._pos - self._reported)
            self._reported = self._pos

    def _check(self) -> None:
        got = self._hash.copy().hexdigest()
        extra = self._file.read(1)
        if got != self.oid or extra:
            raise ChecksumMismatch(self.oid, got, self._pos + len(extra), self.name)

    def seek(self, pos: int, whence: int = 0) -> int:
        """Only rewinding to the start (or asking where we are) is supported."""
        if whence == 1 and pos == 0:
            return self._pos
        if whence == 2 and pos == 0:
            return self.size
        if (whence, pos) != (0, 0):
            raise OSError("a verifying reader can only seek back to the start")
        if self._pos:
            self._file.close()
            self._file = self._opener()
        self._hash = hashlib.sha256()
        self._pos = 0
        return 0

    def tell(self) -> int:
        """Bytes read so far."""
        return self._pos

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> VerifyingReader:
        """Use as a context manager."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close on exit."""
        self.close()


def sha256_file(path: str | os.PathLike[str], chunk: int = 1024 * 1024) -> tuple[str, int]:
    """Return (sha256, size) of a file, streaming it."""
    with open(path, "rb") as f:
        return sha256_stream(f, chunk=chunk)


def sha256_stream(stream: BinaryIO, progress: Callable[[int], None] | None = None,
                  chunk: int = 1024 * 1024) -> tuple[str, int]:
    """Return (sha256, size) of what ``stream`` holds from where it is, telling ``progress`` of each read."""
    digest = hashlib.sha256()
    size = 0
    while data := stream.read(chunk):
        digest.update(data)
        size += len(data)
        if progress is not None:
            progress(len(data))
    return digest.hexdigest(), size
