"""``git lazy track`` / ``untrack``: the lazy lines of ``.gitattributes``.

Lines look like ``PATTERN filter=lazy diff=lazy merge=lazy -text``. As ``git lfs
track`` does, spaces in a pattern are written ``[[:space:]]`` and ``#`` as ``\\#`` (a
gitattributes line cannot hold a bare space or start a comment), patterns given in a
subfolder are made relative to the top of the work tree, and nothing is written twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_atomic
from ..context import Context
from ..errors import LazyError
from ..gitcmd import git_lines_z

__all__ = [
    "ATTRIBUTES", "TrackResult", "escape", "lazy_pattern", "list_patterns", "literal", "normalise", "track", "untrack",
]

ATTRIBUTES = "filter=lazy diff=lazy merge=lazy -text"
_RESERVED = (".git", ".lazyconfig")


def escape(pattern: str) -> str:
    """Write a pattern the way a .gitattributes line can hold it."""
    return pattern.replace("#", "\\#").replace(" ", "[[:space:]]")


def literal(path: str) -> str:
    """A pattern that matches the file ``path`` and nothing else (glob characters escaped)."""
    for ch in "\\*?[":
        path = path.replace(ch, "\\" + ch)
    return path


def unescape(pattern: str) -> str:
    """Undo :func:`escape`, for display."""
    return pattern.replace("[[:space:]]", " ").replace("\\#", "#")


@dataclass
class TrackResult:
    """Patterns added (or removed) and those that needed nothing."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def lazy_pattern(line: str) -> str | None:
    """Return the pattern of a line that sets filter=lazy, else None."""
    fields = line.split()
    if len(fields) >= 2 and not fields[0].startswith("#") and "filter=lazy" in fields[1:]:
        return fields[0]
    return None


def normalise(pattern: str, ctx: Context) -> str:
    """Check ``pattern``, make it relative to the top of the work tree and escape it for a line."""
    if not pattern or "\n" in pattern or "\r" in pattern or "\0" in pattern:
        raise LazyError(f"not a usable pattern: {pattern!r}")
    base = os.path.basename(pattern.rstrip("/"))
    if base.startswith(_RESERVED):
        raise LazyError(f"refusing to track {pattern!r}: git and git-lazy files must stay plain text")
    prefix = ctx.cwd.resolve().relative_to(ctx.work_tree.resolve()).as_posix()
    if prefix != "." and not pattern.startswith("/"):
        pattern = f"{prefix}/{pattern}"
    # .gitattributes matches paths inside the work tree only: a pattern that climbs
    # out of it ("../x/*.bin") can never match, and "." parts never match either.
    parts = pattern.strip("/").split("/")
    if any(part in (".", "..") for part in parts):
        raise LazyError(
            f"refusing to track {pattern!r}: patterns name files inside the repository "
            "(no '.' or '..' parts); run 'git lazy track' from the folder the files are in"
        )
    return escape(pattern.lstrip("/") if prefix != "." else pattern)


def _read(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _write(path: Path, lines: list[str]) -> None:
    write_atomic(path, "".join(line + "\n" for line in lines).encode("utf-8"))


def track(ctx: Context, patterns: list[str]) -> TrackResult:
    """Add a lazy line to the top-level .gitattributes for each new pattern."""
    path = ctx.work_tree / ".gitattributes"
    lines = _read(path)
    existing = {lazy_pattern(line) for line in lines}
    result = TrackResult()
    for raw in patterns:
        pattern = normalise(raw, ctx)
        if pattern in existing:
            result.unchanged.append(unescape(pattern))
            continue
        lines.append(f"{pattern} {ATTRIBUTES}")
        existing.add(pattern)
        result.changed.append(unescape(pattern))
    if result.changed:
        _write(path, lines)
    return result


def untrack(ctx: Context, patterns: list[str]) -> TrackResult:
    """Remove the lazy lines of these patterns from the top-level .gitattributes."""
    path = ctx.work_tree / ".gitattributes"
    lines = _read(path)
    result = TrackResult()
    for raw in patterns:
        pattern = normalise(raw, ctx)
        kept = [line for line in lines if lazy_pattern(line) != pattern]
        (result.changed if len(kept) != len(lines) else result.unchanged).append(unescape(pattern))
        lines = kept
    if result.changed:
        _write(path, lines)
    return result


def list_patterns(ctx: Context) -> list[tuple[str, str]]:
    """Return (pattern, .gitattributes file) for every lazy line in the work tree."""
    work_tree = ctx.work_tree
    files = {b".gitattributes"}
    files.update(git_lines_z("ls-files", "-z", "--", ":(glob)**/.gitattributes", cwd=work_tree))
    found = []
    for name in sorted(files):
        rel = os.fsdecode(name)
        for line in _read(work_tree / rel):
            pattern = lazy_pattern(line)
            if pattern is not None:
                found.append((unescape(pattern), rel))
    return found
