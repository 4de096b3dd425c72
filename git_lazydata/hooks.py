"""What each git hook does, and the merge driver: the git workflow of git-lazy.

pre-push uploads what the pushed commits need before git sends anything, and stops
the push when an object cannot be uploaded. post-checkout (branch checkouts) and
post-merge download what the new HEAD needs, within ``lazy.fetchinclude`` and
``lazy.fetchexclude``, and write the files out; they never fail the checkout or
merge itself, and say in one line what to run later. The hook files that call this
module are installed by hookfiles.py.

Entered through ``git-lazy hook NAME`` (and ``git-lazy merge-driver``), kept clear of
click: hooks run on ordinary git commands.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

from . import deferred, sync
from .checkout import filter_configured, materialize, pointer_sized
from .context import Context
from .errors import LazyError
from .gitcmd import existing, git
from .hookfiles import CHAINED_SUFFIX, HOOKS
from .progress import make_progress
from .repo import (
    Entry,
    Repo,
    changed_rows,
    history_entries,
    index_rows,
    matching_paths,
    pointer_entries,
)
from .settings import skip_push, trace_enabled
from .terminal import error_line, path_text

__all__ = ["main", "merge_driver", "parse_push_lines", "push_is_dry_run"]


def say(message: str) -> None:
    """Write one escaped ``git-lazy:`` line on stderr."""
    sys.stderr.write(error_line(message))
    sys.stderr.flush()

NULL_SHA = {"0" * 40, "0" * 64}


def _run_chained(repo: Repo, name: str, args: list[str], stdin: bytes | None) -> int:
    chained = repo.hooks_dir / (name + CHAINED_SUFFIX)
    try:
        mode = chained.stat().st_mode
    except FileNotFoundError:
        return 0
    if not (stat.S_ISREG(mode) and os.access(chained, os.X_OK)):
        return 0
    try:
        return subprocess.run([str(chained), *args], input=stdin, check=False).returncode
    except OSError as exc:
        if exc.errno != errno.ENOEXEC:
            raise
        # No "#!" line: git runs such a hook with the shell, and so do we.
        return subprocess.run(["/bin/sh", str(chained), *args], input=stdin, check=False).returncode


# --- post-checkout and post-merge ------------------------------------------------------


def _bring(ctx: Context, old: str | None, new: str | None,
           deferred_paths: set[bytes] | frozenset[bytes] = frozenset()) -> None:
    """Download and write the pointer files that moving from ``old`` to ``new`` left.

    Files within include/exclude are downloaded; every file whose object is in the
    cache is written (that needs no network), so a file too big for the filter
    (``lazy.smudgemax``), or left by it to this hook (``deferred_paths``,
    deferred.py), is written here too. With no ``new``, only the deferred paths are.
    """
    work_tree = ctx.repo.work_tree
    if work_tree is None:
        return  # a bare repository has no files to write
    if new is None:
        rows = []
    elif old is None or old in NULL_SHA:
        rows = index_rows(work_tree)
    else:
        rows = changed_rows(work_tree, old, new)
    unlisted = deferred_paths - {row[0] for row in rows}  # after a forced or path checkout
    if unlisted:
        rows += [row for row in index_rows(work_tree) if row[0] in unlisted]
    # Only a small regular file can still be a pointer: skip reading the blobs of
    # everything the filter already wrote out (the common case).
    rows = [row for row in rows if pointer_sized(work_tree / os.fsdecode(row[0]))]
    entries = pointer_entries(rows, work_tree)
    if not entries:
        return
    specs = ctx.config.fetch_pathspecs()
    wanted = entries
    if specs is not None:
        included = matching_paths(work_tree, specs)
        wanted = [e for e in entries if e.path in included]
    failure = None
    if wanted and not ctx.config.remotes:
        if any(not ctx.cache.has(e.pointer.oid) for e in wanted):
            say("files not in the cache stay pointers: no store is configured to fetch them from "
                 "(add one with 'git lazy remote add NAME URL')")
    elif wanted:
        try:
            result = sync.fetch(ctx, wanted, progress=make_progress("Downloading", 0, 0), write=False)
        except LazyError as exc:
            failure = (len({e.path for e in wanted if not ctx.cache.has(e.pointer.oid)}), str(exc))
        else:
            failures = result.failures()
            if failures:
                path, reason = failures[0]
                failure = (len(failures), f"{path_text(path)}: {reason}")
            for message in result.warnings:
                say(f"warning: {message}")
    written = materialize(work_tree, entries, ctx.cache)
    for path, reason in written.skipped:
        say(f"skipped {path_text(path)}: {reason}")
    if written.skipped:
        say(f"{len(written.skipped)} file(s) could not be written and stay pointers; "
            "once the cause is fixed, run 'git lazy pull' to write them")
    if failure is not None and failure[0]:
        count, reason = failure
        say(f"{count} file(s) not downloaded ({reason}); "
             "run 'git lazy pull' to fetch them when the store can be reached")


def post_checkout(ctx: Context, args: list[str], stdin: bytes | None) -> None:
    """``post-checkout <old> <new> <flag>``: after a branch checkout (flag 1), bring its data.

    After any checkout, write the files the filter left to this hook (deferred.py).
    """
    left = deferred.take(ctx.repo.git_dir)
    if len(args) >= 3 and args[2] == "1":
        _bring(ctx, args[0], args[1], left)
    elif left:
        _bring(ctx, None, None, left)


def post_merge(ctx: Context, args: list[str], stdin: bytes | None) -> None:
    """``post-merge <squash>``: bring the data of what the merge changed."""
    _bring(ctx, "ORIG_HEAD", "HEAD")


# --- pre-push ---------------------------------------------------------------------------


def parse_push_lines(stdin: bytes) -> list[tuple[str, str, str, str]]:
    """Parse git's pre-push input.

    git> <local ref> SP <local sha> SP <remote ref> SP <remote sha> LF   (one line per ref)

    A deletion has an all-zero local sha; a new branch an all-zero remote sha.
    """
    updates = []
    for line in stdin.decode("utf-8", "surrogateescape").splitlines():
        fields = line.split(" ")
        if len(fields) == 4:
            updates.append((fields[0], fields[1], fields[2], fields[3]))
    return updates


def _git_subcommand(argv: list[str]) -> tuple[str, list[str]]:
    """Split a git command line into its subcommand and the subcommand's arguments."""
    i = 1
    with_value = {"-c", "-C", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env"}
    while i < len(argv):
        arg = argv[i]
        if arg in with_value:
            i += 2
        elif arg.startswith("-"):
            i += 1
        else:
            return arg, argv[i + 1 :]
    return "", []


def push_is_dry_run(pid: int | None = None) -> bool:
    """Tell whether the ``git push`` that runs this hook was given ``--dry-run``.

    git runs pre-push even for a dry run and does not tell the hook, so the hook
    reads the command line of the ``git push`` above it (Linux's /proc; elsewhere
    this says False and a dry run uploads as a real one would).
    """
    pid = os.getppid() if pid is None else pid
    for _ in range(6):  # git-lazy <- git lazy hook <- git push, with a shell or two between
        try:
            argv = [a.decode("utf-8", "replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        name = os.path.basename(argv[0]) if argv and argv[0] else ""
        command, rest = ("push", argv[1:]) if name == "git-push" else ("", [])
        if name == "git":
            command, rest = _git_subcommand(argv)
        if command == "push":
            for arg in rest:
                if arg == "--":
                    break
                if arg == "--dry-run":
                    return True
                if arg.startswith("-") and not arg.startswith("--"):
                    letters = arg[1:].split("o", 1)[0]  # -o takes a value: what follows is not flags
                    if "n" in letters:
                        return True
            return False
        if pid <= 1 or parent == pid:
            return False
        pid = parent
    return False


def _pushed_entries(ctx: Context, remote_name: str, updates: list[tuple[str, str, str, str]]) -> list[Entry]:
    """The pointers in the commits being pushed that the git remote does not have yet.

    Excluded: what the remote's refs point to now (when we have those commits) and,
    for a configured remote, its remote-tracking branches, as ``git rev-list
    <local>... --not <remote>... --remotes=<name>``. A deletion needs nothing.
    """
    tips = list(dict.fromkeys(local for _, local, _, _ in updates if local not in NULL_SHA))
    if not tips:
        return []
    theirs = {r for _, _, _, r in updates if r not in NULL_SHA}
    have = sorted(existing(theirs, ctx.work_tree)) if theirs else []
    known_remote = remote_name and git("config", "--get", f"remote.{remote_name}.url",
                                       cwd=ctx.work_tree, check=False).strip()
    revs = [*tips, "--not", *have] + ([f"--remotes={remote_name}"] if known_remote else [])
    return history_entries(revs, ctx.work_tree)


def pre_push(ctx: Context, args: list[str], stdin: bytes | None) -> None:
    """``pre-push <remote> <url>``: upload what the pushed commits need, or stop the push."""
    if skip_push():
        return  # GIT_LAZY_SKIP_PUSH: the user takes care of the data
    entries = _pushed_entries(ctx, args[0] if args else "", parse_push_lines(stdin or b""))
    entries = [e for e in entries if e.pointer.size > 0]
    if not entries:
        return
    remote = ctx.config.push_remote(None)
    sync.check_pushable(ctx, remote)
    if push_is_dry_run():
        objects = len({e.pointer.oid for e in entries})
        say(f"dry run: {objects} object(s) would be checked against {remote.name}; nothing uploaded")
        return
    result = sync.push(ctx, remote, entries, progress=make_progress(f"Uploading to {remote.name}", 0, 0))
    for message in result.warnings:
        say(f"warning: {message}")
    if not result.ok:
        failed = result.transfer.failed
        named = {oid: paths[0] for oid, paths in result.paths.items()}
        for oid, reason in sorted(failed.items(), key=lambda item: named.get(item[0], b"")):
            say(f"cannot upload {path_text(named.get(oid, oid.encode()))}: {reason}")
        raise LazyError(f"{len(failed)} object(s) could not be uploaded to {remote.name}")


_HANDLERS = {"pre-push": pre_push, "post-checkout": post_checkout, "post-merge": post_merge}


def main(args: list[str]) -> int:
    """Entry point for ``git-lazy hook NAME ARGS...``."""
    if not args or args[0] not in _HANDLERS:
        say(f"unknown hook {args[0] if args else ''!r}; expected one of {', '.join(HOOKS)}")
        return 2
    name, rest = args[0], args[1:]
    stdin = sys.stdin.buffer.read() if name == "pre-push" else None  # always read it all
    # git reports a failing post-checkout/post-merge hook as a failed command: those
    # hooks explain a problem on stderr but never fail the checkout or merge itself.
    # A failing pre-push hook stops the push, which is what it is for.
    stops = name == "pre-push"
    try:
        ctx = Context.open()
        code = _run_chained(ctx.repo, name, rest, stdin)
        if code:
            return code
        if not filter_configured(ctx.repo.work_tree or ctx.repo.git_dir):
            return 0  # git-lazy was uninstalled; a leftover hook has nothing to do
        _HANDLERS[name](ctx, rest, stdin)
        return 0
    except LazyError as exc:
        if trace_enabled():
            raise
        stopped = "; push stopped, nothing was sent to the git remote" if stops else ""
        say(f"{name}: {exc}{stopped}")
        return exc.exit_code if stops else 0
    except KeyboardInterrupt:
        say(f"{name}: interrupted")
        return 130 if stops else 0
    except Exception as exc:  # a bug must not leave a traceback in the user's checkout
        if trace_enabled():
            raise
        say(f"{name}: internal error: {type(exc).__name__}: {exc} "
             "(run again with GIT_LAZY_TRACE=1 for the traceback)")
        return 2 if stops else 0


def merge_driver(argv: list[str]) -> int:
    """``git-lazy merge-driver %O %A %B %P``: both sides changed a tracked file.

    Data files are not merged line by line (that would put conflict markers inside a
    pointer): as for a binary file, our side stays in the work tree, the merge stops
    with a conflict, and the index keeps both sides for ``git checkout --ours/--theirs``.
    """
    path = path_text(argv[3]) if len(argv) > 3 else "a git-lazy file"
    say(f"{path}: both sides changed this data file, and data files are not merged line by line; "
         f"keep one side with 'git checkout --ours -- {path}' or 'git checkout --theirs -- {path}', "
         "then 'git add' it")
    return 1
