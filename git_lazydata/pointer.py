"""The pointer file: byte-for-byte the git-lfs v1 pointer.

Wire shape (keys sorted, each line ends in LF, nothing else)::

    version https://git-lfs.github.com/spec/v1
    oid sha256:<64 lowercase hex>
    size <decimal bytes>

git-lfs extension lines ``ext-<N>-<name> sha256:<64 hex>`` may sit between
``version`` and ``oid``; they are kept and otherwise unused. :func:`parse` accepts
exactly one encoding (plus CRLF line ends, which git's eol conversion can add, marked
non-canonical) and returns ``None`` for anything else, so an oid that reaches the rest
of git-lazy is always 64 lowercase hex and safe to use in a path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadOid

__all__ = ["MAX_POINTER_SIZE", "VERSION", "Pointer", "check_oid", "is_oid", "object_key", "parse"]

VERSION = "https://git-lfs.github.com/spec/v1"
#: A pointer is always shorter than this; longer input is content.
MAX_POINTER_SIZE = 1024
#: Largest size a pointer may declare (a signed 64-bit count, as git-lfs).
MAX_SIZE = 2**63 - 1

_OID = re.compile(r"[0-9a-f]{64}")
_POINTER = re.compile(
    rb"version https://git-lfs\.github\.com/spec/v1\n"
    rb"((?:ext-[0-9]-[a-z0-9]+ sha256:[0-9a-f]{64}\n)*)"
    rb"oid sha256:([0-9a-f]{64})\n"
    rb"size (0|[1-9][0-9]{0,18})\n"
)
_EXT = re.compile(rb"ext-([0-9])-([a-z0-9]+) sha256:([0-9a-f]{64})")


def is_oid(text: object) -> bool:
    """Tell whether ``text`` is a sha256 oid: exactly 64 lowercase hex digits."""
    return isinstance(text, str) and len(text) == 64 and _OID.fullmatch(text) is not None


def check_oid(text: object) -> str:
    """Return ``text`` if it is an oid, else raise BadOid.

    The one gate before an oid becomes part of a path, a key or a URL (RELIABILITY.md
    1b): everything below ``objects/`` in the cache and in every store is named here.
    """
    if not is_oid(text):
        raise BadOid(text)
    return text  # type: ignore[return-value]


def object_key(oid: str) -> str:
    """Return where object ``oid`` lives below any root: ``objects/ab/cd/<oid>``."""
    check_oid(oid)
    return f"objects/{oid[:2]}/{oid[2:4]}/{oid}"


@dataclass(frozen=True)
class Pointer:
    """A parsed pointer: the object's sha256 and size, and any git-lfs extensions."""

    oid: str
    size: int
    extensions: tuple[tuple[int, str, str], ...] = ()
    canonical: bool = True

    def encode(self) -> bytes:
        """Return the one canonical encoding of this pointer."""
        lines = [f"version {VERSION}"]
        lines += [f"ext-{n}-{name} sha256:{oid}" for n, name, oid in self.extensions]
        lines += [f"oid sha256:{self.oid}", f"size {self.size}", ""]
        return "\n".join(lines).encode("ascii")


def parse(data: bytes) -> Pointer | None:
    """Return the pointer encoded in ``data``, or ``None`` if ``data`` is content."""
    if len(data) >= MAX_POINTER_SIZE or not data.startswith(b"version "):
        return None
    canonical = True
    if b"\r" in data:
        # git may have applied eol conversion before the filter saw the text.
        stripped = data.replace(b"\r\n", b"\n")
        if b"\r" in stripped:
            return None
        data, canonical = stripped, False
    match = _POINTER.fullmatch(data)
    if match is None:
        return None
    size = int(match.group(3))
    if size > MAX_SIZE:
        return None
    extensions = []
    for line in match.group(1).splitlines():
        ext = _EXT.fullmatch(line)
        assert ext is not None  # the outer pattern matched this line already
        extensions.append((int(ext.group(1)), ext.group(2).decode(), ext.group(3).decode()))
    # git-lfs orders extensions by priority and allows each priority once.
    priorities = [n for n, _, _ in extensions]
    if priorities != sorted(set(priorities)):
        return None
    return Pointer(match.group(2).decode(), size, tuple(extensions), canonical)
