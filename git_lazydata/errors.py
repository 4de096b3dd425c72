"""Errors that git-lazy raises on purpose.

Every error a user can meet is a :class:`LazyError`: the command line prints its
message as one line on stderr and exits with its ``exit_code``. Anything else is a
bug and shows a traceback only under ``GIT_LAZY_TRACE=1``.
"""

from __future__ import annotations

__all__ = [
    "BadOid",
    "ChecksumMismatch",
    "ConfigError",
    "LazyError",
    "NotFound",
    "ObjectMissing",
    "StoreAuthError",
    "StoreError",
    "StoreUnreachable",
    "TransientStoreError",
]


class LazyError(Exception):
    """An error with a message meant for the user."""

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        """Keep ``message``; ``exit_code`` overrides the class default."""
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class NotFound(LazyError, FileNotFoundError):
    """A path or revision the user named is not there (also a FileNotFoundError, for fsspec and pandas)."""


class ConfigError(LazyError):
    """A configuration value is missing, malformed or not allowed."""


class BadOid(LazyError):
    """Text that should name an object is not 64 lowercase hex digits."""

    def __init__(self, text: object) -> None:
        """Show at most 80 characters of the text, escaped."""
        super().__init__(f"refusing a malformed oid {str(text)[:80]!r}")


class ObjectMissing(LazyError):
    """An object is not where it was looked for (the cache or a store)."""

    def __init__(self, oid: str, where: str, path: str | None = None) -> None:
        """Say which object is missing from which place (and which file it is the content of)."""
        super().__init__(f"{path + ': ' if path else ''}object {oid} is not in {where}")
        self.oid = oid
        self.where = where


class ChecksumMismatch(LazyError):
    """Bytes did not hash to the oid they were meant to have."""

    def __init__(self, expected: str, got: str, size: int, where: str = "") -> None:
        """Record both hashes and how many bytes were read."""
        origin = f" from {where}" if where else ""
        super().__init__(f"expected sha256 {expected}, got {got} after {size} bytes{origin}")
        self.expected = expected
        self.got = got
        self.size = size


class StoreError(LazyError):
    """A store refused or failed a request; not worth retrying."""


class StoreAuthError(StoreError):
    """Credentials are missing, wrong or expired, or the host key is not trusted."""


class RangeNotHonoured(StoreError):
    """A store answered a ranged read with other bytes than those asked for (or all of them)."""


class StoreUnreachable(StoreError):
    """The store could not be reached at all."""


class TransientStoreError(StoreError):
    """A failure that may go away on retry (timeouts, 5xx, throttling, dropped links).

    ``retry_after``: the seconds the store asked to wait first (HTTP ``Retry-After``).
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        """Keep the message and the store's own wait, if it gave one."""
        super().__init__(message)
        self.retry_after = retry_after
