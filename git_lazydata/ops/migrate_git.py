"""The long-running git processes behind ``migrate import``, and its error.

``migrate import`` (migrate.py) streams a whole history through a few git processes
that stay up for the whole run, instead of starting one per object:

- ``GitProcess`` runs one git command with our filter off and turns its failure into
  a MigrateError carrying git's own message;
- ``Blobs`` reads blobs from one ``git cat-file --batch``, big ones in chunks;
- ``Matcher`` asks one ``git check-attr --stdin`` which paths the ``--include`` globs
  select, so that git's own .gitattributes matching decides.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..cache import CHUNK
from ..errors import LazyError
from ..gitcmd import NO_FILTER, git_error
from ..settings import child_env, git_executable

__all__ = ["ATTR_BATCH", "MATCH_ATTR", "Blobs", "GitProcess", "Matcher", "MigrateError"]


#: The attribute our private attributes file sets on matching paths.
MATCH_ATTR = b"git-lazy-migrate-include"
#: check-attr questions asked at once: answers stay well inside a pipe's buffer.
ATTR_BATCH = 8192


class MigrateError(LazyError):
    """A migration cannot start or could not finish; the repository is left as it was."""


class GitProcess:
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


class Blobs:
    """One ``git cat-file --batch``: blobs by name, small ones whole, big ones in chunks.

    git< <name> LF
    git> <name> SP <type> SP <size> LF <content> LF
    """

    def __init__(self, cwd: Path) -> None:
        # git maps packs in windows of 1 GiB by default, and every page read stays in
        # its resident set: reading 170 MiB of blobs made it 180 MB. Small windows keep
        # it near 20 MB at the same speed (measured on the 500-commit benchmark).
        self._proc = GitProcess(["-c", "core.packedGitWindowSize=4m", "-c", "core.packedGitLimit=32m",
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


class Matcher:
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
        self._proc = GitProcess(["-c", f"core.attributesFile={attrs}", "check-attr", "-z", "--stdin",
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

