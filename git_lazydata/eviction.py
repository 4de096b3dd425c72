"""Keeping the cache within ``lazy.cachemax``: the least recently used objects go first.

Only objects that some store is known to hold (record.py) are ever evicted, so an
object that was never pushed stays whatever the bound. An evicted object is fetched
again when it is next needed. Runs after every fetch when ``lazy.cachemax`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cache import Cache
from .record import StoreRecord

__all__ = ["Eviction", "evict"]


@dataclass
class Eviction:
    """What :func:`evict` removed and what the cache holds after."""

    removed: int = 0
    freed: int = 0
    held: int = 0  # bytes in the cache after eviction
    over: bool = False  # still over the bound: what is left was never pushed

    def warning(self, limit: int) -> str | None:
        """The line to show when the bound could not be met, else None."""
        if not self.over:
            return None
        return (f"the cache holds {self.held} bytes, over lazy.cachemax ({limit} bytes): "
                "the rest is in no store yet; push it to let it go")


def evict(cache: Cache, limit: int) -> Eviction:
    """Remove least recently used objects that are safely in a store until the cache holds at most ``limit`` bytes."""
    listed = list(cache.list())
    result = Eviction(held=sum(o.size for o in listed))
    if result.held <= limit:
        return result
    record = StoreRecord(cache.root, "")
    try:
        safe = record.in_any_store(o.oid for o in listed)
    finally:
        record.close()
    for obj in sorted(listed, key=lambda o: o.used):
        if result.held <= limit:
            break
        if obj.oid in safe and cache.remove(obj.oid):
            result.removed += 1
            result.freed += obj.size
            result.held -= obj.size
    result.over = result.held > limit
    return result
