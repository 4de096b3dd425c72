"""Store configuration: the committed ``.lazyconfig`` plus this clone's git config.

``.lazyconfig`` arrives with every pull, so it is untrusted: only the keys below are
read from it (others are ignored with a warning), a URL with a password is ignored,
and a store named there is used for fetching (every byte is verified) but pushed to
only once its URL and endpoint have been accepted in ``.git/config``
(``lazy.remote.<name>.acceptedurl`` / ``acceptedendpoint``, written by ``git lazy
install``, ``git lazy remote add`` and ``git lazy remote accept``). Values this clone
sets itself in git config need no acceptance. Git config is read
through ``git config`` so git's own safety checks (safe.directory) apply; the
committed file is read with dulwich.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .gitcmd import git
from .settings import parse_size
from .stores.urls import StoreURL, parse_store_url

__all__ = ["LazyConfig", "Remote", "load_config", "pathspecs"]

LAZYCONFIG = ".lazyconfig"
_TOP_KEYS = {"remote", "fetchinclude", "fetchexclude"}
_REMOTE_KEYS = {"url", "endpoint"}
_ACCEPTED = {"acceptedurl": "url", "acceptedendpoint": "endpoint"}


@dataclass(frozen=True)
class Remote:
    """A named store: its URL text, optional S3 endpoint, and where it was defined."""

    name: str
    url: str
    endpoint: str | None = None
    committed: bool = False  # defined in .lazyconfig (and perhaps overridden locally)
    #: keys whose value comes from .lazyconfig and differs from what this clone accepted
    unaccepted: tuple[str, ...] = ()

    def parsed(self, base: Path) -> StoreURL:
        """Parse the URL; relative folder paths are relative to the top of the work tree."""
        return parse_store_url(self.url, base=base)

    @property
    def pushable(self) -> bool:
        """Whether this clone may push here: every committed value was accepted."""
        return not self.unaccepted


@dataclass
class LazyConfig:
    """Everything git-lazy reads from configuration, merged."""

    remotes: dict[str, Remote] = field(default_factory=dict)
    default: str | None = None
    fetchinclude: list[str] = field(default_factory=list)
    fetchexclude: list[str] = field(default_factory=list)
    concurrency: int | None = None  # lazy.concurrency; None: the engine's default
    cachemax: int | None = None  # lazy.cachemax in bytes; None: no bound
    warnings: list[str] = field(default_factory=list)
    #: stores of .lazyconfig left out, and why
    ignored: dict[str, str] = field(default_factory=dict)

    def fetch_pathspecs(self) -> list[str] | None:
        """Pathspecs selecting what hooks and ``pull`` fetch; None means everything."""
        if not self.fetchinclude and not self.fetchexclude:
            return None
        return pathspecs(self.fetchinclude) + pathspecs(self.fetchexclude, exclude=True)

    def no_store(self) -> ConfigError:
        """The error for a repository without a usable store, naming what was ignored."""
        ignored = f" ({'; '.join(self.warnings)})" if self.warnings else ""
        return ConfigError(f"no store configured{ignored}; add one with 'git lazy remote add NAME URL'")

    def push_remote(self, name: str | None) -> Remote:
        """Return the store to push to: ``name``, else the default, else the only one."""
        if name is None:
            name = self.default or (next(iter(self.remotes)) if len(self.remotes) == 1 else None)
        if name is None:
            if not self.remotes:
                raise self.no_store()
            raise ConfigError("several stores and no default; name one, or set 'git lazy remote default NAME'")
        return self.remote(name)

    def remote(self, name: str) -> Remote:
        """Return store ``name``; the error says why when ``.lazyconfig`` names it but it is not used."""
        if name in self.remotes:
            return self.remotes[name]
        if name in self.ignored:
            raise ConfigError(f"store {name!r} of {LAZYCONFIG} is not used: {self.ignored[name]}")
        raise ConfigError(f"no store named {name!r} (see 'git lazy remote list')")


def pathspecs(patterns: list[str], *, exclude: bool = False) -> list[str]:
    """Turn fetchinclude/fetchexclude patterns into git pathspecs, read as .gitignore reads them.

    A pattern is relative to the top of the work tree; one without a ``/`` matches at
    any depth (``*.csv``); a pattern also selects everything below a folder it names
    (``data/raw``, ``data/*``).
    """
    magic = ":(top,glob,exclude)" if exclude else ":(top,glob)"
    specs = []
    for pattern in patterns:
        body = pattern.strip().rstrip("/")
        if not body:
            continue
        if body.startswith("/"):
            body = body.lstrip("/")
        elif "/" not in body:
            body = "**/" + body
        specs += [magic + body, magic + body + "/**"]
    return specs


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _read_committed(text: bytes, cfg: LazyConfig) -> dict[str, dict[str, str]]:
    """Read the allowed keys of a .lazyconfig; return {remote name: {key: value}}."""
    from dulwich.config import ConfigFile  # dulwich.config only: no repository code

    remotes: dict[str, dict[str, str]] = {}
    try:
        # Never [include]: a committed file must not make git-lazy read another file.
        parsed = ConfigFile.from_file(io.BytesIO(text), expand_includes=False)
    except Exception:  # dulwich raises ValueError and friends on bad syntax
        # dulwich's message quotes the offending line: it is not repeated to the user.
        cfg.warnings.append(f"{LAZYCONFIG} is not in git config syntax; ignoring it")
        return remotes
    for section in parsed.sections():
        if section[0] != b"lazy":
            cfg.warnings.append(f"{LAZYCONFIG}: ignoring section [{section[0].decode(errors='replace')}]")
            continue
        sub = section[1].decode("utf-8", "replace") if len(section) > 1 else None
        for key_b, value_b in parsed.items(section):
            key, value = key_b.decode("utf-8", "replace").lower(), value_b.decode("utf-8", "replace")
            if sub is None and key in _TOP_KEYS:
                _set_top(cfg, key, value)
            elif sub is not None and sub.startswith("remote.") and key in _REMOTE_KEYS:
                remotes.setdefault(sub[len("remote."):], {})[key] = value
            else:
                cfg.warnings.append(f"{LAZYCONFIG}: ignoring key {key!r} (not allowed in a committed file)")
    return remotes


def _set_top(cfg: LazyConfig, key: str, value: str) -> None:
    if key == "remote":
        cfg.default = value
    elif key == "fetchinclude":
        cfg.fetchinclude = _split_list(value)
    elif key == "fetchexclude":
        cfg.fetchexclude = _split_list(value)


def _read_local(cwd: Path | None) -> list[tuple[str, str]]:
    out = git("config", "-z", "--get-regexp", r"^lazy\.", cwd=cwd, check=False)
    pairs = []
    for item in out.decode("utf-8", "surrogateescape").split("\0"):
        key, _, value = item.partition("\n")
        if key:
            pairs.append((key, value))
    return pairs


def load_config(work_tree: Path, *, committed: bytes | None = None) -> LazyConfig:
    """Merge ``.lazyconfig`` (from the work tree, or the given bytes) with git config."""
    cfg = LazyConfig()
    if committed is None:
        try:
            committed = (work_tree / LAZYCONFIG).read_bytes()
        except FileNotFoundError:
            committed = b""
    merged: dict[str, dict[str, str]] = {}
    from_file: dict[str, set[str]] = {}  # keys whose value still comes from .lazyconfig
    for name, keys in _read_committed(committed, cfg).items():
        url = keys.get("url", "")
        try:
            if parse_store_url(url, base=work_tree).has_password:
                cfg.ignored[name] = "it has a password in its URL"
                cfg.warnings.append(f"{LAZYCONFIG}: store {name!r} has a password in its URL; ignoring it")
                continue
        except ConfigError as exc:
            cfg.ignored[name] = str(exc)
            cfg.warnings.append(f"{LAZYCONFIG}: store {name!r}: {exc}")
            continue
        merged[name] = dict(keys)
        from_file[name] = set(keys)
    accepted: dict[str, dict[str, str]] = {}
    for key, value in _read_local(work_tree):
        # git lower-cases section and key but keeps the subsection: lazy.remote.<Name>.url
        rest = key[len("lazy."):]
        if rest.lower() in _TOP_KEYS:
            _set_top(cfg, rest.lower(), value)
        elif rest.lower() == "concurrency":
            cfg.concurrency = max(1, int(value)) if value.isdigit() else cfg.concurrency
        elif rest.lower() == "cachemax":
            try:
                cfg.cachemax = parse_size(value)
            except ConfigError:
                cfg.warnings.append(f"lazy.cachemax: {value!r} is not a size (e.g. 50G, 500M); ignoring it")
        elif rest.startswith("remote.") and "." in rest[len("remote."):]:
            name, _, sub_key = rest[len("remote."):].rpartition(".")
            if sub_key in _REMOTE_KEYS:
                merged.setdefault(name, {})[sub_key] = value
                from_file.get(name, set()).discard(sub_key)
            elif sub_key in _ACCEPTED:
                accepted.setdefault(name, {})[_ACCEPTED[sub_key]] = value
    for name, keys in merged.items():
        if "url" not in keys:
            continue
        agreed = accepted.get(name, {})
        unaccepted = tuple(k for k in sorted(from_file.get(name, ())) if agreed.get(k) != keys[k])
        cfg.remotes[name] = Remote(
            name, keys["url"], keys.get("endpoint") or None, name in from_file, unaccepted
        )
    return cfg

