"""Store URLs: parse, validate and print them without leaking a password.

Accepted forms (DESIGN.md "Store URLs")::

    /abs/path   ./rel   ../rel   ~/rel   file:///abs/path      folder
    s3://bucket/prefix                                       S3, endpoint from options/env
    s3://user:password@host:port/bucket/prefix               S3-compatible endpoint
    s3+https://host/bucket/prefix   s3+http://host/bucket    the same, scheme forced
    ssh://[user@]host[:port]/abs/path   ssh://host/~/rel     SFTP
    [user@]host:path                                         scp style; relative = login dir

An ``s3://`` URL names an endpoint host (not a bucket) when it carries ``user@`` or a
``:port``. Its endpoint is ``https://`` for port 443 or no port, ``http://`` for any
other port (local MinIO is the common case); ``s3+https``/``s3+http`` force one.

This module is stdlib only: the CLI parses URLs without loading boto3 or paramiko.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from ..errors import ConfigError

__all__ = [
    "StoreURL",
    "check_credential",
    "parse_store_url",
    "redact",
    "register_secret",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST = re.compile(r"^(?:[A-Za-z0-9_.%-]+|\[[0-9A-Fa-f:.]+\])$")
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SCHEMES = {"file", "s3", "s3+http", "s3+https", "ssh"}
#: Hosts that, in scp style, are surely a URL scheme with a slash missing.
_TYPO_HOSTS = _SCHEMES | {"http", "https", "gs", "gcs", "az", "abfs", "sftp", "scp"}


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL; ``str()`` and ``repr()`` never show the password."""

    scheme: str  # "file" | "s3" | "ssh"
    path: str = ""  # folder: absolute; ssh: absolute, or relative to the login dir
    bucket: str = ""
    prefix: str = ""  # s3 key prefix without leading/trailing "/"
    host: str = ""  # s3: endpoint host (empty: AWS or configured endpoint); ssh: host or alias
    port: int | None = None
    user: str = ""
    # Not compared: a changed password does not make it another store.
    password: str = field(default="", repr=False, compare=False)
    secure: bool = True  # s3 endpoint scheme: https when True

    @property
    def has_password(self) -> bool:
        """Whether the URL carries a password (it must stay out of committed config)."""
        return bool(self.password)

    @property
    def endpoint(self) -> str | None:
        """The S3 endpoint named by the URL itself (``http(s)://host:port``), if any."""
        if self.scheme != "s3" or not self.host:
            return None
        netloc = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"{'https' if self.secure else 'http'}://{netloc}"

    def _netloc(self, password: str) -> str:
        auth = ""
        if self.user:
            auth = quote(self.user, safe="")
            if self.password:
                auth += ":" + password
            auth += "@"
        port = "" if self.port is None else f":{self.port}"
        return f"{auth}{self.host}{port}"

    def _render(self, password: str) -> str:
        if self.scheme == "file":
            return self.path
        if self.scheme == "s3":
            scheme = "s3"
            # Without user@ or :port, "s3://" would read the host as a bucket.
            bare = not self.user and self.port is None
            if self.host and (bare or self.secure != _default_secure(self.port)):
                scheme = "s3+https" if self.secure else "s3+http"
            tail = f"/{_quote_path(self.prefix)}" if self.prefix else ""
            netloc = self._netloc(password)
            head = f"{netloc}/{self.bucket}" if self.host else self.bucket
            return f"{scheme}://{head}{tail}"
        path = _quote_path(self.path)
        if not path.startswith("/"):
            path = "/~" if path == "." else f"/~/{path}"
        return f"ssh://{self._netloc(password)}{path}"

    def redacted(self) -> str:
        """Return the URL text with the password replaced by ``***``."""
        return self._render("***")

    def unredacted(self) -> str:
        """Return the full URL text, password included (for writing .git/config only)."""
        return self._render(quote(self.password, safe=""))

    def __str__(self) -> str:
        """Show the redacted URL."""
        return self.redacted()

    def __repr__(self) -> str:
        """Show the redacted URL."""
        return f"StoreURL({self.redacted()!r})"


def _quote_path(path: str) -> str:
    # Parsing unquotes paths, so a literal "%" (or a space) must be quoted to round-trip.
    return quote(path, safe="/~@:+=,")


def _default_secure(port: int | None) -> bool:
    return port is None or port == 443


def _fail(text: str, why: str) -> ConfigError:
    # The text may hold a password: show it only after redaction.
    return ConfigError(f"invalid store URL {redact(text)!r}: {why}")


def _check_host(text: str, host: str) -> str:
    if not host:
        raise _fail(text, "empty host")
    if host.startswith("-"):
        raise _fail(text, "host must not start with '-'")
    if not _HOST.match(host):
        raise _fail(text, f"bad host name {host!r}")
    return host


def _check_user(text: str, user: str) -> str:
    if user.startswith("-"):
        raise _fail(text, "user must not start with '-'")
    return user


def check_credential(value: str | None, what: str) -> None:
    """Refuse a credential holding CR, LF or NUL, without echoing it: such bytes would
    split the request or the header they are sent in."""
    if value and any(ch in value for ch in "\r\n\0"):
        raise ConfigError(f"{what} contains a newline, carriage return or NUL; refusing to send it")


def _split_netloc(text: str, netloc: str) -> tuple[str, str, str, int | None]:
    """Split ``user:password@host:port``; IPv6 hosts come in brackets."""
    userinfo, _, hostport = netloc.partition("@") if "@" in netloc else ("", "", netloc)
    user, _, password = userinfo.partition(":")
    port: int | None = None
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        host += "]"
        if rest and not rest.startswith(":"):
            raise _fail(text, "bad host")
        port_text = rest[1:]
    else:
        host, _, port_text = hostport.partition(":")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise _fail(text, f"bad port {port_text!r}")
        port = int(port_text)
    elif hostport.endswith(":"):
        raise _fail(text, "empty port")
    user, password = unquote(user), unquote(password)
    check_credential(user, "the user name in the store URL")
    check_credential(password, "the password in the store URL")
    return user, password, host, port


def _cut_netloc(rest: str) -> tuple[str, str]:
    """Split ``netloc/path``; AWS secrets hold raw "/", so ``user:pass/word@`` is one netloc."""
    login = re.match(r"^[^/@:]+:[^@]*@", rest)
    head = login.group(0) if login else ""
    netloc, slash, path = rest[len(head):].partition("/")
    return head + netloc, slash + path


def _parse_s3(text: str, scheme: str, rest: str) -> StoreURL:
    netloc, path = _cut_netloc(rest)
    path = path[1:]
    if scheme != "s3" or "@" in netloc or ":" in netloc:
        user, password, host, port = _split_netloc(text, netloc)
        _check_host(text, host)
        _check_user(text, user)
        if password and not user:
            raise _fail(text, "password without a user")
        bucket, _, prefix = path.partition("/")
        secure = {"s3+https": True, "s3+http": False}.get(scheme, _default_secure(port))
    else:
        user = password = host = ""
        port = None
        secure = True
        bucket, prefix = netloc, path
    if not bucket:
        raise _fail(text, "empty bucket")
    if not _BUCKET.match(bucket):
        raise _fail(text, f"bad bucket name {bucket!r}")
    parts = [p for p in unquote(prefix).split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise _fail(text, "'.' and '..' are not allowed in the prefix")
    if password:
        register_secret(password)
    return StoreURL(
        "s3", bucket=bucket, prefix="/".join(parts), host=host, port=port,
        user=user, password=password, secure=secure,
    )


def _ssh(text: str, user: str, password: str, host: str, port: int | None, path: str) -> StoreURL:
    _check_host(text, host)
    _check_user(text, user)
    if password:
        register_secret(password)
    if path in ("", "~", "/~"):
        path = "."
    elif path.startswith("/~/"):
        path = path[3:]
    elif path.startswith("~/"):
        path = path[2:]
    elif path.startswith(("~", "/~")):
        raise _fail(text, "'~user' paths are not supported")
    return StoreURL("ssh", path=path, host=host, port=port, user=user, password=password)


def _scp_split(text: str) -> tuple[str, str] | None:
    """Return (``[user@]host``, path) when ``text`` is scp style, as git decides it."""
    if text.startswith("["):  # [::1]:path or [host]:path
        end = text.find("]:")
        return (text[: end + 1], text[end + 2 :]) if end > 0 else None
    at = text.find("@")
    if at >= 0 and text[at + 1 : at + 2] == "[":
        end = text.find("]:", at)
        return (text[: end + 1], text[end + 2 :]) if end > 0 else None
    colon = text.find(":")
    slash = text.find("/")
    if colon <= 0 or (0 <= slash < colon):
        return None
    if colon == 1 and text[0].isalpha() and os.name == "nt":  # C:\ is a drive, not a host
        return None
    return text[:colon], text[colon + 1 :]


def parse_store_url(text: str, *, base: Path | None = None) -> StoreURL:
    """Parse a store URL or path; relative folder paths resolve against ``base`` (or cwd)."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("empty store URL")
    if _CONTROL.search(text):
        raise _fail(_CONTROL.sub("?", text), "control characters (CR, LF, NUL...) are not allowed")
    if text != text.strip():
        raise _fail(text, "leading or trailing spaces")
    scheme, sep, rest = text.partition("://")
    if sep and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", scheme):
        scheme = scheme.lower()
        if scheme not in _SCHEMES:
            raise _fail(text, f"unknown scheme {scheme!r} (use file://, s3:// or ssh://)")
        if scheme == "file":
            netloc, _, path = rest.partition("/")
            if netloc not in ("", "localhost"):
                raise _fail(text, "file:// URLs must be local (file:///abs/path)")
            return _folder(text, "/" + unquote(path), None)
        if scheme == "ssh":
            netloc, path = _cut_netloc(rest)
            user, password, host, port = _split_netloc(text, netloc)
            return _ssh(text, user, password, host, port, unquote(path))
        return _parse_s3(text, scheme, rest)
    if text.startswith(("/", "./", "../", "~")) or text in (".", ".."):
        return _folder(text, text, base)
    scp = _scp_split(text)
    if scp is not None:
        login, path = scp
        user, _, host = login.rpartition("@")
        if "@" in user or ":" in user:
            raise _fail(text, "bad user")
        # "s3:/bucket" or "file:/data" is a mistyped URL, not a host named "s3".
        if not user and host.lower() in _TYPO_HOSTS:
            raise _fail(text, f"did you mean {host.lower()}://{path.lstrip('/')}?")
        if not path:
            raise _fail(text, f"no folder after '{login}:' (write '{login}:.' for the login folder)")
        return _ssh(text, user, "", host, None, path)
    return _folder(text, text, base)


def _folder(text: str, path: str, base: Path | None) -> StoreURL:
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        path = os.path.join(str(base) if base is not None else os.getcwd(), path)
    return StoreURL("file", path=os.path.normpath(path))


# --- redaction --------------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_PATTERNS = [
    # scheme://user:password@  ->  scheme://user:***@
    # (a password may hold a raw "/": AWS secrets do)
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+):[^\s@]*@"), r"\1:***@"),
    (re.compile(r"(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s'\"]*", re.I), r"\1***"),
    # Header forms, as text or as a dict repr; the rest of the line goes, to be safe.
    (re.compile(r"(Authorization['\"]?\s*[:=]\s*)(?:'[^']*'|\"[^\"]*\"|[^\r\n]*)", re.I),
     r"\1***"),
    (re.compile(r"(X-Amz-Security-Token['\"]?\s*:\s*)(?:'[^']*'|\"[^\"]*\"|\S*)", re.I),
     r"\1***"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret (a password, key or token) so that :func:`redact` hides it."""
    # Very short values would blank out ordinary words in messages.
    if value and len(value) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    """Scrub secrets (URL passwords, AWS signatures, tokens, registered values) and escapes."""
    text = str(text)
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
        quoted = quote(secret, safe="")
        if quoted != secret and quoted in text:
            text = text.replace(quoted, "***")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    # Server-sent text may carry terminal escapes (RELIABILITY.md 1d): keep only \t and \n.
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "?", text)
