"""Reading one file's bytes without fetching it first: the machinery of ``lazy.open``.

A cached object is read from the cache. Otherwise the bytes come from the first store
that has the object, in ranged reads: each read opens a window of the object. While
reads go on where the last one ended, each window is four times the last (256 KiB,
1 MiB, 4 MiB), then the rest of the object streams in one request; after a seek the
window starts small again. Reading the first megabyte of a large object moves about
a megabyte; reading all of it takes four requests. Every byte read in order from the start is hashed; once the
whole object has been read, in any order, its sha256 is checked (what was read out
of order is read again for the hash) and a mismatch raises ChecksumMismatch.

Stores are opened once per process and shared by every reader and thread
(:class:`StorePool`); after a fork, the child opens its own.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import os
import subprocess
import tempfile
import threading
from typing import BinaryIO

from .context import Context
from .errors import ChecksumMismatch, LazyError, ObjectMissing, TransientStoreError
from .lookup import Node
from .stores import Store
from .stores.urls import redact
from .transfer import retrying

__all__ = ["FIRST_WINDOW", "ObjectReader", "StorePool", "next_window", "open_node"]

#: The first read from a store asks for at least this much (or what the caller wants).
FIRST_WINDOW = 256 * 1024
#: Reads in order from one window into the next make the next one this many times bigger...
GROWTH = 4
#: ... until it would pass this size: then the rest of the object comes in one request,
#: read as the caller consumes it (a whole read in order is four requests).
STREAM_AFTER = 4 * 1024 * 1024
#: A seek forward by at most this much inside the open window reads through instead of asking again.
SKIP_LIMIT = 256 * 1024
#: Windows up to this size are read whole when opened: no connection stays held between reads.
HOLD_LIMIT = 1024 * 1024
#: What a file object buffers for its caller's small reads.
BUFFER_SIZE = 64 * 1024
#: Blobs git keeps itself are copied to memory up to this size, to a temp file beyond.
SPOOL_SIZE = 8 * 1024 * 1024


class StorePool:
    """The stores this process has opened, by configuration: opened once, closed at exit."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._stores: dict[tuple[int, str, str], Store] = {}
        atexit.register(self.close)

    def stores(self, ctx: Context) -> list[tuple[str, Store]]:
        """(name, store) for every store of ``ctx``, in the order they are read."""
        from .sync import open_remote

        cfg = ctx.config
        if not cfg.remotes:
            raise cfg.no_store()
        out = []
        with self._lock:
            for remote in cfg.remotes.values():
                # The key stays in memory: it may hold a URL's password.
                key = (os.getpid(), repr(remote.parsed(ctx.work_tree)), remote.endpoint or "")
                store = self._stores.get(key)
                if store is None:
                    store = self._stores[key] = open_remote(ctx, remote)
                out.append((remote.name, store))
        return out

    def close(self) -> None:
        """Close the stores this process opened (those inherited through a fork are left alone)."""
        with self._lock:
            mine = [key for key in self._stores if key[0] == os.getpid()]
            stores = [self._stores.pop(key) for key in mine]
        for store in stores:
            try:
                store.close()
            except Exception:  # at exit: nothing left to tell
                pass


POOL = StorePool()


def next_window(window: int) -> int:
    """The window that follows ``window`` when reads go on in order; 0: the rest of the object."""
    grown = window * GROWTH
    return 0 if window == 0 or grown > STREAM_AFTER else grown


class ObjectReader(io.RawIOBase):
    """A seekable, read-only view of object ``oid`` in ``store``, read by range on demand."""

    def __init__(self, store: Store, where: str, oid: str, size: int) -> None:
        """Read from ``store`` (named ``where`` in errors); nothing is asked until the first read."""
        super().__init__()
        self._store, self._where, self._oid, self._size = store, where, oid, size
        self._pos = 0
        self._stream: BinaryIO | None = None
        self._stream_pos = self._stream_end = 0  # the open window: where it is, where it ends
        self._window = FIRST_WINDOW
        self._hash = hashlib.sha256()
        self._hashed = 0  # bytes [0, _hashed) went through the hash in order
        self._seen: list[list[int]] = []  # ranges read out of order, merged: [start, end)
        self._verified = False
        #: Bytes this reader asked the store for, and in how many requests (windows).
        self.requested = self.windows = 0

    def open_first(self) -> None:
        """Open the first window now, so that a missing object is known before any read."""
        end = min(self._size, FIRST_WINDOW)
        self._stream = self._open_window(0, end)
        self._stream_pos, self._stream_end = 0, end
        self.requested = end

    def readable(self) -> bool:
        """Return True."""
        return True

    def seekable(self) -> bool:
        """Return True."""
        return True

    def tell(self) -> int:
        """The position of the next read."""
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the position (no request is made until the next read)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Fill ``buffer`` from the current position; 0 at the end of the object."""
        self._checkClosed()  # type: ignore[attr-defined]
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        if want <= 0:
            return 0
        data = self._read(self._pos, want)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        """The rest of the object, read in 1 MiB steps (the default steps are 8 KiB)."""
        parts = []
        while self._pos < self._size:
            data = self._read(self._pos, min(self._size - self._pos, 1 << 20))
            self._pos += len(data)
            parts.append(data)
        return b"".join(parts)

    def _read(self, pos: int, want: int) -> bytes:
        """Up to ``want`` bytes at ``pos``, through the open window or a new one."""
        if self._stream is not None and self._stream_pos != pos:
            if self._stream_pos < pos < self._stream_end and pos - self._stream_pos <= SKIP_LIMIT:
                while self._stream_pos < pos:  # a short hop forward: read through it
                    self._read(self._stream_pos, pos - self._stream_pos)
            else:
                self._close_stream()
                self._window = FIRST_WINDOW  # a jump: random access, start small again
        if self._stream is not None and pos == self._stream_end:
            self._close_stream()  # read to the end of a window and on: ask for more this time
            self._window = next_window(self._window)

        def attempt() -> bytes:
            if self._stream is None:
                end = self._size if self._window == 0 else min(self._size, pos + max(self._window, want))
                self._stream = self._open_window(pos, end)
                self._stream_pos, self._stream_end = pos, end
                self.requested += end - pos
            try:
                data = self._stream.read(min(want, self._stream_end - pos))
                if not data:
                    raise TransientStoreError(f"{self._where}: object {self._oid} ended at byte {pos}")
            except TransientStoreError:
                self._close_stream()  # a dropped link: the next attempt opens the window again
                raise
            return data

        data = retrying(attempt)
        self._stream_pos = pos + len(data)
        self._account(pos, data)
        return data

    def _open_window(self, start: int, end: int) -> BinaryIO:
        """Open ``[start, end)`` in the store; a small window is read at once and its connection let go.

        A file object left open between reads then holds no connection (an SSH store
        lends a few channels per process): only a long read in order keeps one.
        """
        body = self._store.open(self._oid, start, end)
        self.windows += 1
        if end - start > HOLD_LIMIT:
            return body
        with body:
            parts, got = [], 0
            while got < end - start:
                data = body.read(end - start - got)
                if not data:
                    raise TransientStoreError(f"{self._where}: object {self._oid} ended at byte {start + got}")
                parts.append(data)
                got += len(data)
        return io.BytesIO(b"".join(parts))

    def _account(self, pos: int, data: bytes) -> None:
        """Hash bytes read at ``pos`` when they continue the hashed prefix; check the hash once all is read."""
        if not data:
            return
        end = pos + len(data)
        if pos <= self._hashed < end:
            self._hash.update(memoryview(data)[self._hashed - pos:])
            self._hashed = end
        elif pos > self._hashed:
            self._remember(pos, end)
        self._catch_up()

    def _remember(self, start: int, end: int) -> None:
        merged = []
        for lo, hi in sorted([*self._seen, [start, end]]):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self._seen = merged

    def _catch_up(self) -> None:
        """Extend the hashed prefix over what was read out of order, and verify at the end."""
        while self._seen and self._seen[0][0] <= self._hashed:
            self._hashed_over(self._seen.pop(0)[1])
        if self._hashed < self._size or self._verified:
            return
        self._verified = True
        got = self._hash.hexdigest()
        if got != self._oid:
            raise ChecksumMismatch(self._oid, got, self._size, self._where)

    def _hashed_over(self, end: int) -> None:
        """Read ``[_hashed, end)`` again from the store, for the hash only."""
        if end <= self._hashed:
            return
        self.requested += end - self._hashed
        with retrying(lambda: self._store.open(self._oid, self._hashed, end)) as body:
            while self._hashed < end:
                data = body.read(min(end - self._hashed, 1 << 20))
                if not data:
                    raise LazyError(f"{self._where}: object {self._oid} ended early")
                self._hash.update(data)
                self._hashed += len(data)

    def _close_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.close()

    def close(self) -> None:
        """Release the open window (and its connection)."""
        if not self.closed:
            try:
                self._close_stream()
            finally:
                super().close()


def _open_in_stores(ctx: Context, node: Node) -> BinaryIO:
    """A reader over ``node``'s object from the first store that has it."""
    pointer = node.pointer
    assert pointer is not None
    reasons: list[str] = []
    for name, store in POOL.stores(ctx):
        raw = ObjectReader(store, name, pointer.oid, pointer.size)
        try:
            retrying(raw.open_first)
        except ObjectMissing:
            reasons.append(f"not in {name}")
            continue
        except (LazyError, OSError) as exc:
            reasons.append(f"{name}: {redact(str(exc))}")
            continue
        return io.BufferedReader(raw, buffer_size=BUFFER_SIZE)  # type: ignore[arg-type]
    raise ObjectMissing(pointer.oid, f"the local cache or any store ({'; '.join(reasons)})", node.path)


def _git_blob(ctx: Context, blob: str) -> BinaryIO:
    """The bytes of a blob git keeps, copied out: in memory when small, in a temp file beyond."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE)
    proc = subprocess.Popen(["git", "cat-file", "blob", blob], cwd=ctx.work_tree,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    with proc.stdout:
        while data := proc.stdout.read(1 << 20):
            spool.write(data)
    if proc.wait() != 0:
        spool.close()
        raise LazyError(f"git cat-file could not read blob {blob}")
    spool.seek(0)
    return spool  # type: ignore[return-value]


def open_node(ctx: Context, node: Node) -> BinaryIO:
    """A seekable binary file object over ``node``'s content."""
    pointer = node.pointer
    if pointer is None:
        if node.blob is None:
            return open(ctx.work_tree / node.path, "rb")
        return _git_blob(ctx, node.blob)
    if pointer.size == 0:
        return io.BytesIO(b"")
    if ctx.cache.has(pointer.oid, pointer.size):
        return ctx.cache.open(pointer.oid)  # verified when it entered the cache
    return _open_in_stores(ctx, node)
