"""Progress on stderr for long transfers: objects, bytes and rate, when it is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

__all__ = ["Progress", "TerminalProgress", "make_progress"]


class Progress:
    """Counters that transfers update from many threads."""

    def __init__(self, label: str = "", total_objects: int = 0, total_bytes: int = 0) -> None:
        """Start counting towards the given totals."""
        self.label = label
        self.total_objects = total_objects
        self.total_bytes = total_bytes
        self.objects = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def add_bytes(self, n: int) -> None:
        """Count ``n`` more bytes moved."""
        with self._lock:
            self.bytes += n
        self.render()

    def object_done(self) -> None:
        """Count one more finished object."""
        with self._lock:
            self.objects += 1
        self.render()

    def render(self, final: bool = False) -> None:
        """Show the counters (no-op here)."""

    def finish(self) -> None:
        """Show the final line."""
        self.render(final=True)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class TerminalProgress(Progress):
    """Rewrites one status line on a terminal at most ten times a second."""

    def __init__(self, label: str, total_objects: int = 0, total_bytes: int = 0, stream: TextIO | None = None) -> None:
        """Render on ``stream`` (stderr by default)."""
        super().__init__(label, total_objects, total_bytes)
        self._stream = stream or sys.stderr
        self._start = time.monotonic()
        self._last = 0.0

    def render(self, final: bool = False) -> None:
        """Redraw the line when enough time has passed, or at the end."""
        now = time.monotonic()
        if not final and now - self._last < 0.1:
            return
        self._last = now
        elapsed = max(now - self._start, 1e-6)
        pct = f"{100 * self.bytes // self.total_bytes:3d}% " if self.total_bytes else ""
        line = (
            f"{self.label}: {pct}({self.objects}/{self.total_objects}), "
            f"{_size(self.bytes)} | {_size(self.bytes / elapsed)}/s"
        )
        self._stream.write("\r" + line + ("\n" if final else ""))
        self._stream.flush()


def make_progress(label: str, total_objects: int, total_bytes: int, quiet: bool = False) -> Progress:
    """A terminal renderer when stderr is a terminal and not ``quiet``; counters otherwise."""
    if not quiet and sys.stderr.isatty():
        return TerminalProgress(label, total_objects, total_bytes)
    return Progress(label, total_objects, total_bytes)
