"""A store in a local or mounted folder (NFS, SMB, a USB disk).

Writes follow RELIABILITY.md section 2 "Shared folder": a temp file in the
destination directory opened with ``O_EXCL|O_NOFOLLOW``, fsync, ``os.replace``, then
fsync of the directory, so a reader sees a whole object or none.
"""

from __future__ import annotations

import errno
import io
import json
import os
import secrets
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, TypeVar

from ..errors import LazyError, ObjectMissing, StoreError, StoreUnreachable, TransientStoreError
from ..hashing import VerifyingReader
from . import FORMAT, ProgressFn
from .urls import StoreURL, checked_key

__all__ = ["CHUNK", "MARKER", "FolderStore", "RangeReader", "check_format", "parallel", "temp_name"]

T = TypeVar("T")
R = TypeVar("R")

#: Bytes per read and write when copying.
CHUNK = 1 << 20
#: What every store keeps in ``<root>/git-lazy.json``.
MARKER = (json.dumps(FORMAT) + "\n").encode()

# Errors a network filesystem gives while it recovers; worth a retry.
_TRANSIENT_ERRNOS = {errno.EIO, errno.ESTALE, errno.ETIMEDOUT, errno.EAGAIN, errno.EINTR}


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


def temp_name(oid: str) -> str:
    """Return a fresh hidden temp name for ``oid``, next to where it will live."""
    return f".{oid}.tmp-{secrets.token_hex(8)}"


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


class FolderStore:
    """Objects in a folder: ``<root>/objects/ab/cd/<oid>``."""

    #: Transfers cost syscalls, not round trips: the engine uses few threads.
    local = True

    def __init__(self, url: StoreURL, **options: Any) -> None:
        """Use the folder named by ``url``; nothing is touched until first use."""
        if url.scheme != "file":
            raise StoreError(f"{url}: not a folder store URL")
        self.url = url
        self.root = Path(url.path)
        self._made: set[Path] = set()  # shard folders known to exist

    def _error(self, exc: OSError, what: str) -> StoreError:
        detail = f"{self.url}: {what}: {exc.strerror or exc}"
        if exc.errno in _TRANSIENT_ERRNOS:
            return TransientStoreError(detail)
        return StoreError(detail)

    def missing(self, oids: Collection[str]) -> set[str]:
        """Return the oids that have no file in the store."""
        absent = set()
        for oid in oids:
            try:
                os.stat(self.root / checked_key(oid))
            except (FileNotFoundError, NotADirectoryError):
                absent.add(oid)
            except OSError as exc:
                raise self._error(exc, f"cannot check {oid}") from exc
        return absent

    def upload(self, oid: str, size: int, path: Path, progress: ProgressFn) -> None:
        """Copy ``path`` to the store under a temp name, then rename it into place."""
        final = self.root / checked_key(oid)
        try:
            if final.parent not in self._made:
                final.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(final.parent)
            with VerifyingReader(path, oid, size) as src:
                self._write_atomic(final, oid, src, size, progress)
        except OSError as exc:
            raise self._error(exc, f"cannot store {oid}") from exc

    def _write_atomic(
        self, final: Path, oid: str, src: VerifyingReader, size: int, progress: ProgressFn
    ) -> None:
        temp = final.parent / temp_name(oid)
        # O_NOFOLLOW: never write through a link someone planted at the temp name.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(temp, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                copied = 0
                buffer = bytearray(min(CHUNK, max(size, 1)))
                while True:
                    n = src.readinto(buffer)
                    if not n:
                        break
                    view = memoryview(buffer)[:n]
                    while view:  # raw writes may be partial
                        written = out.write(view)
                        view = view[written:]
                    copied += n
                    progress(n)
                if copied != size:
                    raise StoreError(f"{oid}: expected {size} bytes, read {copied} (file changed?)")
                os.fsync(out.fileno())
            # replace() swaps a planted symlink at the final name instead of following it.
            os.replace(temp, final)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        _fsync_dir(final.parent)

    def open(self, oid: str, start: int = 0, end: int | None = None) -> RangeReader:
        """Open bytes ``[start, end)`` of an object; raise ObjectMissing if absent."""
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"bad range [{start}, {end})")
        path = self.root / checked_key(oid)
        try:
            f = open(path, "rb")
        except (FileNotFoundError, NotADirectoryError) as exc:
            if not self.root.is_dir():
                raise StoreUnreachable(
                    f"{self.url}: folder does not exist (is it mounted?)"
                ) from exc
            raise ObjectMissing(oid, str(self.url)) from exc
        except OSError as exc:
            raise self._error(exc, f"cannot open {oid}") from exc
        try:
            size = os.fstat(f.fileno()).st_size
            stop = size if end is None else min(end, size)
            f.seek(start)
        except BaseException:
            f.close()
            raise

        def fail(exc: BaseException) -> LazyError:
            if isinstance(exc, OSError):
                return self._error(exc, f"cannot read {oid}")
            return StoreError(f"{self.url}: cannot read {oid}: {exc}")

        return RangeReader(
            f.read, max(0, stop - start), on_error=fail, on_close=f.close, where=str(self.url)
        )

    def prepare_push(self) -> None:
        """Create the store folder and its git-lazy.json; refuse another format."""
        marker = self.root / "git-lazy.json"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                text = marker.read_text(encoding="utf-8")
            except FileNotFoundError:
                with io.BytesIO(MARKER) as src:
                    self._write_atomic(marker, "git-lazy.json", src, len(MARKER), lambda n: None)
                return
        except OSError as exc:
            raise self._error(exc, "cannot prepare the store") from exc
        check_format(str(self.url), text)

    def close(self) -> None:
        """Nothing to release."""


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


def _fsync_dir(path: Path) -> None:
    """Make a rename durable; some filesystems cannot open a directory, so skip those."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
