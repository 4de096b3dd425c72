"""Which repositories use an object cache, so that pruning it keeps what any of them needs.

The cache is shared by every repository of a user. Each command run in a repository
records it here, as one small file per repository in ``<cache>/repos/`` holding the
top of its work tree: a stat when it is already there, one atomic write the first
time. ``git lazy prune`` reads them all and forgets repositories that are gone.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .atomic import write_atomic

__all__ = ["forget", "register", "registered"]


def _entry(cache_root: Path, work_tree: Path) -> Path:
    name = hashlib.sha256(os.fsencode(work_tree)).hexdigest()[:32]
    return Path(cache_root) / "repos" / name


def register(cache_root: Path, work_tree: Path) -> None:
    """Record that the repository at ``work_tree`` uses this cache; never an error."""
    work_tree = Path(os.path.realpath(work_tree))
    entry = _entry(cache_root, work_tree)
    try:
        if entry.exists():
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(entry, os.fsencode(work_tree) + b"\n")
    except OSError:
        pass  # a read-only cache: prune then knows only the repository it runs in


def registered(cache_root: Path) -> list[Path]:
    """The work trees recorded as using this cache, gone ones included."""
    found = []
    try:
        entries = sorted(os.scandir(Path(cache_root) / "repos"), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    for entry in entries:
        try:
            text = Path(entry.path).read_bytes().rstrip(b"\n")
        except OSError:
            continue
        if text:
            found.append(Path(os.fsdecode(text)))
    return found


def forget(cache_root: Path, work_tree: Path) -> None:
    """Drop the record of a repository that no longer exists."""
    try:
        os.unlink(_entry(cache_root, work_tree))
    except FileNotFoundError:
        pass
