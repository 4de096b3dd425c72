"""What ``git lazy fsck`` reports: the kinds of problem, each Problem, and the result.

The checks (fsck_local.py, fsck_stores.py) add Problems to one FsckResult; fsck.py
runs them and the command line prints the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..progress import Progress

__all__ = [
    "CORRUPT", "MISSING", "NON_CANONICAL", "NOT_A_POINTER", "STORE_CORRUPT", "STORE_ERROR",
    "UNTRACKED_POINTER", "WRONG_SIZE", "FsckResult", "Problem", "ProgressFactory",
]

#: A cached object that does not hash to its oid (or cannot be read).
CORRUPT = "corrupt"
#: A pointer whose size is not the size of its object (the cached copy proves it).
WRONG_SIZE = "wrong-size"
#: ``--remote``: an object no store holds at its size.
MISSING = "missing"
#: ``--remote``: a store holds other bytes under the object's name.
STORE_CORRUPT = "store-corrupt"
#: ``--remote``: a store could not be asked, or could not read an object.
STORE_ERROR = "store-error"
#: ``--pointers``: a file under a lazy rule committed as content.
NOT_A_POINTER = "not-a-pointer"
#: ``--pointers``: a pointer in another encoding than the canonical one (CRLF line ends).
NON_CANONICAL = "non-canonical"
#: ``--pointers``: a pointer committed at a path that no lazy rule covers.
UNTRACKED_POINTER = "untracked-pointer"

#: Makes the progress of one long step from its label.
ProgressFactory = Callable[[str], Progress]


@dataclass
class Problem:
    """One thing wrong: its kind, the object (a git blob for pointer problems), where, and why.

    ``paths`` are the files that use the object (none for a cached object no file here
    uses); ``where`` is the local cache or a store's name; ``repaired`` says how it was
    put right, None while it is not.
    """

    kind: str
    oid: str
    paths: list[bytes] = field(default_factory=list)
    where: str = ""
    detail: str = ""
    repaired: str | None = None


@dataclass
class FsckResult:
    """What fsck checked, and every problem it found (repaired or not)."""

    problems: list[Problem] = field(default_factory=list)
    cached: int = 0  # objects hashed in the cache
    cached_bytes: int = 0
    referenced: int = 0  # distinct objects the checked files use
    files: int = 0  # files checked against the lazy rules (--pointers)
    stores: list[str] = field(default_factory=list)  # stores asked (--remote)
    read_bytes: int = 0  # bytes read from stores (--read-data)
    warnings: list[str] = field(default_factory=list)

    @property
    def unrepaired(self) -> list[Problem]:
        """The problems still there."""
        return [p for p in self.problems if p.repaired is None]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong any more."""
        return not self.unrepaired
