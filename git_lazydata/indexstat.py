"""Record in git's index the stat data of files git-lazy has just written.

After content replaces a pointer file, the index still holds the pointer file's stat
data, so git would see the file as modified until a refresh. ``git update-index
--refresh`` settles that by streaming every byte of every such file through clean:
for 800 MiB it costs more than writing the files did. Yet git-lazy knows what each
file cleans to (the pointer the index already has), and the ledger (written.py)
proves each file unchanged since it was written. So this module puts the files'
stat data into their index entries itself, as git's refresh would have:

- under git's own lock (``index.lock``, created exclusively, renamed over the index);
- only for a stage-0 regular-file entry with no assume-unchanged, skip-worktree or
  intent-to-add flag, whose blob is the pointer that file cleans to, and whose file
  still has the identity the ledger recorded;
- changing nothing else: the stat fields are patched in place, so entries, paths and
  extensions (with the offsets some of them hold) keep every byte, and the trailing
  checksum is computed again (or left all zero, as ``index.skipHash`` writes it).

Racy entries: git trusts an entry's stat data only when the entry is older than the
index file, since a write in the same clock tick as the index could leave a file's
times and size unchanged. Rewriting the index later would make such an entry look
trusted, so, as git does when it writes an index, each entry not older than the index
it was read from gets size 0, which makes git compare its content before trusting it;
the caller then has git refresh them (the few files git wrote in its last second). The written files themselves are never racy: their mtime is set a
whole second before their write, earlier than the new index's in git's own terms
(Debian's git, built without USE_NSEC, compares whole seconds).

Whatever this module cannot handle (index versions other than 2 to 4, a split index,
a lock held by someone else, an unreadable index) it leaves to the caller's refresh
by recording nothing. Index format: git's Documentation/gitformat-index.txt.
Standard library only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import struct
from collections.abc import Mapping
from typing import NamedTuple

from .written import Written, identity

__all__ = ["Recorded", "blob_id", "record_written"]

#: ctime s/ns, mtime s/ns, dev, ino, mode, uid, gid, size: ten 32-bit fields.
STAT = struct.Struct(">10I")
FLAG_VALID = 0x8000  # assume-unchanged
FLAG_EXTENDED = 0x4000  # skip-worktree or intent-to-add follow, version 3 and up
STAGE_MASK = 0x3000  # merge stages 1 to 3: a conflict
NAME_MASK = 0x0FFF
HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
REGULAR = (0o100644, 0o100755)
MASK32 = 0xFFFFFFFF


class Recorded(NamedTuple):
    """What ``record_written`` did: the paths recorded, and whether racy entries await a refresh."""

    paths: set[bytes]
    racy: bool


NOTHING = Recorded(set(), False)


def blob_id(data: bytes, object_format: str = "sha1") -> bytes:
    """Return the raw object id git gives the blob ``data``."""
    return HASHES[object_format](b"blob %d\0" % len(data) + data).digest()


def record_written(work_tree: str, index_path: str, object_format: str,
                   written: Mapping[bytes, Written]) -> Recorded:
    """Put the stat data of the ``written`` files into their index entries.

    ``written`` is keyed by the path as the index names it, relative to
    ``work_tree``. The paths not recorded, and racy entries, are the caller's to refresh.
    """
    if object_format not in HASHES or not written:
        return NOTHING
    lock = index_path + ".lock"
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        return NOTHING  # git (or another git-lazy) holds the index: let git refresh
    done = False
    try:
        with open(index_path, "rb") as f:
            st = os.fstat(f.fileno())
            data = bytearray(f.read())
        recorded = _patch(data, object_format, work_tree, written, st.st_mtime_ns // 10**9)
        if recorded.paths:
            with os.fdopen(fd, "wb", closefd=False) as out:
                out.write(data)
            os.fchmod(fd, st.st_mode & 0o7777)  # as shared as the index was
            os.close(fd)
            fd = -1
            os.replace(lock, index_path)
            done = True
        return recorded
    except (OSError, ValueError, struct.error):
        return NOTHING
    finally:
        if fd >= 0:
            os.close(fd)
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(lock)


def _patch(data: bytearray, object_format: str, work_tree: str, written: Mapping[bytes, Written],
           read_from: int) -> Recorded:
    """Patch the entries of the index bytes ``data`` in place.

    ``read_from`` is the second the index was written in. Raises ValueError for an index this module does not handle.
    """
    new_hash = HASHES[object_format]
    width = new_hash().digest_size
    if len(data) < 12 + width or data[:4] != b"DIRC":
        raise ValueError("not an index")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4):
        raise ValueError(f"index version {version}")
    body_end = len(data) - width
    trailer = bytes(data[body_end:])
    skip_hash = trailer == bytes(width)
    if not skip_hash and new_hash(memoryview(data)[:body_end]).digest() != trailer:
        raise ValueError("index checksum mismatch")
    expected = {path: blob_id(w.pointer, object_format) for path, w in written.items()}
    recorded: set[bytes] = set()
    racy = False
    pos, name = 12, b""
    fixed = STAT.size + width + 2
    for _ in range(count):
        start = pos
        fields = STAT.unpack_from(data, start)
        oid = bytes(data[start + STAT.size : start + STAT.size + width])
        (flags,) = struct.unpack_from(">H", data, start + STAT.size + width)
        pos = start + fixed
        if flags & FLAG_EXTENDED:
            if version < 3:
                raise ValueError("extended flags in a version 2 index")
            pos += 2
        if version == 4:
            strip, pos = _varint(data, pos)
            end = data.index(b"\0", pos)
            if strip > len(name):
                raise ValueError("bad path compression")
            name = name[: len(name) - strip] + bytes(data[pos:end])
            pos = end + 1
        else:
            length = flags & NAME_MASK
            end = data.index(b"\0", pos) if length == NAME_MASK else pos + length
            name = bytes(data[pos:end])
            pos = start + ((end - start + 8) & ~7)
        if pos > body_end:
            raise ValueError("entries run past the end")
        w = written.get(name)
        st = None
        if (w is not None and expected[name] == oid and fields[6] in REGULAR
                and not flags & (FLAG_VALID | FLAG_EXTENDED | STAGE_MASK)):
            st = _unchanged(os.path.join(work_tree, os.fsdecode(name)), w)
        if st is not None:
            STAT.pack_into(data, start, *(n & MASK32 for n in (
                st.st_ctime_ns // 10**9, st.st_ctime_ns % 10**9, st.st_mtime_ns // 10**9,
                st.st_mtime_ns % 10**9, st.st_dev, st.st_ino, fields[6], st.st_uid, st.st_gid,
                st.st_size)))
            recorded.add(name)
        elif fields[2] >= read_from and fields[9]:
            # Racily clean (its file may have changed in the index's own second; git
            # built without USE_NSEC compares seconds): size 0 makes git look at the
            # content before trusting it, as git does.
            struct.pack_into(">I", data, start + 36, 0)
            racy = True
    while pos + 8 <= body_end:
        signature, size = bytes(data[pos : pos + 4]), struct.unpack_from(">I", data, pos + 4)[0]
        if signature == b"link":
            raise ValueError("split index")  # most entries live in a shared index
        pos += 8 + size
    if recorded and not skip_hash:
        data[body_end:] = new_hash(memoryview(data)[:body_end]).digest()
    return Recorded(recorded, racy)


def _unchanged(path: str, w: Written) -> os.stat_result | None:
    """Return the stat of ``path`` if it still is the regular file the ledger recorded."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) and identity(st) == w.ident else None


def _varint(data: bytearray, pos: int) -> tuple[int, int]:
    """Read git's offset varint (as in its pack and index v4 formats) at ``pos``."""
    byte = data[pos]
    pos += 1
    value = byte & 0x7F
    while byte & 0x80:
        byte = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, pos
