"""``git lazy`` commands that move objects: push, fetch, pull, clone, copy, and checkout from the cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .cli_common import context, human, progress, say_held, warn
from .errors import LazyError
from .terminal import path_text, printable

if TYPE_CHECKING:
    from .checkout import MaterializeResult
    from .sync import SyncResult

__all__ = ["checkout", "clone", "copy", "fetch", "pull", "push"]

#: -j, the same for every command that transfers.
_jobs = click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None,
                     help="Parallel transfers (default: lazy.concurrency, else 8; 32 for small S3 objects, "
                          "1 or 2 between local folders).")


def _render_checkout(result: MaterializeResult | None) -> None:
    if result is None:
        return
    for path, reason in result.skipped:
        click.echo(f"skipped {path_text(path)}: {printable(reason)}", err=True)


@click.command()
@click.argument("paths", nargs=-1)
def checkout(paths: tuple[str, ...]) -> None:
    """Write pointer files' content from the local cache (no network)."""
    from .ops.checkout import checkout as run

    result = run(context(), list(paths))
    _render_checkout(result)
    if result.missing:
        click.echo(f"{len(result.missing)} file(s) not in the cache; 'git lazy fetch' gets them.", err=True)
    if result.skipped:
        raise LazyError(f"{len(result.skipped)} file(s) could not be written")


def _failures(result: SyncResult, what: str) -> None:
    """One line per failed path, then raise the summary line."""
    from .stores.urls import redact

    for path, reason in result.failures():
        click.echo(f"failed: {path_text(path)}: {printable(redact(reason))}", err=True)
    if result.transfer.failed:
        raise LazyError(f"{len(result.transfer.failed)} object(s) could not be {what}")


@click.command()
@click.argument("store", required=False)
@click.argument("revs", nargs=-1)
@click.option("--all", "all_refs", is_flag=True,
              help="Every object any branch or tag references, each checked against the store.")
@_jobs
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def push(store: str | None, revs: tuple[str, ...], all_refs: bool, jobs: int | None, quiet: bool) -> None:
    """Upload to STORE what REVS (default HEAD, or --all) reference and it lacks."""
    from .ops.push import push as run

    result = run(context(), store, list(revs), all_refs=all_refs, jobs=jobs,
                 progress=progress(f"Uploading to {store or 'the default store'}", quiet))
    _render_sent(result, "Uploaded", "uploaded", quiet)


def _render_sent(result: SyncResult, done: str, verb: str, quiet: bool) -> None:
    """Warnings, then "<done> N object(s) (size) to STORE; M already there.", then each failure."""
    warn(result.warnings)
    if not quiet:
        click.echo(
            f"{done} {len(result.transfer.done)} object(s) ({human(result.transfer.bytes)}) to {result.store}; "
            f"{len(result.transfer.present)} already there.",
            err=True,
        )
    _failures(result, f"{verb} to {result.store}")


def _render_fetch(result: SyncResult, quiet: bool) -> None:
    warn(result.warnings)
    _render_checkout(result.checkout)
    if not quiet:
        written = len(result.checkout.written) if result.checkout else 0
        click.echo(
            f"Downloaded {len(result.transfer.done)} object(s) ({human(result.transfer.bytes)}); "
            f"{written} file(s) written.",
            err=True,
        )
    _failures(result, "downloaded")
    if result.checkout and result.checkout.skipped:
        raise LazyError(f"{len(result.checkout.skipped)} file(s) could not be written")


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--rev", default=None, help="Fetch the files of this revision into the cache only.")
@click.option("--all", "all_files", is_flag=True, help="Every tracked file.")
@click.option("--used-by", "scripts", multiple=True, metavar="SCRIPT",
              help="The files SCRIPT (.py or .ipynb) names in track() calls, read without running it (repeatable).")
@_jobs
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def fetch(paths: tuple[str, ...], rev: str | None, all_files: bool, scripts: tuple[str, ...], jobs: int | None,
          quiet: bool) -> None:
    """Download PATHS (files, folders or globs) from the stores and write them out."""
    from .ops.fetch import fetch as run

    names = list(paths)
    if scripts:
        from pathlib import Path

        from .ops.used_by import paths_used_by

        for script in scripts:
            found = paths_used_by(Path(script))
            if not found:
                raise LazyError(f"{script} names no file in a track() call")
            names += [f":(literal){name}" for name in found]
    result = run(context(), names, rev=rev, all_files=all_files, jobs=jobs,
                 progress=progress("Downloading", quiet))
    _render_fetch(result, quiet)


@click.command()
@click.argument("paths", nargs=-1)
@_jobs
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def pull(paths: tuple[str, ...], jobs: int | None, quiet: bool) -> None:
    """Fetch and write what lazy.fetchinclude/fetchexclude select (or PATHS)."""
    from .ops.pull import pull as run

    result = run(context(), list(paths), jobs=jobs, progress=progress("Downloading", quiet))
    _render_fetch(result, quiet)


@click.command()
@click.argument("url")
@click.argument("directory", required=False)
@click.option("-I", "--include", "include", multiple=True, help="Fetch only files matching this pattern (repeatable).")
@click.option("-X", "--exclude", "exclude", multiple=True, help="Never fetch files matching this pattern (repeatable).")
@_jobs
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def clone(url: str, directory: str | None, include: tuple[str, ...], exclude: tuple[str, ...],
          jobs: int | None, quiet: bool) -> None:
    """Clone URL into DIRECTORY and fetch only the included files."""
    from pathlib import Path

    from .ops.clone import clone as run

    result = run(url, directory, cwd=Path.cwd(), include=list(include), exclude=list(exclude),
                 quiet=quiet, jobs=jobs, progress=progress("Downloading", quiet))
    _render_fetch(result.fetched, quiet)
    say_held(result.held)


@click.command()
@click.option("--from", "source", required=True, metavar="STORE", help="The store to read from.")
@click.option("--to", "dest", required=True, metavar="STORE", help="The store to fill.")
@click.option("--rev", "revs", multiple=True, metavar="REV", help="What these revisions reference (repeatable; default HEAD).")
@click.option("--all", "all_refs", is_flag=True, help="What any branch or tag references.")
@_jobs
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def copy(source: str, dest: str, revs: tuple[str, ...], all_refs: bool, jobs: int | None, quiet: bool) -> None:
    """Copy the objects the repository references from one store to another.

    Objects stream from store to store without entering the local cache; between two
    buckets of one S3 service the copy happens on the server.
    """
    from .ops.copy import copy as run

    if revs and all_refs:
        raise LazyError("use --rev or --all, not both")
    result = run(context(), source, dest, list(revs), all_refs=all_refs, jobs=jobs,
                 progress=progress(f"Copying {source} to {dest}", quiet))
    _render_sent(result, "Copied", "copied", quiet)
