"""The repository we run in: its folders, index entries and tracked pointers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import LazyError
from .gitcmd import blob_contents, blob_sizes, git, git_error, git_lines_z, git_run
from .pointer import MAX_POINTER_SIZE, Pointer, parse

__all__ = [
    "Entry",
    "Repo",
    "changed_rows",
    "history_entries",
    "index_rows",
    "matching_paths",
    "pointer_entries",
    "tree_rows",
]


@dataclass(frozen=True)
class Entry:
    """A file in the index or a tree: git path (bytes), mode, blob name and its pointer."""

    path: bytes
    mode: str
    blob: str
    pointer: Pointer


@dataclass(frozen=True)
class Repo:
    """Paths of a repository, as git itself reports them (worktrees, GIT_DIR, hooksPath)."""

    git_dir: Path
    common_dir: Path
    hooks_dir: Path
    work_tree: Path | None

    @classmethod
    def discover(cls, cwd: str | os.PathLike[str] | None = None) -> Repo:
        """Ask git where the repository around ``cwd`` is; raise LazyError outside one."""
        # One call: git prints each answer in turn and stops at --show-toplevel, with an
        # error, where there is no work tree (a bare repository, or inside .git).
        proc = git_run(
            "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir",
            "--git-path", "hooks", "--is-bare-repository", "--show-toplevel", cwd=cwd,
        )
        lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) < 4:
            raise LazyError(f"not in a git repository ({git_error(proc.stderr, 'rev-parse', proc.returncode)})")
        git_dir, common_dir, hooks_dir, bare = lines[:4]
        work_tree = Path(lines[4]) if bare != "true" and len(lines) > 4 and lines[4] else None
        return cls(Path(git_dir), Path(common_dir), Path(hooks_dir), work_tree)

    def require_work_tree(self) -> Path:
        """Return the work tree, or fail with a clear line in a bare repository."""
        if self.work_tree is None:
            raise LazyError("this command needs a work tree (the repository is bare)")
        return self.work_tree


def pointers_of_blobs(blobs: list[str], cwd: str | os.PathLike[str] | None,
                      sizes: dict[str, int] | None = None) -> dict[str, Pointer]:
    """Return {blob: pointer} for the blobs that are pointers.

    Two passes as git-lfs does: sizes first (non-blobs are dropped there; the caller
    may pass them in), then the content of blobs small enough to be a pointer.
    """
    if sizes is None:
        sizes = blob_sizes(blobs, cwd=cwd)
    small = [b for b, size in sizes.items() if 0 < size < MAX_POINTER_SIZE]
    pointers = {}
    for blob, data in blob_contents(small, cwd=cwd).items():
        pointer = parse(data)
        if pointer is not None:
            pointers[blob] = pointer
    return pointers


def pointer_entries(rows: list[tuple[bytes, str, str]], cwd: str | os.PathLike[str] | None) -> list[Entry]:
    """Keep the (path, mode, blob) rows whose blob is a pointer."""
    blobs = sorted({blob for _, mode, blob in rows if mode in ("100644", "100755")})
    pointers = pointers_of_blobs(blobs, cwd)
    return [Entry(path, mode, blob, pointers[blob]) for path, mode, blob in rows if blob in pointers]


def history_entries(revs: list[str], cwd: str | os.PathLike[str] | None = None) -> list[Entry]:
    """Return one entry per pointer blob in the commits ``revs`` select, with a path naming it.

    ``revs`` is what ``git rev-list`` takes: tips, ``^excluded`` tips, ``--not``,
    ``--remotes=<name>``, ``--all``. Only blobs small enough to be a pointer are listed
    (``--filter=blob:limit``), so a history of big plain files costs nothing here. In
    a partial clone, blobs left on the git remote are skipped, never fetched one by
    one (``--missing=allow-promisor``): what this clone committed itself is here.

    git> <object name> SP <path> LF     (the path is cut at a newline, so it only names)
    """
    out = git("rev-list", "--objects", f"--filter=blob:limit={MAX_POINTER_SIZE}", "--missing=allow-promisor",
              *revs, "--", cwd=cwd)
    named: dict[str, bytes] = {}
    for line in out.split(b"\n"):
        name, _, path = line.partition(b" ")
        if path and name:
            named.setdefault(name.decode("ascii", "replace"), path)
    pointers = pointers_of_blobs(list(named), cwd)
    return [Entry(named[blob], "", blob, pointer) for blob, pointer in pointers.items()]


def index_rows(cwd: Path | None = None, paths: list[str] | None = None) -> list[tuple[bytes, str, str]]:
    """Return (path from the top, mode, blob) for stage-0 index entries matching ``paths``.

    Pathspecs are relative to ``cwd`` (default: the current directory), as for git.
    Entries outside a sparse checkout (skip-worktree, tag ``S``) are left out: they
    have no file to write, and in a partial clone their blobs are not here, so
    reading them would start one fetch from the git remote per blob.

    git> <tag> SP <mode> SP <blob> SP <stage> TAB <path> NUL
    """
    rows = []
    for item in git_lines_z("ls-files", "-s", "-t", "-z", "--full-name", "--", *(paths or []), cwd=cwd):
        meta, _, path = item.partition(b"\t")
        tag, mode, blob, stage = meta.decode().split()
        if stage == "0" and tag != "S":
            rows.append((path, mode, blob))
    return rows


def tree_rows(cwd: Path | None, rev: str, paths: list[str] | None = None) -> list[tuple[bytes, str, str]]:
    """Return (path from the top, mode, blob) for the files of ``rev`` matching ``paths``.

    In a partial clone, the blobs of those files that stayed on the git remote are
    brought in one fetch first, instead of one fetch per blob when they are read.
    """
    rows = []
    for item in git_lines_z("ls-tree", "-r", "-z", "--full-name", rev, "--", *(paths or []), cwd=cwd):
        meta, _, path = item.partition(b"\t")
        mode, kind, blob = meta.decode().split()
        if kind == "blob":
            rows.append((path, mode, blob))
    _fetch_left_out(cwd, rev, rows)
    return rows


def _fetch_left_out(cwd: Path | None, rev: str, rows: list[tuple[bytes, str, str]]) -> None:
    """In a partial clone, fetch the blobs of ``rows`` that are not here, all in one request.

    The same request git makes for one missing object (``--stdin`` object names, no
    negotiation), made once for all of them.
    """
    if not rows:
        return
    remote = _promisor_remote(cwd)
    if remote is None:
        return
    listing = git("rev-list", "--objects", "--no-walk", "--missing=print", rev, "--", cwd=cwd)
    missing = {line[1:].decode() for line in listing.split(b"\n") if line.startswith(b"?")}
    wanted = sorted({blob for _, _, blob in rows if blob in missing})
    if wanted:
        git("-c", "fetch.negotiationAlgorithm=noop", "fetch", remote, "--no-tags", "--no-write-fetch-head",
            "--recurse-submodules=no", "--filter=blob:none", "--stdin",
            cwd=cwd, input="".join(f"{blob}\n" for blob in wanted).encode())


def changed_rows(cwd: Path | None, old: str, new: str) -> list[tuple[bytes, str, str]]:
    """Files added or changed from ``old`` to ``new``, as (path, mode, blob).

    git> :<old mode> <new mode> <old blob> <new blob> <status> NUL <path> NUL
    """
    items = git_lines_z("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", old, new, "--", cwd=cwd)
    rows = []
    for meta, path in zip(items[::2], items[1::2]):
        _, new_mode, _, new_blob, status = meta.decode().split()
        if status in ("A", "M", "T"):
            rows.append((path, new_mode, new_blob))
    return rows


def _promisor_remote(cwd: Path | None) -> str | None:
    """The git remote a partial clone fetches missing objects from, or None.

    git> <key> LF <value> NUL     (``remote.<name>.promisor`` true, or ``extensions.partialclone``)
    """
    found = git("config", "-z", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$",
                cwd=cwd, check=False)
    for item in found.split(b"\0"):
        key, _, value = item.decode("utf-8", "replace").partition("\n")
        if key == "extensions.partialclone":
            name = value
        elif key.endswith(".promisor") and value.lower() in ("true", "yes", "on", "1"):
            name = key[len("remote."):-len(".promisor")]
        else:
            continue
        if name and not name.startswith("-"):
            return name
    return None


def matching_paths(cwd: Path | None, pathspecs: list[str]) -> set[bytes]:
    """Return the index paths (from the top) that ``pathspecs`` select."""
    return set(git_lines_z("ls-files", "-z", "--full-name", "--", *pathspecs, cwd=cwd))
