"""A store in a local or mounted folder (NFS, SMB, a USB disk).

Writes follow RELIABILITY.md section 2 "Shared folder": a temp file in the
destination directory opened with ``O_EXCL|O_NOFOLLOW``, fsync, ``os.replace``, then
fsync of the directory, so a reader sees a whole object or none (atomic.py). The
store's own folder is never created here: a share that is not mounted must not
silently turn into a folder on the local disk (``git lazy remote add`` makes it).
"""

from __future__ import annotations

import errno
import io
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ..atomic import AtomicFile, is_temp_name
from ..errors import LazyError, ObjectMissing, StoreError, StoreUnreachable, TransientStoreError
from ..pointer import is_oid, object_key
from . import store_ident
from .base import (
    CHUNK,
    MARKER,
    STALE_TEMP_SECONDS,
    ProgressFn,
    RangeReader,
    Source,
    check_format,
    check_range,
    seek_range,
    verifying,
)
from .urls import StoreURL

__all__ = ["FolderStore"]

# Errors a network filesystem gives while it recovers; worth a retry.
_TRANSIENT_ERRNOS = {errno.EIO, errno.ESTALE, errno.ETIMEDOUT, errno.EAGAIN, errno.EINTR}


class FolderStore:
    """Objects in a folder: ``<root>/objects/ab/cd/<oid>``."""

    #: Reads cost syscalls, not round trips: the engine uses few threads for them.
    local = True
    #: Each upload ends in fsyncs that wait on the disk with the interpreter released,
    #: so uploads overlap their waits on as many threads as a remote store gets.
    durable_uploads = True

    def __init__(self, url: StoreURL, **options: Any) -> None:
        """Use the folder named by ``url``; nothing is touched until first use."""
        if url.scheme != "file":
            raise StoreError(f"{url}: not a folder store URL")
        self.url = url
        self.root = Path(url.path)
        #: Where the objects live, as the record of known objects names it (record.py).
        self.ident = store_ident(url)
        self.where = str(url)
        self._made: set[Path] = set()  # shard folders known to exist
        self.warnings: list[str] = []

    def _error(self, exc: OSError, what: str) -> StoreError:
        detail = f"{self.url}: {what}: {exc.strerror or exc}"
        if exc.errno in _TRANSIENT_ERRNOS:
            return TransientStoreError(detail)
        return StoreError(detail)

    def missing(self, objects: Mapping[str, int]) -> set[str]:
        """Return the oids that have no file in the store, or a file of another size."""
        absent = set()
        for oid, size in objects.items():
            try:
                if os.stat(self.root / object_key(oid)).st_size != size:
                    absent.add(oid)  # cut short by a full disk or a bad copy: sent again
            except (FileNotFoundError, NotADirectoryError):
                absent.add(oid)
            except OSError as exc:
                raise self._error(exc, f"cannot check {oid}") from exc
        return absent

    def upload(self, oid: str, size: int, source: Source, progress: ProgressFn) -> None:
        """Copy the object from ``source`` under a temp name, then rename it into place."""
        final = self.root / object_key(oid)
        try:
            if final.parent not in self._made:
                self._make_shard(final.parent)
            with verifying(source, oid, size) as src:
                self._write_atomic(final, oid, src, size, progress)
        except OSError as exc:
            raise self._error(exc, f"cannot store {oid}") from exc

    def _write_atomic(self, final: Path, oid: str, src: BinaryIO, size: int, progress: ProgressFn) -> None:
        with AtomicFile(final) as temp:
            buffer = bytearray(min(CHUNK, max(size, 1)))
            while n := src.readinto(buffer):  # type: ignore[attr-defined]
                temp.write(memoryview(buffer)[:n])
                progress(n)
            if temp.size != size:
                raise StoreError(f"{oid}: expected {size} bytes, read {temp.size} (file changed?)")
            temp.publish(durable=True)
        held = os.stat(final).st_size  # what the filesystem kept, not what was written
        if held != size:
            os.unlink(final)
            raise StoreError(f"{self.url}: {oid}: the folder kept {held} of {size} bytes")

    def _make_shard(self, folder: Path) -> None:
        """Make sure shard ``folder`` exists; one that was there already is swept of dead temp files.

        A folder made just now holds nothing to sweep: for many small objects, nearly
        every one starts a shard of its own.
        """
        try:
            os.mkdir(folder)
        except FileExistsError:
            self._sweep(folder)
        except FileNotFoundError:  # its parent is missing too: only ever inside the store's own folder
            self._require_root()
            folder.mkdir(parents=True, exist_ok=True)
        self._made.add(folder)

    def _sweep(self, folder: Path) -> None:
        """Remove temp files that writers which died left in ``folder``; housekeeping, never an error."""
        cutoff = time.time() - STALE_TEMP_SECONDS
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if is_temp_name(entry.name) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)
        except OSError:
            pass

    def _require_root(self) -> None:
        if not self.root.is_dir():
            raise StoreUnreachable(f"{self.url}: folder does not exist (is it mounted?)")

    def open(self, oid: str, start: int = 0, end: int | None = None) -> RangeReader:
        """Open bytes ``[start, end)`` of an object; raise ObjectMissing if absent."""
        check_range(start, end)
        path = self.root / object_key(oid)
        try:
            f = open(path, "rb")
        except (FileNotFoundError, NotADirectoryError) as exc:
            self._require_root()
            raise ObjectMissing(oid, str(self.url)) from exc
        except OSError as exc:
            raise self._error(exc, f"cannot open {oid}") from exc
        length = seek_range(f, start, end)

        def fail(exc: BaseException) -> LazyError:
            if isinstance(exc, OSError):
                return self._error(exc, f"cannot read {oid}")
            return StoreError(f"{self.url}: cannot read {oid}: {exc}")

        return RangeReader(f.read, length, on_error=fail, on_close=f.close, where=str(self.url))

    def list(self) -> Iterator[tuple[str, int]]:
        """Yield (oid, size) of every object in the store; other names are reported in ``warnings``."""
        objects = self.root / "objects"
        self._require_root()
        try:
            for top, folders, files in os.walk(objects):
                folders.sort()
                rel = os.path.relpath(top, objects)
                for name in sorted(files):
                    if is_temp_name(name):
                        continue  # an upload in flight, or one that sweep() removes
                    if is_oid(name) and rel == f"{name[:2]}/{name[2:4]}":
                        try:
                            yield name, os.stat(os.path.join(top, name)).st_size
                        except FileNotFoundError:
                            continue
                    else:
                        self.warnings.append(f"{self.url}: ignoring {os.path.join(rel, name)!r} (not an object)")
        except OSError as exc:
            raise self._error(exc, "cannot list objects") from exc

    def delete(self, oid: str) -> bool:
        """Remove object ``oid``; return False if it was not there."""
        try:
            os.unlink(self.root / object_key(oid))
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._error(exc, f"cannot delete {oid}") from exc
        return True

    def sweep(self, max_age: float = STALE_TEMP_SECONDS) -> int:
        """Remove temp files of uploads that died at least ``max_age`` seconds ago; return how many."""
        cutoff = time.time() - max_age
        removed = 0
        for top, _folders, files in os.walk(self.root / "objects"):
            for name in files:
                if not is_temp_name(name):
                    continue
                path = os.path.join(top, name)
                try:
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise self._error(exc, "cannot remove a stale temp file") from exc
        return removed

    def prepare_push(self) -> None:
        """Write git-lazy.json in the store's folder when absent; refuse another format."""
        marker = self.root / "git-lazy.json"
        self._require_root()
        try:
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
