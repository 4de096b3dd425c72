"""Running git: argv lists, ``--`` before paths, ``-z`` output, our filter off.

Our own git calls disable the lazy filter (as git-lfs does for its own) so git-lazy
never recurses into itself; the one exception is the index refresh after files are
materialized, which must run clean to see the pointer again.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import BinaryIO

from .errors import LazyError
from .settings import git_executable

__all__ = [
    "GitError",
    "NO_FILTER",
    "blob_contents",
    "blob_sizes",
    "existing",
    "git",
    "git_error",
    "git_lines_z",
    "git_run",
    "git_shown",
]

NO_FILTER = (
    "-c", "filter.lazy.process=",
    "-c", "filter.lazy.clean=",
    "-c", "filter.lazy.smudge=",
    "-c", "filter.lazy.required=false",
)


class GitError(LazyError):
    """A git command failed; the message is git's own first error line."""


def _argv(args: Sequence[str], with_filter: bool) -> list[str]:
    return [git_executable(), *(() if with_filter else NO_FILTER), *args]


def git_run(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    input: bytes | None = None,
    with_filter: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run git, capturing its output, whatever its exit status."""
    return subprocess.run(_argv(args, with_filter), cwd=cwd, input=input, capture_output=True, env=env, check=False)


def git_error(stderr: bytes, command: str, returncode: int) -> str:
    """git's own first error line from ``stderr``, without its ``fatal:`` prefix."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    message = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), "")
    message = message or (lines[-1] if lines else f"git {command} exited {returncode}")
    return message.removeprefix("fatal: ").removeprefix("error: ")


def git(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    input: bytes | None = None,
    check: bool = True,
    with_filter: bool = False,
    env: dict[str, str] | None = None,
) -> bytes:
    """Run git and return its stdout; raise GitError with git's message on failure."""
    proc = git_run(*args, cwd=cwd, input=input, with_filter=with_filter, env=env)
    if check and proc.returncode != 0:
        raise GitError(git_error(proc.stderr, args[0], proc.returncode))
    return proc.stdout


def git_shown(*args: str, cwd: str | os.PathLike[str] | None = None) -> None:
    """Run git with our filter off and its output shown to the user (``git clone``'s progress)."""
    code = subprocess.run(_argv(args, False), cwd=cwd, stdin=subprocess.DEVNULL, check=False).returncode
    if code != 0:
        raise GitError(f"git {args[0]} failed (exit code {code})")


def git_lines_z(*args: str, cwd: str | os.PathLike[str] | None = None, with_filter: bool = False) -> list[bytes]:
    """Run a git command with ``-z`` style output and split it on NUL."""
    out = git(*args, cwd=cwd, with_filter=with_filter)
    return [item for item in out.split(b"\0") if item]


@contextmanager
def _cat_file(args: Sequence[str], names: Iterable[str], cwd: str | os.PathLike[str] | None) -> Iterator[BinaryIO]:
    """Run ``git cat-file ARGS``, feed it object names from a thread, yield its stdout."""
    proc = subprocess.Popen(
        _argv(["cat-file", *args], False), cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    stdin, stdout = proc.stdin, proc.stdout
    assert stdin is not None and stdout is not None

    def feed() -> None:
        try:
            for name in names:
                stdin.write(name.encode() + b"\n")
            stdin.close()
        except BrokenPipeError:
            pass  # git stopped reading; its exit status tells

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        yield stdout
    finally:
        writer.join()
        stdout.close()
        code = proc.wait()
    if code != 0:  # git said why on stderr; an empty answer must not pass for "no objects"
        raise GitError(f"git cat-file failed (exit code {code})")


def blob_sizes(names: Iterable[str], cwd: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """Return the size of each blob (``git cat-file --batch-check``); missing ones are left out.

    git< <name>
    git> <name> <type> <size>      or      <name> missing
    """
    sizes: dict[str, int] = {}
    with _cat_file(["--batch-check=%(objectname) %(objecttype) %(objectsize)"], names, cwd) as out:
        for line in out:
            parts = line.split()
            if len(parts) == 3 and parts[1] == b"blob":
                sizes[parts[0].decode()] = int(parts[2])
    return sizes


def existing(names: Iterable[str], cwd: str | os.PathLike[str] | None = None) -> set[str]:
    """Return the names among ``names`` that are objects of this repository."""
    found: set[str] = set()
    with _cat_file(["--batch-check=%(objectname) %(objecttype)"], names, cwd) as out:
        for line in out:
            parts = line.split()
            if len(parts) == 2 and parts[1] != b"missing":
                found.add(parts[0].decode())
    return found


def blob_contents(names: Sequence[str], cwd: str | os.PathLike[str] | None = None) -> dict[str, bytes]:
    """Return the bytes of small blobs (``git cat-file --batch``); callers pre-filter by size.

    git< <name>
    git> <name> blob <size> LF <content> LF
    """
    contents: dict[str, bytes] = {}
    if not names:
        return contents
    with _cat_file(["--batch"], names, cwd) as out:
        for _ in names:
            header = out.readline().split()
            if len(header) != 3:
                continue  # "<name> missing"
            size = int(header[2])
            contents[header[0].decode()] = out.read(size + 1)[:size]
    return contents
