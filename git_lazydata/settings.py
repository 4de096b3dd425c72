"""Where things live and which knobs are turned: the only reader of the environment
besides the command line and the credential chains.

The filter process starts on every git command that touches a tracked file, so this
module asks git for its two keys with one ``git config`` call and imports
platformdirs only when no cache directory is configured.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from .errors import ConfigError

__all__ = [
    "DEFAULT_SMUDGE_MAX",
    "absolute_git_paths",
    "WRITTEN_ENV",
    "Settings",
    "child_env",
    "default_cache_root",
    "git_executable",
    "parse_size",
    "skip_push",
    "trace_enabled",
    "written_ledger",
]

#: git holds a smudge filter's whole output in memory; bigger objects are written
#: by the materialize step instead (see checkout.py).
DEFAULT_SMUDGE_MAX = 256 * 1024 * 1024

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}

#: Names the ledger of files just written to the index refresh's filter (written.py).
WRITTEN_ENV = "GIT_LAZY_WRITTEN"


#: git's variables that name a path, relative to the folder a command was started in.
_GIT_PATH_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")


def absolute_git_paths() -> None:
    """Make git's path variables absolute: the git commands we run work in other folders."""
    for name in _GIT_PATH_VARS:
        value = os.environ.get(name)
        if value and not os.path.isabs(value):
            os.environ[name] = os.path.abspath(value)


def trace_enabled() -> bool:
    """Tell whether GIT_LAZY_TRACE asks for tracebacks."""
    return os.environ.get("GIT_LAZY_TRACE", "") not in ("", "0", "false")


def skip_push() -> bool:
    """Tell whether GIT_LAZY_SKIP_PUSH asks the pre-push hook to upload nothing."""
    return os.environ.get("GIT_LAZY_SKIP_PUSH", "") not in ("", "0", "false")


def written_ledger() -> str | None:
    """The ledger of written files named for this process, if any (written.py)."""
    return os.environ.get(WRITTEN_ENV) or None


def child_env(**values: str | None) -> dict[str, str]:
    """Return this process's environment with ``values`` set (None: removed), for a child."""
    env = dict(os.environ)
    for key, value in values.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def parse_size(text: str) -> int:
    """Parse ``"256m"``, ``"1g"`` or ``"1048576"`` (git's size suffixes) into bytes."""
    value = text.strip().lower()
    value = value[:-1] if value.endswith("b") else value
    unit = value[-1:] if value[-1:] in _UNITS and not value[-1:].isdigit() else ""
    number = value[: len(value) - len(unit)]
    if not number.isdigit():
        raise ConfigError(f"not a size: {text!r} (use bytes, or a k/m/g suffix)")
    return int(number) * _UNITS[unit]


@cache
def git_executable() -> str:
    """Return the absolute path of git, never one found through the current directory."""
    # An empty or relative PATH entry means "the current directory": a cloned
    # repository could plant its own `git` there.
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if os.path.isabs(p))
    found = shutil.which("git", path=path)
    if not found:
        raise ConfigError("git was not found on PATH")
    return found


def default_cache_root() -> Path:
    """Return the per-user cache root from platformdirs (``~/.cache/git-lazy`` on Linux)."""
    import platformdirs  # only when no cache dir is configured (~20 ms to import)

    return Path(platformdirs.user_cache_dir("git-lazy", appauthor=False))


class Settings:
    """The local settings: cache root and smudge limit, read with one git call."""

    def __init__(self, cache_root: Path, smudge_max: int) -> None:
        """Keep the resolved values."""
        self.cache_root = cache_root
        self.smudge_max = smudge_max

    @classmethod
    def load(cls, cwd: str | None = None) -> Settings:
        """Resolve GIT_LAZY_CACHE_DIR > lazy.cachedir > platformdirs, and lazy.smudgemax."""
        values: dict[str, str] = {}
        proc = subprocess.run(
            [git_executable(), "config", "-z", "--get-regexp", r"^lazy\.(cachedir|smudgemax)$"],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        for item in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
            key, _, value = item.partition("\n")
            if key:
                values[key.lower()] = value
        env_dir = os.environ.get("GIT_LAZY_CACHE_DIR")
        if env_dir:
            root = Path(env_dir)
        elif values.get("lazy.cachedir"):
            root = Path(os.path.expanduser(values["lazy.cachedir"]))
        else:
            root = default_cache_root()
        smudge_max = DEFAULT_SMUDGE_MAX
        if "lazy.smudgemax" in values:
            smudge_max = parse_size(values["lazy.smudgemax"])
        return cls(root, smudge_max)
