"""Materialize: replace pointer files in the work tree with their content.

Used by the post-checkout/post-merge hooks and ``git lazy checkout``. A file is
replaced only when it still is exactly the pointer git wrote (never a file the user
changed), never through a symlink, and only once a fully written temp file from the
same folder can take its place (which also breaks hard links). Content is copied from
the cache in the kernel where it can be (sendfile), so memory stays flat.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import AtomicFile
from .cache import CHUNK, Cache
from .errors import LazyError, ObjectMissing
from .gitcmd import GitError, git
from .indexstat import Recorded, record_written
from .pointer import MAX_POINTER_SIZE, parse
from .repo import Entry
from .settings import WRITTEN_ENV, child_env
from .written import Written, identity, write_ledger

__all__ = [
    "MaterializeResult",
    "Writer",
    "filter_configured",
    "lazy_paths",
    "lfs_taken_over",
    "materialize",
    "pointer_sized",
    "require_filter",
    "still_pointers",
]


@dataclass
class MaterializeResult:
    """What a materialize pass did: written paths, objects not cached, skipped paths."""

    written: list[bytes] = field(default_factory=list)
    missing: list[Entry] = field(default_factory=list)
    skipped: list[tuple[bytes, str]] = field(default_factory=list)


def pointer_sized(path: Path) -> bool:
    """Tell whether ``path`` is a regular file small enough to be a pointer."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and 0 < st.st_size < MAX_POINTER_SIZE


def still_pointers(work_tree: Path, entries: Iterable[Entry]) -> list[Entry]:
    """Keep the entries whose work-tree file may still be a pointer (a small regular file).

    Everything the filter or an earlier pass already wrote out is left out without
    reading it: the common case after a checkout.
    """
    return [e for e in entries if pointer_sized(work_tree / os.fsdecode(e.path))]


def _unsafe_parent(work_tree: str, rel: str, safe: set[str]) -> str | None:
    """Return why the folders leading to ``rel`` may not be written through, or None.

    ``safe`` holds the folders (relative, "/"-separated) already found to be real
    folders by this writer; they are not looked at again, and the ones found now join them.
    """
    folder, slash, _ = rel.rpartition("/")
    if not slash or folder in safe:
        return None
    current = ""
    for part in folder.split("/"):
        if part in ("", ".", "..") or part.lower() == ".git":
            return f"unsafe path component {part!r}"
        current = f"{current}/{part}" if current else part
        if current in safe:
            continue
        try:
            st = os.lstat(os.path.join(work_tree, current))
        except FileNotFoundError:
            return "its folder does not exist"
        if stat.S_ISLNK(st.st_mode):
            return f"beyond a symlink ({current})"
        if not stat.S_ISDIR(st.st_mode):
            return f"not a directory ({current})"
        safe.add(current)
    return None


def _is_pointer_file(path: str, entry: Entry) -> tuple[bool, str | None, os.stat_result | None]:
    """Tell whether ``path`` is a regular file holding ``entry``'s pointer."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False, None, None
    if stat.S_ISLNK(st.st_mode):
        return False, "is a symlink", None
    if not stat.S_ISREG(st.st_mode) or st.st_size >= MAX_POINTER_SIZE:
        return False, None, None
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        data = os.read(fd, MAX_POINTER_SIZE)
    finally:
        os.close(fd)
    if data == entry.pointer.encode():  # the usual case, without parsing
        return True, None, st
    pointer = parse(data)
    same = pointer is not None and (pointer.oid, pointer.size) == (entry.pointer.oid, entry.pointer.size)
    return same, None, st


#: How far before its write time a written file's mtime is set: one second.
BACKDATE_NS = 10**9
#: ioctl FICLONE (linux/fs.h): the new file shares the cached object's blocks (btrfs, XFS).
_FICLONE = 0x40049409
#: (source device, destination device) pairs where a clone was refused: not asked again.
_NO_CLONE: set[tuple[int, int]] = set()


#: Files smaller than this are copied, not cloned: sharing a few blocks saves nothing,
#: and asking costs syscalls for each of thousands of small files.
CLONE_MIN = 64 * 1024


def _clone(src_fd: int, dst_fd: int, size: int) -> bool:
    """Make the empty file ``dst_fd`` share the blocks of ``src_fd`` (a reflink); False where the filesystem cannot."""
    if size < CLONE_MIN or not sys.platform.startswith("linux"):
        return False
    devices = (os.fstat(src_fd).st_dev, os.fstat(dst_fd).st_dev)
    if devices in _NO_CLONE:
        return False
    try:
        fcntl.ioctl(dst_fd, _FICLONE, src_fd)
    except OSError:
        _NO_CLONE.add(devices)  # ext4, tmpfs, two filesystems: copy instead
        return False
    if os.fstat(dst_fd).st_size == size:
        return True
    os.ftruncate(dst_fd, 0)  # not the size the pointer says: copy, which reports it
    return False


def _copy(src_fd: int, dst_fd: int, size: int) -> None:
    """Copy ``size`` bytes between descriptors: by reflink where the filesystem shares blocks, else in the kernel."""
    if _clone(src_fd, dst_fd, size):
        return
    copied = 0
    try:
        # sendfile, not copy_file_range: the latter was several times slower on ext4
        # for many mid-sized files (measured: 200 x 4 MiB, 2.0 s against 0.25 s).
        while copied < size:
            n = os.sendfile(dst_fd, src_fd, copied, min(size - copied, 1 << 30))
            if n == 0:
                break
            copied += n
    except (AttributeError, OSError):
        pass  # no sendfile to a file here: copy by hand
    while copied < size:
        chunk = os.pread(src_fd, min(CHUNK, size - copied), copied)
        if not chunk:
            break
        view = memoryview(chunk)
        while view:
            written = os.write(dst_fd, view)
            view = view[written:]
        copied += len(chunk)
    if copied != size:
        raise OSError(f"cached object is shorter than its pointer says ({copied} of {size} bytes)")


def _write_one(cache: Cache, target: str, entry: Entry, before: os.stat_result) -> Written | None:
    """Write the object next to ``target``, then put it in the pointer's place.

    Returns the file's identity once in place (for the index refresh), or None
    when something else touched the file in between. Raises ObjectMissing when
    the cache has no object of the pointer's size.
    """
    src = cache.open_fd(entry.pointer.oid, entry.pointer.size)
    try:
        return _write_from(src, target, entry, before)
    finally:
        os.close(src)


def _write_from(src: int, target: str, entry: Entry, before: os.stat_result) -> Written | None:
    """:func:`_write_one`, from the cached object open at descriptor ``src``."""
    mode = 0o777 if entry.mode == "100755" else 0o666  # the umask applies, as for git
    with AtomicFile(target, mode=mode) as temp:
        _copy(src, temp.fd, entry.pointer.size)
        # Back-dated: any later write moves the mtime (written.py), and git, which
        # compares times in whole seconds, never finds the entry racy (indexstat.py).
        st = os.fstat(temp.fd)
        os.utime(temp.fd, ns=(st.st_atime_ns, st.st_mtime_ns - BACKDATE_NS))
        temp.close()
        now = os.lstat(target)
        if (now.st_ino, now.st_size, now.st_mtime_ns) != (before.st_ino, before.st_size, before.st_mtime_ns):
            raise FileExistsError("changed while it was being written; left alone")
        _swap_in(temp, target)
    # Linking and unlinking change the ctime: the identity is taken after them, and
    # only kept when inode, size and mtime show that nobody wrote to the file since,
    # and the ctime is past the mtime, so that no later write can go unseen.
    after = identity(os.lstat(target))
    ours = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns - BACKDATE_NS)
    if after[:4] != ours or not after.mtime_ns < after.ctime_ns:
        return None
    return Written(entry.path, entry.pointer.oid, after)


def _swap_in(temp: AtomicFile, target: str) -> None:
    """Put the full file ``temp`` at ``target`` in place of the pointer file there.

    Remove the pointer, then hard-link the temp file to the name (the temp name is
    removed when ``temp`` is discarded). Renaming over the pointer would be one step,
    but ext4 (in its default auto_da_alloc mode) then forces the new file's blocks to disk at once,
    which made writing 800 MiB take 2.5 times as long; a link never replaces
    anything either, so a file someone put there in between is kept, not clobbered.
    Where links are not supported, a plain rename does the same.
    """
    os.unlink(target)
    try:
        os.link(temp.path, target, follow_symlinks=False)
    except FileExistsError:
        raise FileExistsError("changed while it was being written; left alone") from None
    except OSError:  # no hard links here (FAT, some network filesystems)
        temp.publish(target)


def filter_configured(cwd: Path) -> bool:
    """Tell whether git config sets up the lazy filter driver here."""
    # with_filter: our usual "-c filter.lazy.process=" would hide the real value.
    for key in ("filter.lazy.process", "filter.lazy.clean"):
        if git("config", "--get", key, cwd=cwd, check=False, with_filter=True).strip():
            return True
    return False


def lfs_taken_over(cwd: Path) -> bool:
    """Tell whether git config points git-lfs's filter name, ``lfs``, at git-lazy (``migrate from-lfs``)."""
    for key in ("filter.lfs.process", "filter.lfs.clean"):
        value = git("config", "--get", key, cwd=cwd, check=False, with_filter=True).split()
        if value and os.path.basename(value[0]) == b"git-lazy":
            return True
    return False


def lazy_paths(work_tree: Path, paths: list[bytes]) -> set[bytes]:
    """Return the paths whose attributes say ``filter=lazy`` today.

    Also ``filter=lfs`` where git-lazy has taken that filter name over, so that the
    commits of an adopted git-lfs repository are written out like our own.

    git> <path> NUL filter NUL <value> NUL   (check-attr -z --stdin)
    """
    if not paths:
        return set()
    out = git("check-attr", "-z", "--stdin", "filter", cwd=work_tree, input=b"".join(p + b"\0" for p in paths))
    fields = out.split(b"\0")
    found = {(fields[i], fields[i + 2]) for i in range(0, len(fields) - 2, 3)}
    names = {b"lazy"}
    if any(value == b"lfs" for _, value in found) and lfs_taken_over(work_tree):
        names.add(b"lfs")  # asked only when an lfs path is there: one git call less otherwise
    return {path for path, value in found if value in names}


def require_filter(work_tree: Path) -> None:
    """Refuse to write content where git would not clean it back to a pointer.

    Without the filter, refreshing the index after writing a file would stage the
    file's bytes in place of its pointer.
    """
    if not filter_configured(work_tree):
        raise LazyError(
            "git-lazy is not set up for this repository, so files cannot be written out: "
            "run 'git lazy install' (or 'git lazy install --local') first"
        )


def materialize(work_tree: Path, entries: Iterable[Entry], cache: Cache, *, refresh: bool = True) -> MaterializeResult:
    """Replace each entry's pointer file with its cached content; refresh those index entries."""
    return Writer(work_tree, entries, cache).finish(refresh=refresh)


class Writer:
    """Writes files out as their objects come, then refreshes the index once.

    A fetch hands each object to :meth:`write` as soon as it is in the cache, so
    writing the work tree overlaps the downloads; :meth:`finish` writes whatever
    was not handed over yet (objects that were cached already) and refreshes.
    A folder found to be a real folder (not a symlink) is not looked at again by
    the same writer. Not thread-safe: one thread writes at a time.
    """

    def __init__(self, work_tree: Path, entries: Iterable[Entry], cache: Cache) -> None:
        """Keep the ``entries`` whose path is tracked today (one ``check-attr`` for all)."""
        self.work_tree = work_tree
        self.cache = cache
        self.entries = list(entries)
        if self.entries:
            require_filter(work_tree)
            # A pointer whose path is no longer tracked (untracked pattern) stays a pointer:
            # written out, its bytes would be staged as they are.
            tracked = lazy_paths(work_tree, [e.path for e in self.entries])
            self.entries = [e for e in self.entries if e.path in tracked]
        self.result = MaterializeResult()
        self._ledger: list[Written] = []
        self._handled: set[bytes] = set()
        self._root = os.fspath(work_tree)
        self._safe: set[str] = set()  # folders seen to be real folders (_unsafe_parent)

    def write(self, entries: Iterable[Entry]) -> None:
        """Write out those of ``entries`` that are still our pointers and whose object is cached."""
        root, result = self._root, self.result
        for entry in entries:
            if entry.path in self._handled:
                continue
            self._handled.add(entry.path)
            if entry.pointer.size == 0:
                continue
            rel = os.fsdecode(entry.path)
            reason = _unsafe_parent(root, rel, self._safe)
            if reason:
                result.skipped.append((entry.path, reason))
                continue
            target = os.path.join(root, rel)
            is_pointer, reason, before = _is_pointer_file(target, entry)
            if reason:
                result.skipped.append((entry.path, reason))
            if not is_pointer or before is None:
                continue  # already content, changed by the user, or deleted: not ours to touch
            try:
                written = _write_one(self.cache, target, entry, before)
            except ObjectMissing:
                result.missing.append(entry)
                continue
            except OSError as exc:
                result.skipped.append((entry.path, exc.strerror or str(exc)))
                continue
            result.written.append(entry.path)
            if written is not None:
                self._ledger.append(written)

    def finish(self, refresh: bool = True) -> MaterializeResult:
        """Write the entries not handled yet, refresh the index for all written; return what was done."""
        self.write(self.entries)
        if refresh and self.result.written:
            refresh_index(self.work_tree, self.result.written, self._ledger, self.cache)
        return self.result


def refresh_index(work_tree: Path, paths: list[bytes], ledger: list[Written], cache: Cache) -> None:
    """Bring the index up to date after writing ``paths``.

    The files in ``ledger`` get their stat data put into the index directly
    (indexstat.py); git refreshes the rest (DESIGN.md: ``update-index -q --refresh
    --stdin``): it refreshes the stat data of every entry, then adds each listed path
    again, so clean runs over those files and finds the pointers already staged. For
    files in the ledger clean reads the pointer from it instead of hashing (written.py).
    If git fails with the ledger (a listed file changed while git read it), it runs
    once more without. When every file was recorded but racy entries were marked for
    a content check, git refreshes with no path listed.
    """
    if ledger:
        recorded, racy = _record_stat(work_tree, ledger)
        paths = [p for p in paths if p not in recorded]
        ledger = [w for w in ledger if w.path not in recorded]
        if not paths and not racy:
            return
    listed = b"".join(p + b"\0" for p in paths)
    ledger_path = None
    if ledger:
        try:
            ledger_path = write_ledger(ledger, cache.ensure_dir("tmp"))
        except OSError:
            cache.forget_dirs()  # a full disk or a removed folder: hash instead

    def run(ledger: str | None, check: bool) -> None:
        git("update-index", "-q", "--refresh", "-z", "--stdin", cwd=work_tree, input=listed,
            with_filter=True, check=check, env=child_env(**{WRITTEN_ENV: ledger}))

    try:
        if ledger_path:
            try:
                run(ledger_path, check=True)
                return
            except GitError:
                pass
        run(None, check=False)
    finally:
        if ledger_path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(ledger_path)


def _record_stat(work_tree: Path, ledger: list[Written]) -> Recorded:
    """Put the ledger's files' stat data into the index (indexstat.py); return the paths done."""
    out = git("rev-parse", "--show-object-format", "--git-path", "index", cwd=work_tree, check=False)
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) != 2:
        return Recorded(set(), False)
    index_path = os.path.join(work_tree, lines[1])
    return record_written(str(work_tree), index_path, lines[0], {w.path: w for w in ledger})
