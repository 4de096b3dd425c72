"""What the command modules of ``git lazy`` share: the repository, progress, sizes, warnings.

Each ``cli_*.py`` module holds a group of commands; this one has the few helpers they
all use, so that every command opens the repository, shows progress and writes sizes
and warnings the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .terminal import printable

if TYPE_CHECKING:
    from .context import Context
    from .progress import Progress

__all__ = ["context", "human", "progress", "say_held", "warn"]


def human(size: int) -> str:
    """Format a byte count as git-lfs does (``1.5 MB``), in binary units."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def context() -> Context:
    """The repository of the current folder."""
    from .context import Context

    return Context.open()


def warn(messages: list[str]) -> None:
    """One ``warning:`` line on stderr for each message."""
    for message in messages:
        click.echo(f"warning: {printable(message)}", err=True)


def say_held(held: list[tuple[str, str]]) -> None:
    """Say which stores named by the repository are not accepted for push, and how to accept them."""
    for name, folder in held:
        click.echo(f"Store {printable(name)!r} is a folder named by the repository ({printable(folder)}): "
                   f"not accepted for push; if you trust it, run 'git lazy remote accept {printable(name)}'.",
                   err=True)


def progress(label: str, quiet: bool) -> Progress:
    """The progress display of one long step (nothing with ``quiet``)."""
    from .progress import make_progress

    return make_progress(label, 0, 0, quiet)
