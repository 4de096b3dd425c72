"""What each store is known to hold, so that a push asks the store only about new objects.

A push of one new file in a repository with 10,000 tracked files should not ask the
store about the other 9,999. After every transfer, the oids that a store was seen to
hold (uploaded, found present, or downloaded from it) are recorded here, per store,
in one SQLite file next to the object cache (``<cache>/stores.db``), shared by every
repository of the user, since stores are. Objects in a store are immutable and
named by their hash, so a record only goes stale when someone deletes objects from
the store by hand; ``git lazy push --all`` asks the store about every object again
and repairs that.

A record that cannot be read or written (a read-only cache, a damaged file) is
never an error: the push then asks the store, as it would without a record.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3  # imported when a record is first opened: hooks that need none skip it

__all__ = ["StoreRecord"]

#: Oids per query: SQLite allows 32,766 parameters, older builds 999.
_BATCH = 900


class StoreRecord:
    """The oids known to be in one store (``store`` names it; no secret in it)."""

    def __init__(self, cache_root: Path, store: str) -> None:
        """Open the record; nothing is read until asked."""
        self.path = Path(cache_root) / "stores.db"
        self.store = store
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        import sqlite3

        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
                db.execute(
                    "CREATE TABLE IF NOT EXISTS present (store TEXT NOT NULL, oid TEXT NOT NULL,"
                    " PRIMARY KEY (store, oid)) WITHOUT ROWID"
                )
                self._db = db
            except (sqlite3.Error, OSError):
                self._broken = True
        return self._db

    def known(self, oids: Iterable[str]) -> set[str]:
        """Return the oids among ``oids`` that the store is known to hold."""
        return self._select("SELECT oid FROM present WHERE store = ? AND oid IN ({})", oids, self.store)

    def in_any_store(self, oids: Iterable[str]) -> set[str]:
        """Return the oids among ``oids`` that any store at all is known to hold (not only this one)."""
        return self._select("SELECT DISTINCT oid FROM present WHERE oid IN ({})", oids)

    def _select(self, query: str, oids: Iterable[str], *first: str) -> set[str]:
        """Run ``query`` (its ``{}`` becomes the placeholders of a batch of oids) over all of ``oids``."""
        wanted = list(dict.fromkeys(oids))
        db = self._connect() if wanted else None
        if db is None:
            return set()
        import sqlite3

        found: set[str] = set()
        try:
            for i in range(0, len(wanted), _BATCH):
                part = wanted[i : i + _BATCH]
                rows = db.execute(query.format(",".join("?" * len(part))), (*first, *part))
                found.update(row[0] for row in rows)
        except sqlite3.Error:
            return set()
        return found

    def add(self, oids: Iterable[str]) -> None:
        """Remember that the store holds ``oids``."""
        self._change("INSERT OR IGNORE INTO present (store, oid) VALUES (?, ?)", oids)

    def forget(self, oids: Iterable[str]) -> None:
        """Forget ``oids`` (the store was found not to hold them)."""
        self._change("DELETE FROM present WHERE store = ? AND oid = ?", oids)

    def _change(self, statement: str, oids: Iterable[str]) -> None:
        """Run ``statement`` for each of ``oids`` (with this store) in one transaction."""
        rows = [(self.store, oid) for oid in dict.fromkeys(oids)]
        db = self._connect() if rows else None
        if db is None:
            return
        import sqlite3

        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(statement, rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error:
            pass  # a record is an optimisation: the next push asks the store instead

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
            self._db = None
