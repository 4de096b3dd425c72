"""``git lazy remote add/list/remove/default``: the stores of a repository.

Stores go to ``.lazyconfig`` (committed, shared with every clone) unless ``--local``
or the URL holds a password, which only ever goes to ``.git/config``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..config import LAZYCONFIG, LazyConfig, Remote
from ..context import Context
from ..errors import ConfigError
from ..gitcmd import GitError, git
from ..stores.urls import parse_store_url

__all__ = ["AddResult", "accept", "accept_committed", "add", "list_remotes", "remove", "set_default"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class AddResult:
    """Where a store was written, and any warning for the user."""

    where: str
    warning: str | None = None


def _set(ctx: Context, local: bool, key: str, value: str) -> None:
    where = ["--local"] if local else ["--file", LAZYCONFIG]
    git("config", *where, key, value, cwd=ctx.work_tree)


def _record_acceptance(ctx: Context, name: str, url: str, endpoint: str | None) -> None:
    """Remember, in .git/config, the URL and endpoint this clone agreed to push to."""
    git("config", "--local", f"lazy.remote.{name}.acceptedurl", url, cwd=ctx.work_tree)
    git("config", "--local", f"lazy.remote.{name}.acceptedendpoint", endpoint or "", cwd=ctx.work_tree)


def add(ctx: Context, name: str, url: str, *, endpoint: str | None = None, local: bool = False) -> AddResult:
    """Add (or replace) store ``name``; the first store added becomes the default."""
    work_tree = ctx.work_tree
    if not _NAME.match(name):
        raise ConfigError(f"not a store name: {name!r} (letters, digits, '-' and '_')")
    parsed = parse_store_url(url, base=work_tree)  # refuses malformed and unsafe URLs
    warning = None
    if parsed.has_password and not local:
        local = True
        warning = f"the URL of {name!r} holds a password, so it was written to .git/config only, never to {LAZYCONFIG}"
    if endpoint is not None and not re.match(r"^https?://[^\s/]+/?$", endpoint):
        raise ConfigError(f"not an endpoint URL: {endpoint!r} (expected http(s)://host[:port])")
    had_default = ctx.reload_config().default
    _set(ctx, local, f"lazy.remote.{name}.url", url)
    if endpoint:
        _set(ctx, local, f"lazy.remote.{name}.endpoint", endpoint)
    # Adding a store is the user's consent to push there.
    _record_acceptance(ctx, name, url, endpoint)
    if not had_default:
        _set(ctx, local, "lazy.remote", name)
    ctx.reload_config()
    return AddResult(".git/config" if local else LAZYCONFIG, warning)


def list_remotes(ctx: Context) -> LazyConfig:
    """Return the merged configuration (stores in the order they are read)."""
    return ctx.reload_config()


def remove(ctx: Context, name: str) -> None:
    """Forget store ``name`` in this repository (nothing in the store is deleted)."""
    if name not in ctx.reload_config().remotes:
        raise ConfigError(f"no store named {name!r} (see 'git lazy remote list')")
    top = ctx.work_tree
    for where in (["--local"], ["--file", LAZYCONFIG]):
        try:
            git("config", *where, "--remove-section", f"lazy.remote.{name}", cwd=top)
        except GitError:
            pass  # not defined in that file
        value = git("config", *where, "--get", "lazy.remote", cwd=top, check=False).decode().strip()
        if value == name:
            git("config", *where, "--unset", "lazy.remote", cwd=top, check=False)
    ctx.reload_config()


def set_default(ctx: Context, name: str, *, local: bool = False) -> None:
    """Make ``name`` the store that push uses by default."""
    if name not in ctx.reload_config().remotes:
        raise ConfigError(f"no store named {name!r} (see 'git lazy remote list')")
    _set(ctx, local, "lazy.remote", name)
    ctx.reload_config()


def accept(ctx: Context, name: str) -> Remote:
    """Accept the current URL of store ``name`` for push from this clone."""
    remote = ctx.reload_config().remotes.get(name)
    if remote is None:
        raise ConfigError(f"no store named {name!r} (see 'git lazy remote list')")
    _record_acceptance(ctx, name, remote.url, remote.endpoint)
    ctx.reload_config()
    return remote


def accept_committed(ctx: Context) -> list[Remote]:
    """Record the URLs of the committed stores as accepted for push (on install)."""
    accepted = []
    for remote in ctx.reload_config().remotes.values():
        if remote.unaccepted:
            _record_acceptance(ctx, remote.name, remote.url, remote.endpoint)
            accepted.append(remote)
    ctx.reload_config()
    return accepted
