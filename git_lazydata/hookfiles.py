"""The hook files in a repository: installing the shims, keeping a user's own hook.

A shim (``hooks/<name>`` in the source tree) only runs ``git lazy hook <name> "$@"``.
A hook the user had before is renamed ``<name>.pre-git-lazy`` and runs first, with
the same arguments and standard input (hooks.py); uninstall puts it back.

Standard library only: the filter imports this module to add missing hooks to a
fresh clone, on the path of every git command that touches a tracked file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_atomic
from .errors import LazyError

__all__ = ["CHAINED_SUFFIX", "HOOKS", "HookChange", "install_hooks", "is_ours", "shim", "uninstall_hooks"]

HOOKS = ("pre-push", "post-checkout", "post-merge")
MARKER = "# git-lazy hook"
CHAINED_SUFFIX = ".pre-git-lazy"


def shim(name: str) -> str:
    """Return the text of hook ``name`` as shipped in ``hooks/``."""
    here = Path(__file__).parent
    # Installed wheels carry hooks/ as git_lazydata/hookscripts; a source or
    # editable install reads it where it is.
    for folder in (here / "hookscripts", here.parent / "hooks"):
        if (folder / name).is_file():
            return (folder / name).read_text()
    raise LazyError(f"hook script {name!r} is missing from the installation; reinstall git-lazy")


def is_ours(path: Path) -> bool:
    """Tell whether the hook file at ``path`` is a git-lazy shim."""
    try:
        return MARKER in path.read_text(errors="replace")
    except (FileNotFoundError, IsADirectoryError):
        return False


@dataclass(frozen=True)
class HookChange:
    """One hook file touched by install/uninstall and how."""

    name: str
    action: str  # "installed", "updated", "unchanged", "chained", "removed", "restored"


def install_hooks(hooks_dir: Path) -> list[HookChange]:
    """Put the shims in place; keep a foreign hook as ``<name>.pre-git-lazy``. Idempotent."""
    hooks_dir.mkdir(parents=True, exist_ok=True)
    changes = []
    for name in HOOKS:
        path, text = hooks_dir / name, shim(name)
        action = "installed"
        if path.exists() or path.is_symlink():
            if is_ours(path):
                if path.read_text() == text:
                    changes.append(HookChange(name, "unchanged"))
                    continue
                action = "updated"
            else:
                chained = hooks_dir / (name + CHAINED_SUFFIX)
                if chained.exists():
                    raise LazyError(
                        f"both {path} and {chained} exist; move one away, then run 'git lazy install' again"
                    )
                os.rename(path, chained)
                action = "chained"
        write_atomic(path, text.encode(), mode=0o755)
        changes.append(HookChange(name, action))
    return changes


def uninstall_hooks(hooks_dir: Path) -> list[HookChange]:
    """Remove our shims and restore any chained hook."""
    changes = []
    for name in HOOKS:
        path, chained = hooks_dir / name, hooks_dir / (name + CHAINED_SUFFIX)
        if not is_ours(path):
            continue
        path.unlink()
        if chained.exists():
            os.rename(chained, path)
            changes.append(HookChange(name, "restored"))
        else:
            changes.append(HookChange(name, "removed"))
    return changes
