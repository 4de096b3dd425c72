"""Stores: where objects live outside this machine.

A store moves bytes by oid and nothing more. Dedup, concurrency, retries, hash
verification and progress live once, in :mod:`git_lazydata.transfer`. Every kind of
store keeps the same layout under its root::

    <root>/objects/ab/cd/<oid>     # ab, cd = first four hex digits of the oid
    <root>/git-lazy.json           # {"format": 1}; written on first push

Backends are named by a string and imported on first use, so ``import
git_lazydata.stores`` never loads boto3 or paramiko.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from typing import BinaryIO, Protocol

from ..errors import ConfigError
from .base import ProgressFn, Source
from .urls import StoreURL, redact

__all__ = ["Store", "open_store", "s3_endpoint", "store_ident"]


class Store(Protocol):
    """What every kind of store offers. Methods may be called from several threads.

    A store is also a source (base.Source) for another store's ``upload``: copying
    between stores streams from one to the other, through nothing on this machine.
    """

    url: StoreURL
    #: Names where the objects live (no secret in it): the key of record.py.
    ident: str
    #: Names the store in messages (its redacted URL).
    where: str
    #: What the store saw and left alone, for the user (a name in a listing that is not an object).
    warnings: list[str]

    def missing(self, objects: Mapping[str, int]) -> set[str]:
        """Return the oids of ``objects`` (oid -> size) that the store lacks or holds at another size."""

    def upload(self, oid: str, size: int, source: Source, progress: ProgressFn) -> None:
        """Copy object ``oid`` from ``source`` into the store, reading it through a hash check; visible only once complete."""

    def open(self, oid: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """Open bytes ``[start, end)`` of an object for reading; raise ObjectMissing."""

    def list(self) -> Iterator[tuple[str, int]]:
        """Yield (oid, size) of every object held; names that are not objects go to ``warnings``."""

    def delete(self, oid: str) -> bool:
        """Remove an object (repair, prune of a store); return False if it was not there."""

    def sweep(self, max_age: float) -> int:
        """Remove what uploads that died at least ``max_age`` seconds ago left; return how many."""

    def prepare_push(self) -> None:
        """Check the store's ``git-lazy.json`` before a push, writing it when absent."""

    def close(self) -> None:
        """Release connections."""


def s3_endpoint(url: StoreURL, endpoint: str | None = None) -> str | None:
    """The endpoint an S3 store talks to: the URL's own host > the ``endpoint`` key > the environment."""
    from .s3_credentials import endpoint_from_env  # standard library only

    return url.endpoint or endpoint or endpoint_from_env()


def store_ident(url: StoreURL, endpoint: str | None = None) -> str:
    """Name where a store's objects live, without secrets (the key of record.py)."""
    if url.scheme == "file":
        return f"file://{os.path.realpath(url.path)}"
    if url.scheme == "s3":
        return f"s3://{redact(s3_endpoint(url, endpoint) or 'aws')}/{url.bucket}/{url.prefix}"
    host = url.host if url.port is None else f"{url.host}:{url.port}"
    user = f"{url.user}@" if url.user else ""
    return f"ssh://{user}{host}/{url.path}"


# scheme -> (module, class, what to install when the import fails)
_BACKENDS = {
    "file": ("git_lazydata.stores.folder", "FolderStore", None),
    "s3": ("git_lazydata.stores.s3", "S3Store", "boto3"),
    "ssh": ("git_lazydata.stores.ssh", "SSHStore", "paramiko"),
}


def open_store(url: StoreURL, **options: str) -> Store:
    """Return a store for a parsed URL; ``options`` are per-store config keys (``endpoint``)."""
    module_name, class_name, package = _BACKENDS[url.scheme]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        if package is None:
            raise
        raise ConfigError(
            f"{url.scheme} stores need the '{package}' package: pip install {package}"
        ) from exc
    cls = getattr(module, class_name)
    store: Store = cls(url, **options)
    return store
