"""Files the filter leaves to the post-checkout hook, which writes them faster.

Through git's filter pipe every byte is copied four times (cache to filter, filter
to pipe, pipe to git's memory, git's memory to the file); the hook copies a cached
object to its file in the kernel (sendfile, or a reflink) and puts the file's stat
data into the index itself (indexstat.py). For files of a few MiB that halves a
branch switch. So during a ``git checkout``, ``git switch`` or ``git clone`` (the
commands that run post-checkout once their files are written), when the
post-checkout hook is git-lazy's, smudge answers with the pointer for a cached object
above ``DEFER_MIN`` and names the file in ``<git dir>/lazy-deferred``; the hook
takes that list and writes those files. Every other command (``reset --hard``,
``stash``, ``restore``, ``cherry-pick``, merges, which may stop before their hook)
gets every file from the filter, as before.

Which command git is running is read from the parent process (Linux ``/proc``);
where it cannot be read, nothing is deferred. git may start the filter through
``sh -c``, in which case git is the shell's parent.

Standard library only: the filter imports this module.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["DEFER_MIN", "FILE", "HOOKED_COMMANDS", "Deferrals", "git_command", "take"]

#: Cached objects above this size are written by the hook in the commands below.
DEFER_MIN = 1024 * 1024
#: The list of deferred paths (each ending in NUL) in the git dir of the work tree.
FILE = "lazy-deferred"
#: git commands that run post-checkout after writing their files.
HOOKED_COMMANDS = frozenset({"checkout", "switch", "clone"})
#: git's global options that take the next argument as their value.
VALUE_OPTIONS = frozenset({b"-c", b"-C", b"--git-dir", b"--work-tree", b"--namespace",
                           b"--super-prefix", b"--config-env"})
SHELLS = frozenset({b"sh", b"dash", b"bash"})


class Deferrals:
    """The deferral list of one filter process: appended to as files are deferred."""

    def __init__(self, path: str) -> None:
        """Append to the list at ``path`` (created on the first deferral)."""
        self.path = path
        self._fd: int | None = None

    def add(self, name: str) -> bool:
        """Record ``name`` (as git named it) as left to the hook; False if it could not be."""
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            # One write per name: O_APPEND keeps each whole even beside another writer.
            os.write(self._fd, name.encode("utf-8", "surrogateescape") + b"\0")
        except OSError:
            return False
        return True


def take(git_dir: str | os.PathLike[str]) -> set[bytes]:
    """Return the deferred paths recorded in ``git_dir`` and clear the list."""
    path = os.path.join(git_dir, FILE)
    taken = f"{path}.{os.getpid()}"
    try:
        os.rename(path, taken)  # a filter still running starts a new list
    except OSError:
        return set()
    try:
        with open(taken, "rb") as f:
            return {name for name in f.read().split(b"\0") if name}
    except OSError:
        return set()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(taken)


def git_command() -> str | None:
    """Name the git command that started this process, or None."""
    pid = os.getppid()
    for _ in range(2):  # git, or ``sh -c`` started by git
        argv = _cmdline(pid)
        if not argv:
            return None
        if os.path.basename(argv[0]) in SHELLS and argv[1:2] == [b"-c"]:
            pid = _parent(pid)
            continue
        if os.path.basename(argv[0]) != b"git":
            return None
        args = iter(argv[1:])
        for arg in args:
            if arg in VALUE_OPTIONS:
                next(args, None)
            elif not arg.startswith(b"-"):
                return arg.decode("utf-8", "replace")
        return None
    return None


def _cmdline(pid: int) -> list[bytes]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[:-1]
    except OSError:
        return []


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            # pid (comm) state ppid ...: comm may hold spaces and parentheses.
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0
