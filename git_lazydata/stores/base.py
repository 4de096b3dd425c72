"""What every kind of store shares: the format marker, ranged readers, temp names.

Standard library only, like :mod:`git_lazydata.stores` itself: backends import this
module, and the command line loads it without loading boto3 or paramiko.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from typing import Any, BinaryIO, Protocol, TypeVar

from ..atomic import temp_name
from ..errors import LazyError, StoreError, TransientStoreError
from ..hashing import VerifyingReader

__all__ = [
    "CHUNK", "FORMAT", "MARKER", "STALE_TEMP_SECONDS", "SWEEP_SIZE", "FileSource",
    "ProgressFn", "RangeReader", "Source", "check_format", "check_range", "open_range", "parallel",
    "retry_after", "seek_range", "temp_name", "verifying",
]

T = TypeVar("T")
R = TypeVar("R")

#: Bytes per read and write when copying.
CHUNK = 1 << 20
#: A temp file in a store untouched this long was left by a writer that died (a live
#: upload writes to its temp file all the time): ``sweep`` (``git lazy prune``) and the
#: next upload into its folder remove it. S3 keeps no temp files: its unfinished
#: multipart uploads this old are aborted instead.
STALE_TEMP_SECONDS = 24 * 3600
#: Uploads at least this big sweep their folder in a store where listing costs a round
#: trip (SSH); small ones would double the requests of a push of many objects.
SWEEP_SIZE = 1 << 20
#: Content of ``<root>/git-lazy.json``.
FORMAT = {"format": 1}
#: What every store keeps in ``<root>/git-lazy.json``, as bytes.
MARKER = (json.dumps(FORMAT) + "\n").encode()

#: Called with the number of bytes moved since the last call; may be called from threads.
ProgressFn = Callable[[int], None]


class Source(Protocol):
    """Where an upload reads an object from: the cache, a store, or one local file."""

    #: Names the source in messages ("the local cache", a store's redacted URL).
    where: str

    def open(self, oid: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """Open bytes ``[start, end)`` of object ``oid``; raise ObjectMissing."""


class FileSource:
    """One local file, as the source of the object it holds (tests, imports)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Read from ``path``; nothing is opened yet."""
        self.path = os.fspath(path)
        self.where = self.path

    def open(self, oid: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """Open bytes ``[start, end)`` of the file, whatever ``oid`` names."""
        return open_range(self.path, start, end, where=self.path)


def verifying(source: Source, oid: str, size: int, progress: ProgressFn | None = None) -> VerifyingReader:
    """Read object ``oid`` of ``source`` through a reader that checks its hash at the end."""
    return VerifyingReader(lambda: source.open(oid), oid, size, progress, where=source.where)


def open_range(path: str, start: int = 0, end: int | None = None, *, where: str = "") -> BinaryIO:
    """Open bytes ``[start, end)`` of a local file: the file itself when that is all of it."""
    check_range(start, end)
    f = open(path, "rb")  # noqa: SIM115 - closed by the caller, or by the RangeReader
    if start == 0 and end is None:
        return f
    length = seek_range(f, start, end)
    reader = RangeReader(f.read, length, on_close=f.close, where=where or path)
    return reader  # type: ignore[return-value]


def seek_range(f: BinaryIO, start: int, end: int | None) -> int:
    """Move the open file ``f`` to ``start``; return how many bytes of ``[start, end)`` it holds (closed on error)."""
    try:
        size = os.fstat(f.fileno()).st_size
        stop = size if end is None else min(end, size)
        f.seek(start)
    except BaseException:
        f.close()
        raise
    return max(0, stop - start)


def check_range(start: int, end: int | None) -> None:
    """Refuse a byte range ``[start, end)`` that no object can have."""
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"bad range [{start}, {end})")


def parallel(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """Run ``fn`` over ``items`` in threads; on the first error cancel the rest and raise it."""
    todo = list(items)
    if len(todo) <= 1 or workers <= 1:
        return [fn(item) for item in todo]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(todo)), thread_name_prefix="lazy-store")
    try:
        futures = [pool.submit(fn, item) for item in todo]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future.done() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class RangeReader(io.RawIOBase):
    """A read-only stream of exactly ``length`` bytes taken from ``read(n)``."""

    # A source that ends early raises TransientStoreError (never a silent short read);
    # ``on_error`` turns the source's own exceptions into git-lazy errors and
    # ``on_close`` releases the source (a file, an HTTP body, an SFTP channel).

    def __init__(
        self,
        read: Callable[[int], bytes],
        length: int,
        *,
        on_error: Callable[[BaseException], LazyError] | None = None,
        on_close: Callable[[], None] | None = None,
        where: str = "",
    ) -> None:
        """Wrap ``read``; nothing is read until the caller asks."""
        super().__init__()
        self._read = read
        self._left = length
        self._length = length
        self._on_error = on_error
        self._on_close = on_close
        self._where = where

    def readable(self) -> bool:
        """Return True."""
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Return up to ``size`` bytes: the source's own bytes, not a copy of them."""
        self._checkClosed()  # type: ignore[attr-defined]
        if size is None or size < 0:
            return self.readall()
        return self._take(size)

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` with at most the bytes left in the range."""
        view = memoryview(buffer).cast("B")
        data = self._take(len(view))
        view[: len(data)] = data
        return len(data)

    def _take(self, size: int) -> bytes:
        want = min(size, self._left, CHUNK)
        if want <= 0:
            return b""
        try:
            data = self._read(want)
        except LazyError:
            raise
        except Exception as exc:
            if self._on_error is None:
                raise
            raise self._on_error(exc) from exc
        if not data:
            got = self._length - self._left
            raise TransientStoreError(
                f"{self._where}: stream ended after {got} of {self._length} bytes"
            )
        if len(data) > want:
            raise StoreError(f"{self._where}: asked for {want} bytes, got {len(data)}")
        self._left -= len(data)
        return data

    def readall(self) -> bytes:
        """Read the rest of the range in 1 MiB steps (the default steps are 8 KiB)."""
        parts: list[bytes] = []
        while True:
            part = self.read(CHUNK)
            if not part:
                return b"".join(parts)
            parts.append(part)

    def close(self) -> None:
        """Release the source once."""
        if not self.closed:
            try:
                if self._on_close is not None:
                    self._on_close()
            finally:
                super().close()


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` value (seconds or a date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime  # only for the rare date form

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def check_format(where: str, text: str) -> None:
    """Raise StoreError unless ``text`` is a git-lazy.json this version can use."""
    try:
        found = json.loads(text).get("format")
    except (ValueError, AttributeError):
        raise StoreError(f"{where}: git-lazy.json is not valid JSON") from None
    if found != FORMAT["format"]:
        raise StoreError(
            f"{where}: store format {found!r}, this git-lazy uses {FORMAT['format']};"
            " upgrade git-lazy or use another store"
        )
