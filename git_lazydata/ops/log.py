"""``git lazy log PATH``: the versions of one file through history.

One ``git log --raw`` lists the commits that changed the file and the blob each left
there; one batch read of those blobs tells the object, size and oid of each version.
Any of them can then be read with ``lazy.open(path, rev=<commit>)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..context import Context
from ..errors import LazyError, NotFound
from ..gitcmd import blob_sizes, git
from ..repo import pointers_of_blobs

__all__ = ["Version", "versions"]

#: git's name for "no blob": the file was deleted in that commit.
_NO_BLOB = "0" * 40


@dataclass(frozen=True)
class Version:
    """One version of a file: the commit that made it, its date, and the content it left.

    ``kind``: ``lazy`` (a git-lazy object, ``oid`` set), ``git`` (content kept in git
    itself) or ``deleted``.
    """

    commit: str
    date: str
    subject: str
    kind: str
    size: int | None = None
    oid: str | None = None


def versions(ctx: Context, path: str) -> list[Version]:
    """The versions of the file ``path`` (relative to ``ctx.cwd``), newest first.

    git> \\x01 <commit> NUL <committer date, ISO 8601> NUL <subject> LF
         LF :<old mode> <new mode> <old blob> <new blob> <status> TAB <path> LF ...
    """
    if not path or path.startswith("-"):
        raise LazyError(f"not a path: {path!r}")
    out = git("log", "--no-abbrev", "--raw", "--no-renames", "--format=%x01%H%x00%cI%x00%s",
              "--", f":(literal){path}", cwd=ctx.cwd)
    records: list[tuple[str, str, str, str, str]] = []
    changed: set[bytes] = set()
    for chunk in out.split(b"\x01")[1:]:
        header, _, raw = chunk.partition(b"\n")
        commit, date, subject = (part.decode("utf-8", "replace") for part in header.split(b"\0", 2))
        for line in raw.splitlines():
            if not line.startswith(b":"):
                continue
            meta, _, name = line.partition(b"\t")
            fields = meta.decode().split()
            changed.add(name)
            records.append((commit, date, subject, fields[3], fields[4]))
    if not records:
        raise NotFound(f"no history for {path!r}: no commit changed a file at that path")
    if len(changed) > 1:
        raise LazyError(f"{path!r} names {len(changed)} files; name one file")
    blobs = sorted({blob for *_, blob, _ in records if blob != _NO_BLOB})
    sizes = blob_sizes(blobs, cwd=ctx.work_tree)
    pointers = pointers_of_blobs(blobs, ctx.work_tree, sizes=sizes)
    found = []
    for commit, date, subject, blob, status in records:
        if status.startswith("D") or blob == _NO_BLOB:
            found.append(Version(commit, date, subject, "deleted"))
        elif blob in pointers:
            pointer = pointers[blob]
            found.append(Version(commit, date, subject, "lazy", pointer.size, pointer.oid))
        else:
            found.append(Version(commit, date, subject, "git", sizes.get(blob)))
    return found

