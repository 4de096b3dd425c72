"""What a path names at a revision: a git-lazy object, or a file git keeps itself.

The Python API and the fsspec filesystem read files through here. At a revision, a
path names a blob of that commit's tree. Without one, it names the working tree: the
file's content when it is there, the object its pointer names when it is a pointer,
and the index entry when the file was deleted. Paths are '/'-separated and relative
to the top of the work tree.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .context import Context
from .errors import NotFound
from .gitcmd import blob_sizes, git, git_lines_z
from .pointer import MAX_POINTER_SIZE, Pointer, parse
from .repo import pointers_of_blobs

__all__ = ["Node", "Snapshot", "describe", "find", "resolve_rev"]


@dataclass(frozen=True)
class Node:
    """A file: its path from the top, size, and where its bytes are.

    ``pointer``: the git-lazy object holding the content, or None for a file git keeps
    itself, whose bytes are in the work tree (``blob`` None) or in blob ``blob``.
    """

    path: str
    size: int
    pointer: Pointer | None = None
    blob: str | None = None


def resolve_rev(ctx: Context, rev: str) -> str:
    """The commit ``rev`` names (a branch, tag or commit); NotFound when it names none."""
    if not rev or rev.startswith("-"):
        raise NotFound(f"not a revision: {rev!r}")
    out = git("rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}",
              cwd=ctx.repo.git_dir, check=False).strip()
    if not out:
        raise NotFound(f"no such revision: {rev!r}")
    return out.decode("ascii")


class Snapshot:
    """The files of a commit's tree (``commit``) or of the index (None): path -> (mode, blob).

    Listed once with one git command; nothing is read from the files until
    :func:`describe` is asked about some of them.
    """

    def __init__(self, ctx: Context, commit: str | None) -> None:
        """List every file of ``commit`` (or of the index), submodules and symlinks left out."""
        self.ctx, self.commit = ctx, commit
        top = ctx.work_tree
        self.files: dict[str, str] = {}
        if commit is None:
            # git> <mode> SP <blob> SP <stage> TAB <path> NUL
            for item in git_lines_z("ls-files", "-s", "-z", "--full-name", cwd=top):
                meta, _, path = item.partition(b"\t")
                mode, blob, stage = meta.decode().split()
                if stage == "0" and mode in ("100644", "100755"):
                    self.files[os.fsdecode(path)] = blob
        else:
            # git> <mode> SP <type> SP <blob> TAB <path> NUL
            for item in git_lines_z("ls-tree", "-r", "-z", "--full-tree", commit, cwd=top):
                meta, _, path = item.partition(b"\t")
                mode, kind, blob = meta.decode().split()
                if kind == "blob" and mode in ("100644", "100755"):
                    self.files[os.fsdecode(path)] = blob
        self.folders: set[str] = {""}
        for path in self.files:
            parent = path.rpartition("/")[0]
            while parent not in self.folders:
                self.folders.add(parent)
                parent = parent.rpartition("/")[0]

    def children(self, folder: str) -> tuple[list[str], list[str]]:
        """(files, subfolders) directly inside ``folder`` ("" for the top), as full paths."""
        prefix = f"{folder}/" if folder else ""
        files = [p for p in self.files if p.startswith(prefix) and "/" not in p[len(prefix):]]
        folders = [p for p in self.folders if p and p.startswith(prefix) and "/" not in p[len(prefix):]]
        return sorted(files), sorted(folders)


def _work_tree_node(top: Path, path: str) -> Node | None:
    """The file in the work tree, as content or as the object its pointer names; None when absent."""
    full = top / path
    try:
        st = os.lstat(full)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    if st.st_size < MAX_POINTER_SIZE:
        with open(full, "rb") as f:
            pointer = parse(f.read(MAX_POINTER_SIZE))
        if pointer is not None:
            return Node(path, pointer.size, pointer)
    return Node(path, st.st_size)


def describe(ctx: Context, commit: str | None, files: dict[str, str]) -> list[Node]:
    """Size and whereabouts of each of ``files`` (path -> blob) at ``commit`` (None: the work tree)."""
    nodes: dict[str, Node] = {}
    if commit is None:
        for path in files:
            node = _work_tree_node(ctx.work_tree, path)
            if node is not None:
                nodes[path] = node
    left = {path: blob for path, blob in files.items() if path not in nodes}
    if left:
        blobs = sorted(set(left.values()))
        sizes = blob_sizes(blobs, cwd=ctx.work_tree)
        pointers = pointers_of_blobs(blobs, ctx.work_tree, sizes=sizes)
        for path, blob in left.items():
            pointer = pointers.get(blob)
            if pointer is not None:
                nodes[path] = Node(path, pointer.size, pointer, blob)
            elif blob in sizes:
                nodes[path] = Node(path, sizes[blob], None, blob)
    return [nodes[path] for path in files if path in nodes]


def find(ctx: Context, path: str, commit: str | None, rev: str | None = None) -> Node:
    """The file ``path`` (from the top) at ``commit`` (named ``rev`` by the user), or in the work tree.

    Raises NotFound when there is no such file.
    """
    if commit is None:
        node = _work_tree_node(ctx.work_tree, path)
        if node is not None:
            return node
        # Deleted from the work tree, or a folder: the index says what it was.
        rows = git_lines_z("ls-files", "-s", "-z", "--full-name", "--", f":(literal){path}", cwd=ctx.work_tree)
        found = {}
        for item in rows:
            meta, _, name = item.partition(b"\t")
            mode, blob, stage = meta.decode().split()
            if os.fsdecode(name) == path and stage == "0" and mode in ("100644", "100755"):
                found[path] = blob
        where = "in the work tree or the index"
    else:
        found = {}
        for item in git_lines_z("ls-tree", "-z", "--full-tree", commit, "--", path, cwd=ctx.work_tree):
            meta, _, name = item.partition(b"\t")
            mode, kind, blob = meta.decode().split()
            if os.fsdecode(name) == path and kind == "blob" and mode in ("100644", "100755"):
                found[path] = blob
        where = f"in {rev or commit}"
    nodes = describe(ctx, commit, found) if found else []
    if not nodes:
        raise NotFound(f"no file {path!r} {where}")
    return nodes[0]
