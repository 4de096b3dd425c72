"""``git lazy migrate from-lfs``: adopt a git-lfs repository as it is.

git-lfs pointers are ours byte for byte, so no commit changes. Its objects are
copied (or linked) into the cache and verified, git-lfs's filter name is pointed at
git-lazy in this clone, and the .gitattributes rules are switched to ours for the
user to commit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import temp_name, write_atomic
from ..cache import CHUNK, Cache
from ..checkout import filter_configured
from ..context import Context
from ..errors import ChecksumMismatch, LazyError
from ..gitcmd import git, git_lines_z
from ..hashing import sha256_stream
from ..hookfiles import HOOKS
from ..pointer import is_oid
from ..progress import Progress
from .install import DRIVER_CONFIG

__all__ = ["FromLfsResult", "from_lfs"]


@dataclass(frozen=True)
class FromLfsResult:
    """What ``migrate from-lfs`` did."""

    attributes: list[str] = field(default_factory=list)  # .gitattributes files rewritten
    rules: int = 0  # lines switched from lfs to lazy
    copied: int = 0  # objects put in the cache
    present: int = 0  # objects the cache had already
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (object file, reason)
    lazy_driver_added: bool = False  # filter.lazy was missing and was set in .git/config
    lfs_hooks: list[str] = field(default_factory=list)  # hooks that still run git-lfs


_LFS_TO_LAZY = {b"filter=lfs": b"filter=lazy", b"diff=lfs": b"diff=lazy", b"merge=lfs": b"merge=lazy"}


def _switch_rules(text: bytes) -> tuple[bytes, int]:
    """``text`` (a .gitattributes file) with git-lfs's attribute values made ours; lines changed."""
    lines = text.splitlines(keepends=True)
    changed = 0
    for i, line in enumerate(lines):
        body = line.rstrip(b"\r\n")
        fields = body.split()
        if len(fields) < 2 or fields[0].startswith(b"#") or b"filter=lfs" not in fields[1:]:
            continue
        # Each field is switched by itself: spacing, order and other attributes stay.
        pieces = body.split(b" ")
        new = b" ".join(_LFS_TO_LAZY.get(piece, piece) if n else piece for n, piece in enumerate(pieces))
        lines[i] = new + line[len(body):]
        changed += 1
    return b"".join(lines), changed


def _lfs_objects(ctx: Context) -> Path:
    """Where git-lfs keeps this repository's objects: ``lfs.storage``, else ``<git dir>/lfs``."""
    storage = git("config", "--get", "lfs.storage", cwd=ctx.work_tree, check=False).decode().strip()
    base = ctx.repo.common_dir / "lfs"
    if storage:
        base = Path(os.path.expanduser(storage))
        if not base.is_absolute():
            base = ctx.repo.common_dir / base
    return base / "objects"


def _adopt(cache: Cache, path: Path, oid: str, size: int, progress: Progress) -> bool:
    """Put the git-lfs object at ``path`` into the cache as ``oid``, verified; False if it was there.

    A hard link costs no space; it is made to a temp name first and checked there, so
    the object enters the cache by one rename of verified bytes. Across filesystems
    (or where links fail) the bytes are copied through a cache writer instead.
    """
    if cache.has(oid, size):
        return False
    temp = os.path.join(cache.ensure_dir("tmp"), temp_name(oid))
    try:
        os.link(path, temp)
    except OSError:
        with open(path, "rb") as src:
            cache.insert(iter(lambda: src.read(CHUNK), b""), expect_oid=oid, expect_size=size)
        progress.add_bytes(size)
        return True
    try:
        with open(temp, "rb") as linked:
            got, got_size = sha256_stream(linked, progress.add_bytes, CHUNK)
        if (got, got_size) != (oid, size):
            raise ChecksumMismatch(oid, got, got_size, str(path))
        os.chmod(temp, 0o444)  # as every cached object: read-only
        final = cache.object_path(oid)
        cache.ensure_dir(os.path.dirname(final))
        os.replace(temp, final)
    finally:
        if os.path.lexists(temp):
            os.unlink(temp)
    return True


def _lfs_hooks(hooks_dir: Path) -> list[str]:
    """The hooks here that still call git-lfs (``git lfs uninstall`` removes them)."""
    found = []
    for name in (*HOOKS, "post-commit"):
        for path in (hooks_dir / name, hooks_dir / f"{name}.pre-git-lazy"):
            try:
                text = path.read_bytes()
            except OSError:
                continue
            if b"git lfs " in text or b"git-lfs" in text:
                found.append(path.name)
    return found


def from_lfs(ctx: Context, *, progress: Progress | None = None) -> FromLfsResult:
    """Adopt this git-lfs repository: rules, objects and filter config (no commit changes)."""
    top = ctx.work_tree
    progress = progress or Progress()
    # 1. The rules, in every tracked .gitattributes and the top one.
    names = {b".gitattributes", *git_lines_z("ls-files", "-z", "--", ":(glob)**/.gitattributes", cwd=top)}
    attributes, rules = [], 0
    for name in sorted(names):
        path = top / os.fsdecode(name)
        try:
            text = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            continue
        new, changed = _switch_rules(text)
        if changed:
            write_atomic(path, new, mode=0o666)
            attributes.append(os.fsdecode(name))
            rules += changed
    # 2. The objects: every file named ab/cd/<oid> below lfs/objects.
    objects = _lfs_objects(ctx)
    found = sorted(p for p in objects.glob("??/??/*") if is_oid(p.name) and p.parent.name == p.name[2:4]
                   and p.parent.parent.name == p.name[:2] and p.is_file())
    progress.total_objects = len(found)
    progress.total_bytes = sum(p.stat().st_size for p in found)
    copied = present = total = 0
    failed: list[tuple[str, str]] = []
    for path in found:
        size = path.stat().st_size
        try:
            if _adopt(ctx.cache, path, path.name, size, progress):
                copied += 1
                total += size
            else:
                present += 1
        except (LazyError, OSError) as exc:
            failed.append((str(path.relative_to(objects)), str(exc)))
        progress.object_done()
    progress.finish()
    # 3. git config of this clone: git-lfs's filter name runs git-lazy, and ours is set up.
    # Older commits keep filter=lfs (and merge=lfs): those names get the drivers ours have.
    added = not filter_configured(top)
    for key, value in DRIVER_CONFIG:
        section, name = key.rsplit(".", 1)
        git("config", "--local", "--replace-all", f"{section.replace('.lazy', '.lfs', 1)}.{name}", value, cwd=top)
        if added:
            git("config", "--local", "--replace-all", key, value, cwd=top)
    return FromLfsResult(attributes, rules, copied, present, total, failed, added, _lfs_hooks(ctx.repo.hooks_dir))
