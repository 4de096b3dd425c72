"""The transform between ``git fast-export`` and ``git fast-import`` in ``migrate import``.

``Rewriter`` reads fast-export's stream (``--no-data``: blobs named, not included)
and writes fast-import's: each file version the globs select becomes its pointer,
its content streamed into the cache once per blob, and the root .gitattributes gets
the rules. Everything else in a commit passes through as bytes (migrate.py has the
whole pipeline).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from ..cache import Cache
from ..context import Context
from ..filter import PLAIN_FILES
from ..pointer import MAX_POINTER_SIZE, Pointer, parse
from ..progress import Progress
from .migrate_git import Blobs, Matcher, MigrateError
from .track import ATTRIBUTES, lazy_pattern

__all__ = ["SCRATCH_REF", "Rewriter", "unquote"]


#: Where fast-import puts the rewritten commits before the real refs move.
SCRATCH_REF = "refs/lazy-migrate/import"


def unquote(token: bytes) -> bytes:
    """A path as fast-export writes it: as is, or C-quoted (``"a\\tb"``, octal escapes)."""
    if not token.startswith(b'"'):
        return token
    out, i, body = bytearray(), 0, token[1:-1]
    simple = {ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12, ord("r"): 13}
    while i < len(body):
        ch = body[i]
        if ch != 0x5C:  # backslash
            out.append(ch)
            i += 1
        elif body[i + 1] in simple:
            out.append(simple[body[i + 1]])
            i += 2
        elif 0x30 <= body[i + 1] <= 0x37:
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(body[i + 1])
            i += 2
    return bytes(out)


class Rewriter:
    """The transform between fast-export and fast-import (see the module docstring)."""

    def __init__(self, ctx: Context, patterns: list[str], scratch: Path, progress: Progress) -> None:
        top = ctx.work_tree
        self.cache: Cache = ctx.cache
        self.patterns = patterns
        self.blobs = Blobs(top)
        self.matches = Matcher(top, patterns, scratch)
        self.progress = progress
        self.pointers: dict[bytes, bytes | None] = {}  # blob -> its pointer, None when kept
        self.attributes: dict[bytes, bytes] = {}  # .gitattributes blob -> the file with our rules
        self.originals: dict[bytes, str] = {}  # mark -> the commit it was
        self.commits = self.objects = self.bytes = 0

    def close(self) -> None:
        self.blobs.close()
        self.matches.close()

    def _pointer(self, blob: bytes) -> bytes | None:
        """The pointer that replaces ``blob``, its content now cached; None for a pointer already."""
        if blob in self.pointers:
            return self.pointers[blob]
        kind, size = self.blobs.open(blob)
        if kind != "blob":
            raise MigrateError(f"object {blob.decode()} is a {kind}, not a file")
        chunks = self.blobs.chunks(size)
        result: bytes | None
        if size < MAX_POINTER_SIZE:
            data = b"".join(chunks)
            if parse(data) is not None:
                result = None
            else:
                oid, _ = self.cache.insert([data])
                result = Pointer(oid, size).encode()
        else:
            with self.cache.writer() as temp:
                for chunk in chunks:  # never the whole file in memory
                    temp.write(chunk)
                    self.progress.add_bytes(len(chunk))
                oid = temp.commit()
            result = Pointer(oid, size).encode()
        if result is not None:
            self.objects += 1
            self.bytes += size
        self.pointers[blob] = result
        return result

    def _attributes(self, blob: bytes | None) -> bytes:
        """The root .gitattributes (``blob``, or none) with a rule for each glob, none twice."""
        if blob is not None and blob in self.attributes:
            return self.attributes[blob]
        text = self.blobs.read(blob) if blob is not None else b""
        present = {lazy_pattern(line) for line in text.decode("utf-8", "replace").splitlines()}
        extra = "".join(f"{p} {ATTRIBUTES}\n" for p in self.patterns if p not in present).encode()
        if extra and text and not text.endswith(b"\n"):
            text += b"\n"
        result = text + extra
        if blob is not None:
            self.attributes[blob] = result
        return result

    def run(self, source: BinaryIO, sink: BinaryIO) -> None:
        """Read fast-export's stream from ``source``; write fast-import's to ``sink``."""
        while line := source.readline():
            if line.startswith(b"commit "):
                self._commit(source, sink)
            elif line.startswith(b"reset "):
                pass  # refs are moved by update-ref; a root commit gets its own reset
            elif line.startswith(b"from "):
                pass  # the tip a dropped reset named
            elif line.startswith(b"tag "):
                _skip_data(source)  # annotated tags are rewritten afterwards (migrate._retag)
            elif line.strip():
                raise MigrateError(f"unexpected line from git fast-export: {line[:80]!r}")
        sink.write(b"done\n")

    def _commit(self, source: BinaryIO, sink: BinaryIO) -> None:
        head: list[bytes] = []
        mark = None
        while True:
            line = source.readline()
            if line.startswith(b"data "):
                size = int(line[5:])
                message = source.read(size)
                head.append(line + message + (b"" if message.endswith(b"\n") else b"\n"))
                break
            if line.startswith(b"original-oid "):
                assert mark is not None
                self.originals[mark] = line.split()[1].decode()
                continue
            if line.startswith(b"mark "):
                mark = line.split()[1]
            if not line:
                raise MigrateError("git fast-export stopped in the middle of a commit")
            head.append(line)
        body: list[bytes] = []
        changes: list[tuple[bytes, bytes, bytes, bytes]] = []  # (line, mode, blob, path)
        while (line := source.readline()) not in (b"\n", b""):
            if line.startswith((b"from ", b"merge ")):
                body.append(line)
            elif line.startswith(b"M "):
                _, mode, blob, token = line.rstrip(b"\n").split(b" ", 3)
                changes.append((line, mode, blob, unquote(token)))
            else:
                changes.append((line, b"", b"", b""))
        root = not any(line.startswith(b"from ") for line in body)
        self.matches.learn([path for _, mode, _, path in changes if mode in (b"100644", b"100755")])
        out = [b"reset " + SCRATCH_REF.encode() + b"\n"] if root else []
        out += [b"commit " + SCRATCH_REF.encode() + b"\n", *head, *body]
        has_attributes = False
        for line, mode, blob, path in changes:
            if path == b".gitattributes" or line == b"D .gitattributes\n":
                has_attributes = True
                regular = mode in (b"100644", b"100755")
                text = self._attributes(blob if regular else None)
                out.append(b"M %s inline .gitattributes\ndata %d\n%s\n" % (mode if regular else b"100644",
                                                                           len(text), text))
            elif mode in (b"100644", b"100755") and self.matches(path) and not _plain(path):
                pointer = self._pointer(blob)
                if pointer is None:
                    out.append(line)
                else:
                    token = line.rstrip(b"\n").split(b" ", 3)[3]
                    out.append(b"M %s inline %s\ndata %d\n%s\n" % (mode, token, len(pointer), pointer))
            else:
                out.append(line)
        if root and not has_attributes:
            text = self._attributes(None)
            out.append(b"M 100644 inline .gitattributes\ndata %d\n%s\n" % (len(text), text))
        out.append(b"\n")
        sink.write(b"".join(out))
        self.commits += 1
        self.progress.object_done()


def _plain(path: bytes) -> bool:
    """Files git and git-lazy read themselves stay plain text, as the clean filter keeps them."""
    return path.rsplit(b"/", 1)[-1].decode("utf-8", "replace") in PLAIN_FILES


def _skip_data(source: BinaryIO) -> None:
    """Read past the header lines and the ``data`` of a tag in the stream."""
    while line := source.readline():
        if line.startswith(b"data "):
            source.read(int(line[5:]))
            return

