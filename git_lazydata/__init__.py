"""git-lazy: large files next to your code, versioned by git, fetched lazily.

The Python API (``import git_lazydata as lazy``) is loaded on first use, so that
importing the package (as the filter does on every git command) stays cheap.
"""

from __future__ import annotations

from typing import Any

from .errors import LazyError

__all__ = ["LazyError", "__version__"]

__version__ = "0.1.0"

_API = {"track", "open", "ls", "log", "fetch", "push"}


def __getattr__(name: str) -> Any:
    """Resolve the public API lazily (PEP 562)."""
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'git_lazydata' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names and the API's, for completion in notebooks."""
    return sorted(set(globals()) | _API)
