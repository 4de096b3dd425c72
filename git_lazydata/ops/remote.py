"""``git lazy remote add/set-url/list/remove/default/accept``: the stores of a repository.

Stores go to ``.lazyconfig`` (committed, shared with every clone) unless ``--local``
or the URL holds a password, which only ever goes to ``.git/config``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..config import LAZYCONFIG, LazyConfig, Remote
from ..context import Context
from ..errors import ConfigError
from ..gitcmd import GitError, git
from ..stores.urls import StoreURL, parse_store_url

__all__ = [
    "AddResult",
    "accept",
    "accept_committed",
    "add",
    "list_remotes",
    "remove",
    "set_default",
    "set_url",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_ENDPOINT = re.compile(r"^https?://[^\s/@]+/?$")


@dataclass(frozen=True)
class AddResult:
    """Where a store was written, any warning for the user, and a folder that was made."""

    where: str
    warning: str | None = None
    created: str | None = None


def _set(ctx: Context, local: bool, key: str, value: str) -> None:
    where = ["--local"] if local else ["--file", LAZYCONFIG]
    git("config", *where, key, value, cwd=ctx.work_tree)


def _record_acceptance(ctx: Context, name: str, url: str, endpoint: str | None) -> None:
    """Remember, in .git/config, the URL and endpoint this clone agreed to push to."""
    git("config", "--local", f"lazy.remote.{name}.acceptedurl", url, cwd=ctx.work_tree)
    git("config", "--local", f"lazy.remote.{name}.acceptedendpoint", endpoint or "", cwd=ctx.work_tree)


def _checked(ctx: Context, name: str, url: str, endpoint: str | None) -> StoreURL:
    if not _NAME.match(name):
        raise ConfigError(f"not a store name: {name!r} (letters, digits, '-' and '_')")
    if endpoint is not None and not _ENDPOINT.match(endpoint):
        raise ConfigError(f"not an endpoint URL: {endpoint!r} (expected http(s)://host[:port])")
    return parse_store_url(url, base=ctx.work_tree)  # refuses malformed and unsafe URLs


def _make_folder(parsed: StoreURL) -> str | None:
    """Create a folder store's own folder (not its parents); return it if it was made.

    Pushes never create it: a share that is not mounted must not quietly become a
    folder on the local disk. Naming the store here is the one moment the user says
    where it is.
    """
    if parsed.scheme != "file":
        return None
    root = Path(parsed.path)
    if root.is_dir():
        return None
    if not root.parent.is_dir():
        raise ConfigError(f"cannot create the store folder {root}: {root.parent} does not exist")
    try:
        root.mkdir()
    except OSError as exc:
        raise ConfigError(f"cannot create the store folder {root}: {exc.strerror or exc}") from None
    return str(root)


def add(ctx: Context, name: str, url: str, *, endpoint: str | None = None, local: bool = False) -> AddResult:
    """Add store ``name``; refuse a name in use. The first store added becomes the default."""
    parsed = _checked(ctx, name, url, endpoint)
    cfg = ctx.reload_config()
    if name in cfg.remotes:
        raise ConfigError(
            f"store {name!r} already exists; change its URL with 'git lazy remote set-url {name} URL'"
        )
    warning = None
    if parsed.has_password and not local:
        local = True
        warning = f"the URL of {name!r} holds a password, so it was written to .git/config only, never to {LAZYCONFIG}"
    created = _make_folder(parsed)
    _set(ctx, local, f"lazy.remote.{name}.url", url)
    if endpoint:
        _set(ctx, local, f"lazy.remote.{name}.endpoint", endpoint)
    # Adding a store is the user's consent to push there.
    _record_acceptance(ctx, name, url, endpoint)
    if not cfg.default:
        _set(ctx, local, "lazy.remote", name)
    ctx.reload_config()
    return AddResult(".git/config" if local else LAZYCONFIG, warning, created)


def set_url(ctx: Context, name: str, url: str, *, endpoint: str | None = None) -> AddResult:
    """Change the URL (and endpoint) of store ``name`` where it is defined."""
    parsed = _checked(ctx, name, url, endpoint)
    cfg = ctx.reload_config()
    current = cfg.remote(name)
    local = git("config", "--local", "--get", f"lazy.remote.{name}.url", cwd=ctx.work_tree, check=False).strip()
    warning = None
    if parsed.has_password and not local:
        warning = f"the URL of {name!r} holds a password, so it was written to .git/config only, never to {LAZYCONFIG}"
    in_git_config = bool(local) or parsed.has_password
    created = _make_folder(parsed)
    _set(ctx, in_git_config, f"lazy.remote.{name}.url", url)
    if endpoint is not None:
        _set(ctx, in_git_config, f"lazy.remote.{name}.endpoint", endpoint)
    _record_acceptance(ctx, name, url, endpoint if endpoint is not None else current.endpoint)
    ctx.reload_config()
    return AddResult(".git/config" if in_git_config else LAZYCONFIG, warning, created)


def list_remotes(ctx: Context) -> LazyConfig:
    """Return the merged configuration (stores in the order they are read)."""
    return ctx.reload_config()


def remove(ctx: Context, name: str) -> None:
    """Forget store ``name`` in this repository (nothing in the store is deleted), used or not."""
    cfg = ctx.reload_config()
    if name not in cfg.ignored:
        cfg.remote(name)
    for where in (["--local"], ["--file", LAZYCONFIG]):
        try:
            git("config", *where, "--remove-section", f"lazy.remote.{name}", cwd=ctx.work_tree)
        except GitError:
            pass  # not defined in that file
        value = git("config", *where, "--get", "lazy.remote", cwd=ctx.work_tree, check=False).decode().strip()
        if value == name:
            git("config", *where, "--unset", "lazy.remote", cwd=ctx.work_tree, check=False)
    ctx.reload_config()


def set_default(ctx: Context, name: str, *, local: bool = False) -> None:
    """Make ``name`` the store that push uses by default."""
    ctx.reload_config().remote(name)
    _set(ctx, local, "lazy.remote", name)
    ctx.reload_config()


def accept(ctx: Context, name: str) -> Remote:
    """Accept the current URL of store ``name`` for push from this clone."""
    remote = ctx.reload_config().remote(name)
    _record_acceptance(ctx, name, remote.url, remote.endpoint)
    ctx.reload_config()
    return remote


def accept_committed(ctx: Context) -> list[Remote]:
    """Accept the committed stores for push (on install); return the folder stores held back.

    Reading from any store is safe (every byte is verified), but a folder named by
    committed content could be anywhere on this machine: pushing there waits for
    ``git lazy remote accept NAME``.
    """
    held = []
    for remote in ctx.reload_config().remotes.values():
        if not remote.unaccepted:
            continue
        if remote.parsed(ctx.work_tree).scheme == "file":
            held.append(remote)
        else:
            _record_acceptance(ctx, remote.name, remote.url, remote.endpoint)
    ctx.reload_config()
    return held
