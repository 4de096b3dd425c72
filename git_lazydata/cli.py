"""The ``git lazy`` command line: parse, call an operation, render its result.

The single place that prints for users (with progress.py) and that turns a
LazyError into one line on stderr and an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from . import __version__
from .errors import LazyError
from .settings import trace_enabled

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])


def human(size: int) -> str:
    """Format a byte count as git-lfs does (``1.5 MB``), in binary units."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _safe(text: str) -> str:
    """Drop control characters from text that came from a repository or a remote."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="git-lazy")
def cli() -> None:
    """git-lazy: large files next to your code, fetched lazily."""


@cli.command()
@click.option("--global", "scope", flag_value="global", default=True, help="Set up for every repository of this user (default).")
@click.option("--local", "scope", flag_value="local", help="Set up this repository only.")
def install(scope: str) -> None:
    """Set up the filter driver and this repository's hooks."""
    from .ops.install import install as run

    result = run(scope)
    click.echo(f"git-lazy filter configured ({scope}).")
    for change in result.hooks:
        if change.action == "chained":
            click.echo(f"Hook {change.name}: kept your hook as {change.name}.pre-git-lazy; it still runs first.")
    if result.hooks:
        click.echo(f"Hooks installed in {result.hooks_dir}.")


@cli.command()
@click.option("--global", "scope", flag_value="global", default=True, help="Remove the user-wide setup (default).")
@click.option("--local", "scope", flag_value="local", help="Remove this repository's setup only.")
def uninstall(scope: str) -> None:
    """Remove the filter driver and our hooks (your own hooks are put back)."""
    from .ops.install import uninstall as run

    result = run(scope)
    click.echo(f"git-lazy filter removed ({scope}).")
    for change in result.hooks:
        click.echo(f"Hook {change.name}: {change.action}.")


@cli.command()
@click.argument("patterns", nargs=-1)
def track(patterns: tuple[str, ...]) -> None:
    """Track files matching PATTERNS (no argument: list tracked patterns)."""
    from .ops import track as ops

    if not patterns:
        click.echo("Listing tracked patterns")
        for pattern, source in ops.list_patterns():
            click.echo(f"    {_safe(pattern)} ({_safe(source)})")
        return
    result = ops.track(list(patterns))
    for pattern in result.changed:
        click.echo(f'Tracking "{pattern}"')
    for pattern in result.unchanged:
        click.echo(f'"{pattern}" already supported')


@cli.command()
@click.argument("patterns", nargs=-1, required=True)
def untrack(patterns: tuple[str, ...]) -> None:
    """Stop tracking files matching PATTERNS."""
    from .ops import track as ops

    result = ops.untrack(list(patterns))
    for pattern in result.changed:
        click.echo(f'Untracking "{pattern}"')
    for pattern in result.unchanged:
        click.echo(f'"{pattern}" was not tracked', err=True)


@cli.command("ls-files")
@click.option("-l", "--long", "long_", is_flag=True, help="Show the whole oid.")
@click.option("--rev", default=None, help="List the files of this revision instead of the index.")
@click.argument("paths", nargs=-1)
def ls_files(long_: bool, rev: str | None, paths: tuple[str, ...]) -> None:
    """List tracked files: oid, * (content here) or - (pointer only), path, size."""
    from .ops.ls_files import ls_files as run

    for f in run(list(paths), rev):
        oid = f.oid if long_ else f.oid[:10]
        click.echo(f"{oid} {'*' if f.present else '-'} {_safe(f.path)} ({human(f.size)})")


@cli.command()
@click.argument("paths", nargs=-1)
def checkout(paths: tuple[str, ...]) -> None:
    """Write pointer files' content from the local cache (no network)."""
    from .ops.checkout import checkout as run

    result = run(list(paths))
    for path, reason in result.skipped:
        click.echo(f"skipped {_safe(path.decode('utf-8', 'replace'))}: {reason}", err=True)
    if result.missing:
        click.echo(f"{len(result.missing)} file(s) not in the cache; 'git lazy fetch' gets them.", err=True)
    if result.skipped:
        raise LazyError(f"{len(result.skipped)} file(s) could not be written")


def main(argv: list[str]) -> int:
    """Run the command line; return the exit code."""
    try:
        cli.main(args=argv, prog_name="git-lazy", standalone_mode=False)
        return 0
    except LazyError as exc:
        if trace_enabled():
            raise
        sys.stderr.write(f"git-lazy: {_safe(str(exc))}\n")
        return exc.exit_code
    except click.exceptions.Abort:
        sys.stderr.write("git-lazy: interrupted\n")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("git-lazy: interrupted\n")
        return 130
    except OSError as exc:
        if trace_enabled():
            raise
        sys.stderr.write(f"git-lazy: {_safe(exc.strerror or str(exc))}{f': {exc.filename}' if exc.filename else ''}\n")
        return 1
