"""The clean/smudge filter: git's long-running ``filter-process`` and one-shot forms.

clean: stream the file from git into a cache temp file while hashing it, move it into
the cache, answer with the pointer. Input that already is a canonical pointer (a file
not yet fetched) passes through unchanged, so it never looks modified.

smudge: answer with the cached content, or with the pointer itself when the object is
not cached or is bigger than ``lazy.smudgemax`` (git buffers smudge output in memory;
those files are written by the materialize step), or, in a checkout whose hook writes
it faster, is above ``deferred.DEFER_MIN``. Never touches the network and never fails
a checkout over a missing object. No ``delay`` capability (CVE-2021-21300).

This module is on the path of every git command that touches a tracked file: it
imports only the standard library and our own bottom layers.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from . import deferred, pktline
from .cache import CHUNK, Cache
from .errors import LazyError
from .pointer import MAX_POINTER_SIZE, Pointer, parse
from .settings import Settings, git_executable, trace_enabled, written_ledger
from .terminal import error_line
from .written import Written, read_ledger

__all__ = ["Content", "Filter", "main"]


def say(message: str) -> None:
    """Write one escaped ``git-lazy:`` line on stderr."""
    sys.stderr.write(error_line(message))
    sys.stderr.flush()

#: Files that always stay plain text, whatever .gitattributes says.
PLAIN_FILES = frozenset({".gitattributes", ".gitignore", ".gitmodules", ".lazyconfig"})
#: clean holds content up to this size in memory before it spills to a temp file.
BUFFER_MAX = 8 * 1024 * 1024
#: Non-pointer content handed to smudge is spooled in memory up to this size, then on disk.
SPOOL_MAX = 8 * 1024 * 1024


class Content:
    """The bytes git sends for one file, as an iterator of chunks that can be drained."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        """Wrap a chunk iterator."""
        self._chunks = chunks
        self.exhausted = False

    def __iter__(self) -> Iterator[bytes]:
        """Yield the remaining chunks."""
        # Not ``yield from``: clean stops iterating once its memory buffer is full,
        # which closes this generator, and ``yield from`` would close the packet
        # reader with it, cutting the file short.
        for chunk in self._chunks:  # noqa: UP028
            yield chunk
        self.exhausted = True

    def head(self, limit: int = MAX_POINTER_SIZE) -> bytes:
        """Read at least ``limit`` bytes (or all, if fewer), for pointer detection."""
        buf = bytearray()
        for chunk in self._chunks:
            buf += chunk
            if len(buf) >= limit:
                return bytes(buf)
        self.exhausted = True
        return bytes(buf)

    def drain(self) -> None:
        """Consume whatever is left, so the protocol stays in step after an error."""
        for _ in self:
            pass


class Filter:
    """clean and smudge against one cache."""

    def __init__(self, cache: Cache, smudge_max: int, written: dict[bytes, Written] | None = None,
                 deferrals: deferred.Deferrals | None = None) -> None:
        """Use ``cache``; objects above ``smudge_max`` bytes smudge to their pointer.

        ``written`` lists files git-lazy has just written (written.py): their clean
        answers the known pointer while the file is unchanged. With ``deferrals``,
        cached objects above ``deferred.DEFER_MIN`` are left to the post-checkout hook.
        """
        self.cache = cache
        self.smudge_max = smudge_max
        self.written = written or {}
        self.deferrals = deferrals

    def clean(self, content: Content, path: str = "") -> bytes:
        """Store the content in the cache and return its pointer (or the input pointer)."""
        if path.rsplit("/", 1)[-1] in PLAIN_FILES:
            # A broad pattern ("*") must not turn the files git and git-lazy read
            # themselves into pointers.
            return b"".join(content)
        raw = path.encode("utf-8", "surrogateescape")  # the bytes git named the file by
        known = self.written.get(raw)
        if known is not None and known.unchanged(raw) and self.cache.has(known.oid, known.ident.size):
            if sum(len(chunk) for chunk in content) != known.ident.size:
                raise LazyError(f"{path} changed while git read it")
            return known.pointer
        head = content.head()
        if content.exhausted:
            if not head:
                return b""  # the empty file stays the empty blob
            pointer = parse(head)
            if pointer is not None and pointer.canonical:
                return head
        # Small files are hashed in memory first: when the object is cached already
        # (every refresh after a checkout), nothing is written at all.
        buffered = [head]
        held = len(head)
        digest = hashlib.sha256(head)
        for chunk in content:
            buffered.append(chunk)
            held += len(chunk)
            digest.update(chunk)
            if held > BUFFER_MAX:
                break
        if content.exhausted:
            oid = digest.hexdigest()
            if not self.cache.has(oid, held):
                self.cache.insert(buffered, expect_oid=oid)
            return Pointer(oid, held).encode()
        with self.cache.writer() as temp:
            for chunk in buffered:
                temp.write(chunk)
            del buffered
            for chunk in content:
                temp.write(chunk)
            oid = temp.commit()
            return Pointer(oid, temp.size).encode()

    def smudge(self, content: Content, path: str = "") -> BinaryIO | bytes:
        """Return what the work tree gets: an open cached object, or bytes to write."""
        head = content.head()
        if not content.exhausted:
            # Too long to be a pointer: plain content, passed through unchanged.
            spool = tempfile.SpooledTemporaryFile(SPOOL_MAX, dir=self._spool_dir())
            spool.write(head)
            for chunk in content:
                spool.write(chunk)
            spool.seek(0)
            return spool  # type: ignore[return-value]
        pointer = parse(head)
        if pointer is None:
            return head
        if pointer.size == 0:
            return b""
        if pointer.size <= self.smudge_max and self.cache.has(pointer.oid, pointer.size):
            self.cache.touch(pointer.oid)  # just used: last in line for eviction (lazy.cachemax)
            if (self.deferrals is not None and pointer.size > deferred.DEFER_MIN and path
                    and self.deferrals.add(path)):
                return head  # the hook writes it (deferred.py)
            return self.cache.open(pointer.oid)
        return head

    def _spool_dir(self) -> str | None:
        tmp = self.cache.root / "tmp"
        return str(tmp) if tmp.is_dir() else None


def _send(out: BinaryIO, result: BinaryIO | bytes) -> None:
    """Send smudge/clean output as content packets (the caller sends status first)."""
    if isinstance(result, bytes):
        pktline.write_packet(out, result)
        return
    with result:
        # The largest payload that fits a packet: no 1 MiB buffer per small object.
        while chunk := result.read(pktline.MAX_PAYLOAD):
            pktline.write_packet(out, chunk)


def _content_packets(stream: BinaryIO) -> Iterator[bytes]:
    while (packet := pktline.read_packet(stream)) is not None:
        yield packet


def _handshake(inp: BinaryIO, out: BinaryIO) -> None:
    """Answer git's welcome and capability lists.

    git> git-filter-client / version=2 / 0000
    us>  git-filter-server / version=2 / 0000
    git> capability=clean / capability=smudge / capability=delay / 0000
    us>  capability=clean / capability=smudge / 0000
    """
    welcome = pktline.read_text_list(inp)
    if not welcome or welcome[0] != "git-filter-client" or "version=2" not in welcome[1:]:
        raise pktline.ProtocolError(f"expected git-filter-client with version=2, got {welcome!r}")
    for line in ("git-filter-server\n", "version=2\n"):
        pktline.write_packet(out, line.encode())
    pktline.write_packet(out, None)
    out.flush()
    offered = set(pktline.read_text_list(inp))
    for capability in ("clean", "smudge"):
        if f"capability={capability}" in offered:
            pktline.write_packet(out, f"capability={capability}\n".encode())
    pktline.write_packet(out, None)
    out.flush()


def serve(filt: Filter, inp: BinaryIO, out: BinaryIO) -> None:
    """Run the long-running filter protocol until git closes our stdin.

    Per file:
    git> command=clean|smudge / pathname=<path> / [ref=, treeish=, blob=] / 0000
    git> <content packets> / 0000
    us>  status=success / 0000 / <content packets> / 0000 / 0000
    or   status=error / 0000                      (nothing was sent yet)
    or   ... <some content> / 0000 / status=error / 0000  (failed mid-way)
    """
    _handshake(inp, out)
    while True:
        try:
            headers = pktline.read_text_list(inp)
        except EOFError:
            return  # git closed our stdin: its command is over
        if not headers:
            continue
        fields = dict(h.partition("=")[::2] for h in headers)
        command, path = fields.get("command", ""), fields.get("pathname", "")
        content = Content(_content_packets(inp))
        try:
            if command == "clean":
                result: BinaryIO | bytes = filt.clean(content, path)
            elif command == "smudge":
                result = filt.smudge(content, path)
            else:
                raise LazyError(f"unsupported filter command {command!r}")
        except (OSError, LazyError) as exc:
            content.drain()
            say(f"{command} {path}: {_describe(exc)}")
            _status(out, "error")
            continue
        _status(out, "success", flush=False)  # one write for status and content
        try:
            _send(out, result)
        except OSError as exc:
            say(f"{command} {path}: {_describe(exc)}")
            pktline.write_packet(out, None)
            _status(out, "error")
            continue
        pktline.write_packet(out, None)
        pktline.write_packet(out, None)  # empty list: the status stays "success"
        out.flush()


def _status(out: BinaryIO, status: str, flush: bool = True) -> None:
    pktline.write_packet(out, f"status={status}\n".encode())
    pktline.write_packet(out, None)
    if flush:
        out.flush()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f": {exc.filename}" if exc.filename else "")
    return str(exc)


def _widen_pipes() -> None:
    """Ask for 1 MiB pipe buffers: git writes content in 64 KiB packets, and a wider
    pipe means far fewer context switches per GiB. Linux only; harmless elsewhere."""
    try:
        import fcntl

        for fd in (0, 1):
            fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1024 * 1024)
    except (ImportError, OSError):
        pass  # not a pipe, not Linux, or above /proc/sys/fs/pipe-max-size


def _ensure_hooks() -> tuple[Path, Path] | None:
    """Put our hooks in a repository that has the filter but not the hooks yet.

    A user-wide install reaches every clone through the filter, but hooks live per
    repository: this is what makes ``git clone`` run post-checkout. Only the
    default hooks folder inside the git dir is touched; a ``core.hooksPath``
    elsewhere is the user's to manage with ``git lazy install``. A bare repository
    (a server's, or one ``git archive`` reads) has no checkout to bring data to and
    is never written. Returns the git dir and the hooks folder of a repository with
    a work tree, else None.
    """
    proc = subprocess.run(
        [git_executable(), "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir",
         "--git-path", "hooks", "--is-bare-repository"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False,
    )
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode != 0 or len(lines) != 4 or lines[3] != "false":
        return None  # bare, or not in a repository (hash-object outside one)
    git_dir, common, hooks_dir = Path(lines[0]), Path(lines[1]), Path(lines[2])
    from .hookfiles import HOOKS, install_hooks

    if hooks_dir.parent == common and not all((hooks_dir / name).exists() for name in HOOKS):
        try:
            install_hooks(hooks_dir)
        except (OSError, LazyError) as exc:
            say(f"could not install hooks in {hooks_dir}: {_describe(exc)}")
    return git_dir, hooks_dir


def _deferrals(where: tuple[Path, Path] | None) -> deferred.Deferrals | None:
    """Defer to the post-checkout hook where git runs it next and it is ours (deferred.py)."""
    if where is None or deferred.git_command() not in deferred.HOOKED_COMMANDS:
        return None
    from .hookfiles import is_ours

    git_dir, hooks_dir = where
    if not (is_ours(hooks_dir / "post-checkout") and os.access(hooks_dir / "post-checkout", os.X_OK)):
        return None
    return deferred.Deferrals(str(git_dir / deferred.FILE))


def main(argv: list[str]) -> int:
    """Entry point for ``git-lazy filter-process|clean|smudge [-- %f]``."""
    command = argv[0]
    _widen_pipes()
    inp = open(sys.stdin.fileno(), "rb", buffering=CHUNK, closefd=False)
    out = open(sys.stdout.fileno(), "wb", buffering=CHUNK, closefd=False)

    try:
        settings = Settings.load()
        filt = Filter(Cache(settings.cache_root), settings.smudge_max, read_ledger(written_ledger()))
        if command == "filter-process":
            filt.deferrals = _deferrals(_ensure_hooks())
            serve(filt, inp, out)
            return 0
        content = Content(iter(lambda: inp.read(CHUNK), b""))
        path = argv[-1] if len(argv) > 1 else ""
        result = filt.clean(content, path) if command == "clean" else filt.smudge(content)
        if isinstance(result, bytes):
            out.write(result)
        else:
            with result:
                while chunk := result.read(CHUNK):
                    out.write(chunk)
        out.flush()
        return 0
    except (OSError, EOFError, LazyError, pktline.ProtocolError) as exc:
        if trace_enabled():
            raise
        say(f"{command}: {_describe(exc)}")
        return 2
    except KeyboardInterrupt:
        return 130
