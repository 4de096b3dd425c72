"""The ``git lazy`` command line: parse, call an operation, render its result.

The single place that prints for users (with progress.py) and that turns a
LazyError into one line on stderr and an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import LazyError
from .settings import trace_enabled

if TYPE_CHECKING:
    from .transfer import TransferResult

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
@click.option("--global", "scope", flag_value="global", default=True,
              help="Remove the user-wide setup and this repository's (default).")
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
    """List tracked files: oid, * content here, - pointer only, M modified, ! deleted; path, size."""
    from .ops.ls_files import MARKERS
    from .ops.ls_files import ls_files as run

    for f in run(list(paths), rev):
        oid = f.oid if long_ else f.oid[:10]
        click.echo(f"{oid} {MARKERS[f.state]} {_safe(f.path)} ({human(f.size)})")


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


@cli.group()
def remote() -> None:
    """Manage the stores of this repository."""


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--endpoint", default=None, help="S3-compatible endpoint, e.g. https://minio.example:9000.")
@click.option("--local", is_flag=True, help="Write to .git/config instead of the committed .lazyconfig.")
def remote_add(name: str, url: str, endpoint: str | None, local: bool) -> None:
    """Add store NAME at URL (folder, s3:// or ssh://)."""
    from .ops import remote as ops

    result = ops.add(name, url, endpoint=endpoint, local=local)
    if result.warning:
        click.echo(f"warning: {result.warning}", err=True)
    click.echo(f"Added store {name!r} to {result.where}.")


@remote.command("list")
def remote_list() -> None:
    """List stores in the order they are read."""
    from .ops import remote as ops
    from .stores.urls import redact

    cfg = ops.list_remotes()
    for message in cfg.warnings:
        click.echo(f"warning: {_safe(message)}", err=True)
    for r in cfg.remotes.values():
        flags = [w for w, on in (("default", r.name == cfg.default), ("committed", r.committed),
                                 ("not accepted for push", not r.pushable)) if on]
        extra = f" ({', '.join(flags)})" if flags else ""
        endpoint = f" endpoint={r.endpoint}" if r.endpoint else ""
        click.echo(f"{_safe(r.name)}\t{_safe(redact(r.url))}{endpoint}{extra}")


@remote.command("remove")
@click.argument("name")
def remote_remove(name: str) -> None:
    """Forget store NAME (nothing in the store is deleted)."""
    from .ops import remote as ops

    ops.remove(name)
    click.echo(f"Removed store {name!r}.")


@remote.command("default")
@click.argument("name")
@click.option("--local", is_flag=True, help="Only for this clone (.git/config).")
def remote_default(name: str, local: bool) -> None:
    """Make NAME the store that push uses."""
    from .ops import remote as ops

    ops.set_default(name, local=local)
    click.echo(f"Default store is now {name!r}.")


@remote.command("accept")
@click.argument("name")
def remote_accept(name: str) -> None:
    """Allow pushing to committed store NAME at its current URL."""
    from .ops import remote as ops
    from .stores.urls import redact

    r = ops.accept(name)
    click.echo(f"Pushing to {name!r} ({redact(r.url)}) is allowed from this clone.")


def _report(result: TransferResult) -> None:
    from .stores.urls import redact

    for oid, reason in sorted(result.failed.items()):
        click.echo(f"failed: {oid}: {_safe(redact(reason))}", err=True)


@cli.command()
@click.argument("store", required=False)
@click.argument("revs", nargs=-1)
@click.option("--all", "all_refs", is_flag=True, help="Every object referenced by any branch or tag.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Parallel transfers (default 8).")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def push(store: str | None, revs: tuple[str, ...], all_refs: bool, jobs: int | None, quiet: bool) -> None:
    """Upload to STORE what REVS (default HEAD, or --all) reference and it lacks."""
    from .ops.transfer_ops import push as run

    remote_, result, warnings = run(store, list(revs), all_refs=all_refs, jobs=jobs, quiet=quiet)
    for message in warnings:
        click.echo(f"warning: {_safe(message)}", err=True)
    _report(result)
    if not quiet:
        click.echo(
            f"Uploaded {len(result.done)} object(s) ({human(result.bytes)}) to {remote_.name}; "
            f"{len(result.present)} already there.",
            err=True,
        )
    if result.failed:
        raise LazyError(f"{len(result.failed)} object(s) could not be uploaded to {remote_.name}")


@cli.command()
@click.argument("paths", nargs=-1)
@click.option("--rev", default=None, help="Fetch the files of this revision into the cache only.")
@click.option("--all", "all_files", is_flag=True, help="Every tracked file.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Parallel transfers (default 8).")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def fetch(paths: tuple[str, ...], rev: str | None, all_files: bool, jobs: int | None, quiet: bool) -> None:
    """Download PATHS (files, folders or globs) from the stores and write them out."""
    from .ops.transfer_ops import fetch as run

    result = run(list(paths), rev=rev, all_files=all_files, jobs=jobs, quiet=quiet)
    for message in result.warnings:
        click.echo(f"warning: {_safe(message)}", err=True)
    _report(result.transfer)
    if result.checkout:
        for path, reason in result.checkout.skipped:
            click.echo(f"skipped {_safe(path.decode('utf-8', 'replace'))}: {reason}", err=True)
    if not quiet:
        written = len(result.checkout.written) if result.checkout else 0
        click.echo(
            f"Downloaded {len(result.transfer.done)} object(s) ({human(result.transfer.bytes)}); "
            f"{written} file(s) written.",
            err=True,
        )
    if result.transfer.failed:
        raise LazyError(f"{len(result.transfer.failed)} object(s) could not be downloaded")


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
        hint = " (see 'git lazy -h')" if isinstance(exc, click.UsageError) else ""
        sys.stderr.write(f"git-lazy: {_safe(exc.format_message())}{hint}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("git-lazy: interrupted\n")
        return 130
    except OSError as exc:
        if trace_enabled():
            raise
        sys.stderr.write(f"git-lazy: {_safe(exc.strerror or str(exc))}{f': {exc.filename}' if exc.filename else ''}\n")
        return 1
    except Exception as exc:  # a bug: still one line, the traceback on request
        if trace_enabled():
            raise
        from .stores.urls import redact

        sys.stderr.write(
            f"git-lazy: internal error: {type(exc).__name__}: {_safe(redact(str(exc)))} "
            "(run again with GIT_LAZY_TRACE=1 for the traceback)\n"
        )
        return 3
