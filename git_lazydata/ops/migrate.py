"""``git lazy migrate import``: rewrite history so that files become pointers.

import rewrites history so that files matching the ``--include`` globs become
pointers, as ``git lfs migrate import`` does. git does the walking and the writing::

    git fast-export --no-data ...  |  migrate_rewrite.py  |  git fast-import --done ...

fast-export lists, for each commit, only the files that changed from its first
parent, naming blobs by their object name (``--no-data``: no content in the stream).
Each matching blob is read once from one ``git cat-file --batch``, streamed into the
cache in 1 MiB chunks and replaced by its pointer (memoized by blob name), and each
path is matched once against the globs by one ``git check-attr --stdin`` reading
a private attributes file (the same rule lines ``track`` writes, so git's own
.gitattributes matching decides). fast-import builds each tree from its parent's,
so a subtree no matching file changed in is reused as it is and costs nothing.
Author, committer, dates, encoding and message pass through as bytes; only tree and
parent lines change. The history goes through one pass of a few long-lived git
processes, whatever its size, instead of a process or a request per object.
All commits go to one scratch ref; the real refs then move in one
``git update-ref --stdin`` transaction, which writes their reflogs.

This module chooses the refs, runs the pipeline, moves the refs and checks the new
HEAD out; migrate_rewrite.py is the transform in the middle, migrate_git.py the git
processes it reads from. ``migrate from-lfs`` is in from_lfs.py.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..checkout import materialize, pointer_sized, require_filter
from ..context import Context
from ..gitcmd import git
from ..progress import Progress
from ..repo import index_rows, pointer_entries
from .migrate_git import GitProcess, MigrateError
from .migrate_rewrite import SCRATCH_REF, Rewriter
from .track import normalise

__all__ = ["ImportResult", "MigrateError", "RefUpdate", "import_history"]


@dataclass(frozen=True)
class RefUpdate:
    """A ref that the rewrite moved: its name, old tip and new tip."""

    ref: str
    old: str
    new: str


@dataclass(frozen=True)
class ImportResult:
    """What ``migrate import`` did: refs moved, commits rewritten, objects put in the cache."""

    refs: list[RefUpdate]
    commits: int
    objects: int
    bytes: int
    patterns: list[str]


def _refs(ctx: Context, everything: bool) -> list[tuple[str, str, str, str]]:
    """(ref, object, type, peeled commit) for what is rewritten: HEAD's branch, or every branch and tag."""
    top = ctx.work_tree
    if not everything:
        branch = git("symbolic-ref", "-q", "HEAD", cwd=top, check=False).decode().strip()
        if not branch:  # a detached HEAD is rewritten in place
            tip = git("rev-parse", "--verify", "-q", "HEAD", cwd=top, check=False).decode().strip()
            if not tip:
                raise MigrateError("nothing to migrate: HEAD has no commit yet")
            return [("HEAD", tip, "commit", tip)]
        selected = [branch]
    else:
        selected = ["refs/heads", "refs/tags"]
    out = git("for-each-ref", "--format=%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)",
              *selected, cwd=top).decode("utf-8", "surrogateescape")
    refs = []
    for row in out.splitlines():
        name, obj, kind, peeled = row.split("\0")
        if kind == "commit":
            refs.append((name, obj, kind, obj))
        elif kind == "tag" and git("cat-file", "-t", peeled, cwd=top, check=False).strip() == b"commit":
            refs.append((name, obj, kind, peeled))
    if not refs:
        raise MigrateError("nothing to migrate: HEAD has no commit yet" if not everything else
                           "nothing to migrate: no branch or tag points at a commit")
    return refs


def _require_clean(top: Path) -> None:
    """Refuse to start with staged or unstaged changes to tracked files."""
    out = git("status", "--porcelain", "-z", "--untracked-files=no", "--ignore-submodules=none",
              cwd=top, with_filter=True)
    changed = [item for item in out.split(b"\0") if item]
    if changed:
        raise MigrateError(f"the work tree or the index has changes ({len(changed)} path(s)); "
                           "commit or stash them before 'git lazy migrate import'")


def _retag(ctx: Context, tag: str, commits: dict[str, str], done: dict[str, str]) -> str:
    """Write annotated tag ``tag`` again around its rewritten target; return its new name.

    The tag's header and message are kept; a signature would no longer verify and is
    dropped (as ``git fast-export --signed-tags=strip`` does).
    """
    if tag in done:
        return done[tag]
    raw = git("cat-file", "tag", tag, cwd=ctx.work_tree)
    head, _, message = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    target, kind = lines[0].split(b" ")[1].decode(), lines[1].split(b" ")[1]
    new_target = commits.get(target, target) if kind == b"commit" else (
        _retag(ctx, target, commits, done) if kind == b"tag" else target)
    if new_target == target:
        done[tag] = tag
        return tag
    for marker in (b"-----BEGIN PGP SIGNATURE-----", b"-----BEGIN SSH SIGNATURE-----",
                   b"-----BEGIN SIGNED MESSAGE-----"):
        at = message.find(marker)
        if at >= 0 and (at == 0 or message[at - 1:at] == b"\n"):
            message = message[:at]
    lines[0] = b"object " + new_target.encode()
    body = b"\n".join(lines) + b"\n\n" + message
    new = git("hash-object", "-t", "tag", "-w", "--stdin", cwd=ctx.work_tree, input=body).decode().strip()
    done[tag] = new
    return new


def import_history(ctx: Context, includes: list[str], *, everything: bool = False,
                   progress: Progress | None = None) -> ImportResult:
    """Rewrite HEAD's branch (``everything``: every branch and tag) so files matching ``includes`` are pointers."""
    top = ctx.work_tree
    if not includes:
        raise MigrateError("name the files to migrate with --include GLOB")
    patterns = list(dict.fromkeys(normalise(p, Context(ctx.repo, ctx.settings, top)) for p in includes))
    require_filter(top)
    _require_clean(top)
    refs = _refs(ctx, everything)
    progress = progress or Progress()
    tips = [ref for ref, *_ in refs]
    counted = git("rev-list", "--count", *tips, "--", cwd=top).strip()
    progress.total_objects = int(counted or 0)
    head_before = git("rev-parse", "--verify", "-q", "HEAD", cwd=top, check=False).decode().strip()
    with tempfile.TemporaryDirectory(prefix="git-lazy-migrate-") as folder:
        scratch = Path(folder)
        marks = scratch / "marks"
        export = GitProcess(["-c", "core.quotePath=false", "fast-export", "--no-data", "--show-original-ids",
                             "--reencode=no", "--signed-tags=strip", *tips, "--"], top, stdin=subprocess.DEVNULL)
        importer = GitProcess(["fast-import", "--quiet", "--done", "--force", f"--export-marks={marks}"], top,
                              stdout=subprocess.DEVNULL)
        rewriter = Rewriter(ctx, patterns, scratch, progress)
        assert export.stdout is not None and importer.stdin is not None
        try:
            try:
                rewriter.run(export.stdout, importer.stdin)  # type: ignore[arg-type]
            finally:
                export.stdout.close()
                try:
                    importer.stdin.close()
                except BrokenPipeError:
                    pass  # fast-import stopped; its own message says why
                closers = [export.wait, importer.wait, rewriter.close]
                errors = []
                for close in closers:
                    try:
                        close()
                    except MigrateError as exc:
                        errors.append(exc)
            if errors:
                raise errors[0]
            by_mark = dict(line.split(" ", 1) for line in marks.read_text().splitlines())
        finally:
            git("update-ref", "-d", SCRATCH_REF, cwd=top, check=False)
    progress.finish()
    commits = {old: by_mark[mark.decode()].strip() for mark, old in rewriter.originals.items()}
    updates = []
    tags: dict[str, str] = {}
    for ref, obj, kind, peeled in refs:
        new = commits.get(peeled, peeled) if kind == "commit" else _retag(ctx, obj, commits, tags)
        if new != obj:
            updates.append(RefUpdate(ref, obj, new))
    if updates:
        transaction = "".join(
            f"update {u.ref} {u.new} {u.old}\n" if u.ref != "HEAD" else f"option no-deref\nupdate HEAD {u.new} {u.old}\n"
            for u in updates).encode("utf-8", "surrogateescape")
        git("update-ref", "--create-reflog", "-m", "git lazy migrate import", "--stdin", cwd=top, input=transaction)
    head_after = git("rev-parse", "--verify", "-q", "HEAD", cwd=top, check=False).decode().strip()
    if head_after != head_before:
        _check_out(ctx)
    return ImportResult(updates, rewriter.commits, rewriter.objects, rewriter.bytes, patterns)


def _check_out(ctx: Context) -> None:
    """Make index and work tree the new HEAD's: same files, now pointers in git.

    ``reset --hard`` writes each converted file back through the filter, from the cache
    just filled; files over ``lazy.smudgemax``, left as pointers by the filter, are
    then written by the materialize step as after a checkout.
    """
    top = ctx.work_tree
    git("reset", "-q", "--hard", "HEAD", "--", cwd=top, with_filter=True)
    rows = [row for row in index_rows(top) if pointer_sized(top / os.fsdecode(row[0]))]
    materialize(top, pointer_entries(rows, top), ctx.cache)
