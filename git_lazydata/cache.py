"""The per-user object cache: ``<root>/objects/ab/cd/<oid>``.

Objects enter only by :func:`os.replace` of a fully written temp file that lives in
``<root>/tmp`` (same filesystem, atomic.py) and whose hash has been checked, so a
reader never sees a partial object. Objects are immutable: when two processes insert the same oid
at once, the last rename wins with identical bytes. Objects are made read-only so a
stray write through a copy or link cannot change them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from .atomic import AtomicFile
from .errors import ChecksumMismatch, ObjectMissing, RangeNotHonoured
from .pointer import is_oid, object_key

if TYPE_CHECKING:
    from .stores.base import ProgressFn, Source

__all__ = ["CHUNK", "RESUME_SIZE", "Cache", "CachedObject", "PartialObject", "TempObject"]

#: Read and write in 1 MiB chunks: large enough to keep syscalls cheap, flat memory.
CHUNK = 1024 * 1024
#: Downloads of objects at least this big are kept when cut and resumed (PartialObject);
#: smaller ones start over, which costs less than the extra file operations.
RESUME_SIZE = 1024 * 1024
#: Temp files older than this belong to a dead process and may be removed.
STALE_TEMP_SECONDS = 3600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class TempObject:
    """A temp file being filled in the cache's tmp dir, hashed as it is written."""

    def __init__(self, cache: Cache) -> None:
        """Create the temp file (read-only mode; our descriptor may still write)."""
        self._cache = cache
        try:
            self._file = AtomicFile(os.path.join(cache.ensure_dir("tmp"), "object"), mode=0o444)
        except FileNotFoundError:  # the tmp folder was removed behind our back
            cache.forget_dirs()
            self._file = AtomicFile(os.path.join(cache.ensure_dir("tmp"), "object"), mode=0o444)
        self.path = self._file.path
        self._hash = hashlib.sha256()

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._file.size

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data`` and feed it to the hash."""
        self._hash.update(data)
        self._file.write(data)

    @property
    def oid(self) -> str:
        """Return the sha256 of everything written so far."""
        return self._hash.hexdigest()

    def commit(self, expect_oid: str | None = None, expect_size: int | None = None) -> str:
        """Verify the content and move it to its final name; return the oid."""
        self._file.close()
        oid = self.oid
        if (expect_oid is not None and oid != expect_oid) or (
            expect_size is not None and self.size != expect_size
        ):
            self.discard()
            raise ChecksumMismatch(expect_oid or oid, oid, self.size)
        final = self._cache.object_path(oid)
        if self._cache.has(oid, self.size):
            # Already there (objects are immutable): dropping the temp before its pages
            # are written back costs nothing, where replacing would free the old copy
            # and write the new one to disk.
            self.discard()
            return oid
        folder = os.path.dirname(final)
        try:
            self._cache.ensure_dir(folder)
            self._file.publish(final)
        except FileNotFoundError:  # its folder was removed behind our back: make it again
            self._cache.forget_dirs()
            self._cache.ensure_dir(folder)
            self._file.publish(final)
        return oid

    def discard(self) -> None:
        """Close and remove the temp file; safe to call twice."""
        self._file.discard()


class PartialObject:
    """A download kept across attempts in ``<root>/tmp/<oid>.part``, hashed as it grows.

    An attempt that fails leaves the file for the next one, in this process or a later
    one, which re-hashes what is there and asks the store for the rest only. One
    process at a time holds it (an advisory lock); a second one is told to download
    into a temp file of its own. The file becomes the object only once its hash and
    size are checked, by one rename, like every other object.
    """

    def __init__(self, cache: Cache, oid: str, size: int) -> None:
        """Open or create the part file and hash what it holds; raise BlockingIOError if another process has it."""
        self._cache, self._oid, self._size = cache, oid, size
        object_key(oid)  # never a path from an unchecked name
        self.path = os.path.join(cache.ensure_dir("tmp"), f"{oid}.part")
        flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC
        try:
            self._fd = os.open(self.path, flags, 0o600)
        except FileNotFoundError:  # the tmp folder was removed behind our back
            cache.forget_dirs()
            self.path = os.path.join(cache.ensure_dir("tmp"), f"{oid}.part")
            self._fd = os.open(self.path, flags, 0o600)
        self._hash = hashlib.sha256()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = os.fstat(self._fd).st_size
            if held > size:
                os.ftruncate(self._fd, 0)
                held = 0
            left = held
            while left and (data := os.read(self._fd, min(CHUNK, left))):
                self._hash.update(data)
                left -= len(data)
            os.lseek(self._fd, held - left, os.SEEK_SET)
            self.size = held - left
        except BaseException:
            os.close(self._fd)
            raise

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data`` and feed it to the hash."""
        view = memoryview(data)
        self._hash.update(view)
        while view:
            view = view[os.write(self._fd, view):]
        self.size += len(data)

    def commit(self) -> None:
        """Check the hash and size, then move the file to its object name; a mismatch deletes it."""
        oid = self._hash.hexdigest()
        if oid != self._oid or self.size != self._size:
            self.drop()
            raise ChecksumMismatch(self._oid, oid, self.size)
        os.fchmod(self._fd, 0o444)
        final = self._cache.object_path(oid)
        self._cache.ensure_dir(os.path.dirname(final))
        os.replace(self.path, final)
        self.close()

    def drop(self) -> None:
        """Delete what was downloaded: its bytes cannot be trusted."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self.close()

    def close(self) -> None:
        """Release the file and its lock (the bytes stay for the next attempt); safe to call twice."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class CachedObject(NamedTuple):
    """One object in the cache: its oid, its size, and when it was last written or read."""

    oid: str
    size: int
    used: float


class Cache:
    """A content-addressed folder of objects shared by every repository of a user."""

    #: Names the cache in messages, as a store's URL names a store.
    where = "the local cache"

    def __init__(self, root: Path) -> None:
        """Use ``root`` (created on first insert)."""
        self.root = Path(root)
        self._root = str(self.root)
        self._made: set[str] = set()  # folders known to exist: saves a mkdir per object

    def object_path(self, oid: str) -> str:
        """Return where object ``oid`` lives, as text (the hot path); ``oid`` is checked."""
        return os.path.join(self._root, object_key(oid))

    def path(self, oid: str) -> Path:
        """Return where object ``oid`` lives; ``oid`` must be a validated sha256."""
        return Path(self.object_path(oid))

    def ensure_dir(self, folder: str) -> str:
        """Create ``folder`` (absolute, or relative to the root) once; return its path."""
        folder = os.path.join(self._root, folder)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        return folder

    def forget_dirs(self) -> None:
        """Forget which folders exist (after one was found missing)."""
        self._made.clear()

    def has(self, oid: str, size: int | None = None) -> bool:
        """Tell whether the object is cached (and, given ``size``, has that size)."""
        try:
            st = os.stat(self.object_path(oid))
        except FileNotFoundError:
            return False
        return size is None or st.st_size == size

    def open(self, oid: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """Open bytes ``[start, end)`` of a cached object (all of it: the file itself); raise ObjectMissing."""
        path = self.object_path(oid)
        try:
            if start == 0 and end is None:
                return open(path, "rb")
            from .stores.base import open_range  # ranged reads: never on the filter's path

            return open_range(path, start, end, where=self.where)
        except FileNotFoundError:
            raise ObjectMissing(oid, self.where) from None

    def open_fd(self, oid: str, size: int) -> int:
        """Open the object as a raw descriptor to read (the caller closes it); ObjectMissing unless cached at ``size``.

        Cheaper than :meth:`open` for copies the kernel makes (sendfile, reflink): no
        Python file object around it.
        """
        try:
            fd = os.open(self.object_path(oid), os.O_RDONLY | _CLOEXEC)
        except FileNotFoundError:
            raise ObjectMissing(oid, self.where) from None
        if os.fstat(fd).st_size != size:
            os.close(fd)
            raise ObjectMissing(oid, self.where)
        return fd

    def missing(self, objects: Mapping[str, int]) -> set[str]:
        """Return the oids of ``objects`` (oid -> size) that are not cached at that size."""
        return {oid for oid, size in objects.items() if not self.has(oid, size)}

    def list(self) -> Iterator[CachedObject]:
        """Yield every cached object with its size and when it was last used."""
        objects = os.path.join(self._root, "objects")
        for top, folders, files in os.walk(objects):
            folders.sort()
            for name in files:
                if not is_oid(name):
                    continue
                try:
                    st = os.stat(os.path.join(top, name))
                except FileNotFoundError:
                    continue
                yield CachedObject(name, st.st_size, max(st.st_atime, st.st_mtime))

    def remove(self, oid: str) -> bool:
        """Delete a cached object; return False if it was not there."""
        try:
            os.unlink(self.object_path(oid))
        except FileNotFoundError:
            return False
        return True

    def touch(self, oid: str) -> None:
        """Mark an object as just used (for the least-recently-used order of ``lazy.cachemax``)."""
        try:
            os.utime(self.object_path(oid))
        except OSError:
            pass  # a read-only cache, or the object went: only the order of eviction suffers

    def upload(self, oid: str, size: int, source: Source, progress: ProgressFn) -> None:
        """Bring object ``oid`` into the cache from ``source``, verified; visible only once whole.

        Objects of RESUME_SIZE or more download into a kept part file, so a cut
        transfer goes on from where it stopped, in this process or the next
        (PartialObject); a part whose bytes turn out wrong, or a source that cannot
        answer a range, starts again from byte 0.
        """
        if size < RESUME_SIZE:
            self._whole(oid, size, source, progress)
            return
        try:
            with self.partial(oid, size) as part:
                kept = part.size
                progress(kept)  # what an earlier attempt kept is not asked for again
                moved = kept
                try:
                    if part.size < size:
                        # By range, even from byte 0: a server that answers another one
                        # must not splice its bytes in (S3 then also keeps big objects
                        # on its http.client path, s3_reads.py).
                        with source.open(oid, part.size, size) as body:
                            while chunk := body.read(max(1, min(CHUNK, size - part.size))):
                                part.write(chunk)
                                moved += len(chunk)
                                progress(len(chunk))
                    part.commit()  # a wrong hash deletes the part file
                except (ChecksumMismatch, RangeNotHonoured) as exc:
                    part.drop()
                    progress(-moved)
                    if isinstance(exc, ChecksumMismatch) and not kept:
                        raise
                    # The bytes kept from before may be the bad ones, or the source cannot
                    # resume: once more, from byte 0.
                    self._whole(oid, size, source, progress)
                except BaseException:
                    progress(-moved)  # counted again by the next attempt
                    raise
        except BlockingIOError:  # another process is downloading it: do it on our own
            self._whole(oid, size, source, progress)

    def _whole(self, oid: str, size: int, source: Source, progress: ProgressFn) -> None:
        moved = 0
        try:
            with self.writer() as temp, source.open(oid) as body:
                # Ask for no more than is due (a 1 MiB buffer per small object costs an
                # mmap and munmap); the read past the end must come back empty.
                while chunk := body.read(max(1, min(CHUNK, size - moved))):
                    temp.write(chunk)
                    moved += len(chunk)
                    progress(len(chunk))
                temp.commit(oid, size)
        except BaseException:
            progress(-moved)  # the bytes will be counted again on retry
            raise

    @contextmanager
    def writer(self) -> Iterator[TempObject]:
        """Yield a temp object that is removed unless it was committed."""
        temp = TempObject(self)
        try:
            yield temp
        finally:
            temp.discard()

    @contextmanager
    def partial(self, oid: str, size: int) -> Iterator[PartialObject]:
        """Yield the kept download of ``oid``; its bytes stay for the next attempt unless committed or dropped.

        Raises BlockingIOError while another process downloads the same object.
        """
        part = PartialObject(self, oid, size)
        try:
            yield part
        finally:
            part.close()

    def insert(
        self, chunks: Iterable[bytes], *, expect_oid: str | None = None, expect_size: int | None = None
    ) -> tuple[str, int]:
        """Store the bytes of ``chunks``, verified against ``expect_oid``; return (oid, size)."""
        with self.writer() as temp:
            for chunk in chunks:
                temp.write(chunk)
            oid = temp.commit(expect_oid, expect_size)
            return oid, temp.size

    def remove_stale_temps(self, max_age: float = STALE_TEMP_SECONDS) -> int:
        """Delete temp files older than ``max_age`` seconds (left by killed processes)."""
        removed = 0
        cutoff = time.time() - max_age
        try:
            entries = list(os.scandir(self.root / "tmp"))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
