"""An fsspec filesystem over a repository's files: the protocol ``lazy``.

Registered through fsspec's entry point, so pandas, pyarrow, xarray and
``fsspec.open`` read ``lazy://data/big.csv``. As with fsspec's ``dvc://``, the
repository and the revision are storage options::

    pd.read_csv("lazy://data/big.csv")                                  # the work tree here
    pd.read_csv("lazy://data/big.csv", storage_options={"rev": "v1"})   # a tag, branch or commit
    fsspec.filesystem("lazy", repo="/path/to/repo").ls("data")

Paths are relative to the top of the repository. Every file of the revision (or of
the index) is listed, with git-lazy files at their real size; reads go through
:func:`git_lazydata.reader.open_node`, the machinery of ``lazy.open``: ranged reads
from a store for objects that are not cached. The filesystem is read-only.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from fsspec.spec import AbstractFileSystem

from .context import Context
from .errors import NotFound
from .lookup import Node, Snapshot, describe, resolve_rev
from .reader import open_node

__all__ = ["LazyFileSystem"]


class LazyFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """The files of one repository at one revision (``rev``; default: the work tree)."""

    protocol = "lazy"
    root_marker = ""

    def __init__(self, repo: str | None = None, rev: str | None = None, url: str | None = None,
                 **storage_options: Any) -> None:
        """Open the repository around ``repo`` (``url`` as in dvc://; default: the current folder)."""
        super().__init__(repo=repo, rev=rev, url=url, **storage_options)
        ctx = Context.open(repo or url)
        self.ctx = Context(ctx.repo, ctx.settings, ctx.work_tree)
        self.rev = rev
        self.commit = resolve_rev(self.ctx, rev) if rev else None
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._stamp: tuple[int, int] | None = None

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        """``lazy://data/x.csv`` -> ``data/x.csv``."""
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = os.fspath(path)
        for prefix in ("lazy://", "lazy::"):
            if path.startswith(prefix):
                path = path[len(prefix):]
        return path.strip("/")

    def _snap(self) -> Snapshot:
        """The listing, made once for a revision, and again whenever the index changed."""
        with self._lock:
            if self.commit is None:
                try:
                    st = os.stat(self.ctx.repo.git_dir / "index")
                    stamp = (st.st_mtime_ns, st.st_size)
                except FileNotFoundError:
                    stamp = (0, 0)
                if stamp != self._stamp:
                    self._snapshot, self._stamp = None, stamp
            if self._snapshot is None:
                self._snapshot = Snapshot(self.ctx, self.commit)
            return self._snapshot

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forget the listing: it is made again on next use."""
        with self._lock:
            self._snapshot = None

    def _where(self) -> str:
        return f"in {self.rev}" if self.rev else "in the repository"

    def _nodes(self, snap: Snapshot, paths: list[str]) -> list[Node]:
        return describe(self.ctx, self.commit, {p: snap.files[p] for p in paths})

    def _file_info(self, node: Node) -> dict[str, Any]:
        pointer = node.pointer
        cached = pointer is None or self.ctx.cache.has(pointer.oid, pointer.size)
        return {"name": node.path, "size": node.size, "type": "file",
                "oid": pointer.oid if pointer else None, "cached": cached}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """The entries of folder ``path`` (or the file ``path`` itself)."""
        path = self._strip_protocol(path)
        snap = self._snap()
        if path in snap.files:
            files, folders = [path], []
        elif path in snap.folders:
            files, folders = snap.children(path)
        else:
            raise NotFound(f"no file or folder {path!r} {self._where()}")
        if not detail:
            return sorted(folders + files)
        out = [{"name": f, "size": 0, "type": "directory"} for f in folders]
        out += [self._file_info(node) for node in self._nodes(snap, files)]
        return sorted(out, key=lambda entry: entry["name"])

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """Name, size, type, and for git-lazy files the oid and whether it is cached."""
        path = self._strip_protocol(path)
        snap = self._snap()
        if path in snap.files:
            nodes = self._nodes(snap, [path])
            if nodes:
                return self._file_info(nodes[0])
        if path in snap.folders:
            return {"name": path, "size": 0, "type": "directory"}
        raise NotFound(f"no file or folder {path!r} {self._where()}")

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        """Every file under ``path`` (and folder, ``withdirs``), from one listing and one read of sizes."""
        path = self._strip_protocol(path)
        snap = self._snap()
        if path in snap.files:
            names = [path]
            folders: list[str] = []
        else:
            prefix = f"{path}/" if path else ""

            def within(name: str) -> bool:
                if not name.startswith(prefix) or name == path:
                    return False
                return maxdepth is None or name[len(prefix):].count("/") < maxdepth

            names = [p for p in snap.files if within(p)]
            folders = [p for p in snap.folders if p and within(p)] if withdirs else []
        if not detail:
            return sorted(names + folders)
        out = {f: {"name": f, "size": 0, "type": "directory"} for f in folders}
        out.update((node.path, self._file_info(node)) for node in self._nodes(snap, names))
        return dict(sorted(out.items()))

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None, autocommit: bool = True,
              cache_options: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """A seekable file object over the file's content (read-only)."""
        if mode != "rb":
            raise PermissionError(f"lazy:// is read-only; cannot open {path!r} with mode {mode!r}")
        path = self._strip_protocol(path)
        snap = self._snap()
        nodes = self._nodes(snap, [path]) if path in snap.files else []
        if not nodes:
            raise NotFound(f"no file {path!r} {self._where()}")
        return open_node(self.ctx, nodes[0])
