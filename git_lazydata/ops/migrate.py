"""``git lazy migrate import`` and ``git lazy migrate from-lfs``.

import rewrites history so that files matching the ``--include`` globs become
pointers, as ``git lfs migrate import`` does. git does the walking and the writing::

    git fast-export --no-data ...  |  this module  |  git fast-import --done ...

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

from-lfs adopts a git-lfs repository as it is: git-lfs pointers are ours byte for
byte, so no commit changes. Its objects are copied (or linked) into the cache and
verified, git-lfs's filter name is pointed at git-lazy in this clone, and the
.gitattributes rules are switched to ours for the user to commit.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from ..atomic import temp_name, write_atomic
from ..cache import CHUNK, Cache
from ..checkout import filter_configured, materialize, pointer_sized, require_filter
from ..context import Context
from ..errors import ChecksumMismatch, LazyError
from ..filter import PLAIN_FILES
from ..gitcmd import NO_FILTER, git, git_error, git_lines_z
from ..hookfiles import HOOKS
from ..pointer import MAX_POINTER_SIZE, Pointer, is_oid, parse
from ..progress import Progress
from ..repo import index_rows, pointer_entries
from ..settings import child_env, git_executable
from .install import DRIVER_CONFIG
from .track import ATTRIBUTES, lazy_pattern, normalise

__all__ = ["FromLfsResult", "ImportResult", "MigrateError", "RefUpdate", "from_lfs", "import_history"]

#: Where fast-import puts the rewritten commits before the real refs move.
SCRATCH_REF = "refs/lazy-migrate/import"
#: The attribute our private attributes file sets on matching paths.
MATCH_ATTR = b"git-lazy-migrate-include"
#: check-attr questions asked at once: answers stay well inside a pipe's buffer.
ATTR_BATCH = 8192


class MigrateError(LazyError):
    """A migration cannot start or could not finish; the repository is left as it was."""


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


# --- talking to git ---------------------------------------------------------------


class _Process:
    """A long-running git command (our filter off); its stderr goes to a temp file, read if it fails."""

    def __init__(self, args: list[str], cwd: Path, *, stdin: int | None = subprocess.PIPE,
                 stdout: int | None = subprocess.PIPE, env: dict[str, str] | None = None) -> None:
        self.what = next(a for a, before in zip(args, ["", *args]) if before != "-c" and a != "-c")
        self._err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen([git_executable(), *NO_FILTER, *args], cwd=cwd, stdin=stdin,
                                     stdout=stdout, stderr=self._err, env=env)
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout

    def wait(self) -> None:
        """Wait for git; raise MigrateError with git's own message when it failed."""
        code = self.proc.wait()
        self._err.seek(0)
        stderr = self._err.read(65536)
        self._err.close()
        if code != 0:
            raise MigrateError(f"git {self.what} failed: {git_error(stderr, self.what, code)}")


class _Blobs:
    """One ``git cat-file --batch``: blobs by name, small ones whole, big ones in chunks.

    git< <name> LF
    git> <name> SP <type> SP <size> LF <content> LF
    """

    def __init__(self, cwd: Path) -> None:
        # git maps packs in windows of 1 GiB by default, and every page read stays in
        # its resident set: reading 170 MiB of blobs made it 180 MB. Small windows keep
        # it near 20 MB at the same speed (measured on the 500-commit benchmark).
        self._proc = _Process(["-c", "core.packedGitWindowSize=4m", "-c", "core.packedGitLimit=32m",
                               "cat-file", "--batch"], cwd)
        self._in, self._out = self._proc.stdin, self._proc.stdout
        assert self._in is not None and self._out is not None

    def open(self, name: bytes) -> tuple[str, int]:
        """Ask for ``name``; return its type and size (then read exactly that many bytes)."""
        assert self._in is not None and self._out is not None
        self._in.write(name + b"\n")
        self._in.flush()
        header = self._out.readline().split()
        if len(header) != 3:
            raise MigrateError(f"git cat-file cannot read object {name.decode(errors='replace')}")
        return header[1].decode(), int(header[2])

    def chunks(self, size: int) -> Iterator[bytes]:
        """The ``size`` bytes of the object just opened, then git's closing LF."""
        assert self._out is not None
        left = size
        while left:
            data = self._out.read(min(CHUNK, left))
            if not data:
                raise MigrateError("git cat-file stopped in the middle of an object")
            left -= len(data)
            yield data
        self._out.read(1)

    def read(self, name: bytes) -> bytes:
        """The whole content of a small object."""
        _, size = self.open(name)
        return b"".join(self.chunks(size))

    def close(self) -> None:
        assert self._in is not None
        self._in.close()
        self._proc.wait()


class _Matcher:
    """Which paths the globs select, asked of ``git check-attr`` as .gitattributes lines.

    A private attributes file (``core.attributesFile``) gives each glob an attribute
    no repository sets, so git's own matching decides, with the same rule lines that
    will be committed.

    git< <path> NUL ...                       (--stdin -z)
    git> <path> NUL <attribute> NUL <set|unspecified> NUL ...
    """

    def __init__(self, cwd: Path, patterns: list[str], scratch: Path) -> None:
        attrs = scratch / "attributes"
        attrs.write_text("".join(f"{p} {MATCH_ATTR.decode()}\n" for p in patterns), encoding="utf-8")
        self._proc = _Process(["-c", f"core.attributesFile={attrs}", "check-attr", "-z", "--stdin",
                               MATCH_ATTR.decode()], cwd, env=child_env(GIT_FLUSH="1"))  # answer at once
        self._known: dict[bytes, bool] = {}
        self._buffer = b""

    def learn(self, paths: list[bytes]) -> None:
        """Ask about the paths not asked about yet, a batch at a time."""
        todo = [p for p in dict.fromkeys(paths) if p not in self._known]
        start = 0
        while start < len(todo):
            end, size = start, 0
            while end < len(todo) and (end == start or size + len(todo[end]) < ATTR_BATCH):
                size += len(todo[end]) + len(MATCH_ATTR) + 16
                end += 1
            self._ask(todo[start:end])
            start = end

    def _ask(self, batch: list[bytes]) -> None:
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(b"".join(p + b"\0" for p in batch))
        stdin.flush()
        fields: list[bytes] = []
        while len(fields) < 3 * len(batch):
            data = stdout.read1(65536)
            if not data:
                raise MigrateError("git check-attr stopped answering")
            *done, self._buffer = (self._buffer + data).split(b"\0")
            fields += done
        for i, path in enumerate(batch):
            self._known[path] = fields[3 * i + 2] == b"set"

    def __call__(self, path: bytes) -> bool:
        return self._known[path]

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait()


def _unquote(token: bytes) -> bytes:
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


# --- migrate import ------------------------------------------------------------------


class _Rewriter:
    """The transform between fast-export and fast-import (see the module docstring)."""

    def __init__(self, ctx: Context, patterns: list[str], scratch: Path, progress: Progress) -> None:
        top = ctx.work_tree
        self.cache: Cache = ctx.cache
        self.patterns = patterns
        self.blobs = _Blobs(top)
        self.matches = _Matcher(top, patterns, scratch)
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
                _skip_data(source)  # annotated tags are rewritten afterwards (_retag)
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
                changes.append((line, mode, blob, _unquote(token)))
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
        export = _Process(["-c", "core.quotePath=false", "fast-export", "--no-data", "--show-original-ids",
                           "--reencode=no", "--signed-tags=strip", *tips, "--"], top, stdin=subprocess.DEVNULL)
        importer = _Process(["fast-import", "--quiet", "--done", "--force", f"--export-marks={marks}"], top,
                            stdout=subprocess.DEVNULL)
        rewriter = _Rewriter(ctx, patterns, scratch, progress)
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


# --- migrate from-lfs ----------------------------------------------------------------

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
        digest, got_size = hashlib.sha256(), 0
        with open(temp, "rb") as linked:
            while data := linked.read(CHUNK):
                digest.update(data)
                got_size += len(data)
                progress.add_bytes(len(data))
        got = digest.hexdigest()
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
