"""The ``git lazy`` command line: parse, call an operation, render its result.

The single place that prints for users (with progress.py) and that turns a
LazyError into one line on stderr and an exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import LazyError
from .settings import trace_enabled
from .terminal import path_text, printable

if TYPE_CHECKING:
    from .checkout import MaterializeResult
    from .context import Context
    from .ops.remote import AddResult
    from .progress import Progress
    from .sync import SyncResult

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


def _context() -> Context:
    """The repository of the current folder."""
    from .context import Context

    return Context.open()


def _warn(messages: list[str]) -> None:
    for message in messages:
        click.echo(f"warning: {printable(message)}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="git-lazy")
def cli() -> None:
    """git-lazy: large files next to your code, fetched lazily."""


@cli.command()
@click.option("--global", "scope", flag_value="global", default=True, help="Set up for every repository of this user (default).")
@click.option("--local", "scope", flag_value="local", help="Set up this repository only.")
def install(scope: str) -> None:
    """Set up the filter and merge drivers and this repository's hooks."""
    from .context import Context
    from .ops.install import install as run

    result = run(Context.find(), scope)
    click.echo(f"git-lazy filter configured ({scope}).")
    for change in result.hooks:
        if change.action == "chained":
            click.echo(f"Hook {change.name}: kept your hook as {change.name}.pre-git-lazy; it still runs first.")
    if result.hooks:
        click.echo(f"Hooks installed in {result.hooks_dir}.")
    _say_held(result.held)


def _say_held(held: list[tuple[str, str]]) -> None:
    for name, folder in held:
        click.echo(f"Store {printable(name)!r} is a folder named by the repository ({printable(folder)}): "
                   f"not accepted for push; if you trust it, run 'git lazy remote accept {printable(name)}'.",
                   err=True)


@cli.command()
@click.option("--global", "scope", flag_value="global", default=True,
              help="Remove the user-wide setup and this repository's (default).")
@click.option("--local", "scope", flag_value="local", help="Remove this repository's setup only.")
def uninstall(scope: str) -> None:
    """Remove the filter driver and our hooks (your own hooks are put back)."""
    from .context import Context
    from .ops.install import uninstall as run

    result = run(Context.find(), scope)
    click.echo(f"git-lazy filter removed ({scope}).")
    for change in result.hooks:
        click.echo(f"Hook {change.name}: {change.action}.")


@cli.command()
@click.argument("patterns", nargs=-1)
def track(patterns: tuple[str, ...]) -> None:
    """Track files matching PATTERNS (no argument: list tracked patterns)."""
    from .ops import track as ops

    ctx = _context()
    if not patterns:
        click.echo("Listing tracked patterns")
        for pattern, source in ops.list_patterns(ctx):
            click.echo(f"    {printable(pattern)} ({printable(source)})")
        return
    result = ops.track(ctx, list(patterns))
    for pattern in result.changed:
        click.echo(f'Tracking "{printable(pattern)}"')
    for pattern in result.unchanged:
        click.echo(f'"{printable(pattern)}" already supported')


@cli.command()
@click.argument("patterns", nargs=-1, required=True)
def untrack(patterns: tuple[str, ...]) -> None:
    """Stop tracking files matching PATTERNS."""
    from .ops import track as ops

    result = ops.untrack(_context(), list(patterns))
    for pattern in result.changed:
        click.echo(f'Untracking "{printable(pattern)}"')
    for pattern in result.unchanged:
        click.echo(f'"{printable(pattern)}" was not tracked', err=True)


@cli.command("ls-files")
@click.option("-l", "--long", "long_", is_flag=True, help="Show the whole oid.")
@click.option("--rev", default=None, help="List the files of this revision (content here = in the cache).")
@click.option("--tree", "as_tree", is_flag=True, help="Show folders as an indented tree with their total sizes.")
@click.argument("paths", nargs=-1)
def ls_files(long_: bool, rev: str | None, as_tree: bool, paths: tuple[str, ...]) -> None:
    """List tracked files: oid, * content here, - pointer only, M modified, ! deleted; path, size."""
    from .ops.ls_files import MARKERS
    from .ops.ls_files import ls_files as run

    files = run(_context(), list(paths), rev)
    if as_tree:
        _render_tree(files)
        return
    for f in files:
        oid = f.oid if long_ else f.oid[:10]
        click.echo(f"{oid} {MARKERS[f.state]} {printable(f.path)} ({human(f.size)})")


def _render_tree(files: list[Any]) -> None:
    """Folders with their file count and total size, files indented below, with markers."""
    from .ops.ls_files import MARKERS

    totals: dict[str, list[int]] = {}  # folder -> [files, bytes]
    for f in files:
        parts = f.path.split("/")[:-1]
        for depth in range(len(parts) + 1):
            total = totals.setdefault("/".join(parts[:depth]), [0, 0])
            total[0] += 1
            total[1] += f.size
    shown: set[str] = {""}
    for f in sorted(files, key=lambda f: f.path.split("/")):
        parts = f.path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in shown:
                shown.add(folder)
                count, size = totals[folder]
                click.echo(f"{'    ' * (depth - 1)}{printable(parts[depth - 1])}/ "
                           f"({count} file{'s' if count != 1 else ''}, {human(size)})")
        click.echo(f"{'    ' * (len(parts) - 1)}{MARKERS[f.state]} {printable(parts[-1])} ({human(f.size)})")
    if files:
        count, size = totals[""]
        click.echo(f"{count} file{'s' if count != 1 else ''}, {human(size)}")


@cli.command()
@click.argument("path")
@click.option("-l", "--long", "long_", is_flag=True, help="Show whole commit names and oids.")
def log(path: str, long_: bool) -> None:
    """The versions of the file PATH through history: commit, date, size, oid."""
    from .ops.log import versions

    for v in versions(_context(), path):
        commit = v.commit if long_ else v.commit[:10]
        if v.kind == "deleted":
            what = "deleted"
        else:
            oid = (v.oid if long_ else v.oid[:10]) if v.oid else "in git"
            what = f"{human(v.size or 0):>10} {oid}"
        click.echo(f"{commit} {v.date} {what}  {printable(v.subject)}")


@cli.group()
def migrate() -> None:
    """Move existing files, or a git-lfs repository, to git-lazy."""


@migrate.command("import")
@click.option("-I", "--include", "includes", multiple=True, required=True, metavar="GLOB",
              help="Files to turn into pointers, as .gitattributes patterns from the top (repeatable).")
@click.option("--everything", is_flag=True, help="Rewrite every local branch and tag, not only the current branch.")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def migrate_import(includes: tuple[str, ...], everything: bool, quiet: bool) -> None:
    """Rewrite history so that files matching GLOB become pointers, their content in the cache."""
    from .ops.migrate import import_history

    result = import_history(_context(), list(includes), everything=everything,
                            progress=_progress("Rewriting commits", quiet))
    for update in result.refs:
        click.echo(f"{printable(update.ref)}\t{update.old} -> {update.new}")
    if not quiet:
        click.echo(f"Rewrote {result.commits} commit(s); {result.objects} file version(s) "
                   f"({human(result.bytes)}) moved into the cache, ready for 'git lazy push'.", err=True)


@migrate.command("from-lfs")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def migrate_from_lfs(quiet: bool) -> None:
    """Adopt a git-lfs repository as it is: rules, objects and filter (no commit changes)."""
    from .ops.from_lfs import from_lfs

    result = from_lfs(_context(), progress=_progress("Copying git-lfs objects", quiet))
    click.echo(f"Copied {result.copied} git-lfs object(s) ({human(result.bytes)}) into the cache; "
               f"{result.present} already there.")
    click.echo("The git-lfs filter of this clone now runs git-lazy, so older commits check out as before.")
    if result.lazy_driver_added:
        click.echo("git-lazy's own filter was not set up: it is now, in .git/config.")
    if result.attributes:
        files = " ".join(printable(name) for name in result.attributes)
        click.echo(f"Switched {result.rules} rule(s) from lfs to lazy in {files}; commit that:")
        click.echo(f"    git add {files} && git commit -m 'Track data files with git-lazy'")
    else:
        click.echo("No .gitattributes rule names git-lfs.")
    if result.lfs_hooks:
        click.echo(f"warning: these hooks still run git-lfs: {', '.join(printable(h) for h in result.lfs_hooks)}; "
                   "remove them ('git lfs uninstall --local'), then run 'git lazy install'", err=True)
    for name, reason in result.failed:
        click.echo(f"failed: {printable(name)}: {printable(reason)}", err=True)
    if result.failed:
        raise LazyError(f"{len(result.failed)} git-lfs object(s) could not be copied")


def _render_checkout(result: MaterializeResult | None) -> None:
    if result is None:
        return
    for path, reason in result.skipped:
        click.echo(f"skipped {path_text(path)}: {printable(reason)}", err=True)


@cli.command()
@click.argument("paths", nargs=-1)
def checkout(paths: tuple[str, ...]) -> None:
    """Write pointer files' content from the local cache (no network)."""
    from .ops.checkout import checkout as run

    result = run(_context(), list(paths))
    _render_checkout(result)
    if result.missing:
        click.echo(f"{len(result.missing)} file(s) not in the cache; 'git lazy fetch' gets them.", err=True)
    if result.skipped:
        raise LazyError(f"{len(result.skipped)} file(s) could not be written")


@cli.command()
@click.option("--pointers", is_flag=True,
              help="Also find files under a lazy rule committed as content, and pointers outside every rule.")
@click.option("--remote", "remote_", is_flag=True,
              help="Also check that every object is in a store at its size (one bulk request per store).")
@click.option("--read-data", is_flag=True,
              help="With --remote, also download and hash every object from every store that has it.")
@click.option("--repair", is_flag=True,
              help="Fetch corrupt cached objects again; replace corrupt store objects from the cache.")
@click.option("--all", "all_refs", is_flag=True, help="Every commit of every ref, not only HEAD's files.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary.")
def fsck(pointers: bool, remote_: bool, read_data: bool, repair: bool, all_refs: bool, quiet: bool) -> None:
    """Verify the cache, the pointers of HEAD (or --all) and, with --remote, the stores."""
    from .ops.fsck import CORRUPT, STORE_CORRUPT
    from .ops.fsck import fsck as run

    result = run(_context(), pointers=pointers, remote=remote_, read_data=read_data, repair=repair,
                 all_refs=all_refs, progress=lambda label: _progress(label, quiet))
    _warn(result.warnings)
    for p in result.problems:
        path = path_text(p.paths[0]) if p.paths else "-"
        more = f" (and {len(p.paths) - 1} more)" if len(p.paths) > 1 else ""
        where = f", in {printable(p.where)}" if p.where else ""
        oid = f"{p.oid}{where}" if p.oid else where.removeprefix(", ")
        fixed = f"; repaired: {p.repaired}" if p.repaired else ""
        click.echo(f"{p.kind}: {path}{more} ({oid}): {printable(p.detail)}{fixed}")
    checked = [f"{result.cached} cached object(s) ({human(result.cached_bytes)})",
               f"{result.referenced} object(s) used by {'every ref' if all_refs else 'HEAD'}"]
    if pointers:
        checked.append(f"{result.files} file(s) against the lazy rules")
    if result.stores:
        read = f", {human(result.read_bytes)} read" if read_data else ""
        checked.append(f"{len(result.stores)} store(s){read}")
    repaired = len(result.problems) - len(result.unrepaired)
    if not quiet:
        click.echo(f"Checked {', '.join(checked)}: {len(result.problems)} problem(s)"
                   f"{f', {repaired} repaired' if repair else ''}.")
    if result.unrepaired:
        fixable = any(p.kind in (CORRUPT, STORE_CORRUPT) for p in result.unrepaired)
        hint = "; 'git lazy fsck --repair' replaces corrupt copies from good ones" if fixable and not repair else ""
        raise LazyError(f"{len(result.unrepaired)} problem(s){' left' if repair else ''}{hint}")


@cli.group()
def remote() -> None:
    """Manage the stores of this repository."""


def _render_added(name: str, result: AddResult, verb: str) -> None:
    if result.warning:
        click.echo(f"warning: {result.warning}", err=True)
    if result.created:
        click.echo(f"Created the store folder {printable(result.created)}.")
    click.echo(f"{verb} store {name!r} in {result.where}.")


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--endpoint", default=None, help="S3-compatible endpoint, e.g. https://minio.example:9000.")
@click.option("--local", is_flag=True, help="Write to .git/config instead of the committed .lazyconfig.")
def remote_add(name: str, url: str, endpoint: str | None, local: bool) -> None:
    """Add store NAME at URL (folder, s3:// or ssh://)."""
    from .ops import remote as ops

    _render_added(name, ops.add(_context(), name, url, endpoint=endpoint, local=local), "Added")


@remote.command("set-url")
@click.argument("name")
@click.argument("url")
@click.option("--endpoint", default=None, help="S3-compatible endpoint, e.g. https://minio.example:9000.")
def remote_set_url(name: str, url: str, endpoint: str | None) -> None:
    """Change the URL of store NAME (where it is defined)."""
    from .ops import remote as ops

    _render_added(name, ops.set_url(_context(), name, url, endpoint=endpoint), "Changed")


@remote.command("list")
def remote_list() -> None:
    """List stores in the order they are read."""
    from .ops import remote as ops
    from .stores.urls import redact

    cfg = ops.list_remotes(_context())
    _warn(cfg.warnings)
    for r in cfg.remotes.values():
        flags = [w for w, on in (("default", r.name == cfg.default), ("committed", r.committed),
                                 ("not accepted for push", not r.pushable)) if on]
        extra = f" ({', '.join(flags)})" if flags else ""
        endpoint = f" endpoint={printable(redact(r.endpoint))}" if r.endpoint else ""
        click.echo(f"{printable(r.name)}\t{printable(redact(r.url))}{endpoint}{extra}")


@remote.command("remove")
@click.argument("name")
def remote_remove(name: str) -> None:
    """Forget store NAME (nothing in the store is deleted)."""
    from .ops import remote as ops

    ops.remove(_context(), name)
    click.echo(f"Removed store {name!r}.")


@remote.command("default")
@click.argument("name")
@click.option("--local", is_flag=True, help="Only for this clone (.git/config).")
def remote_default(name: str, local: bool) -> None:
    """Make NAME the store that push uses."""
    from .ops import remote as ops

    ops.set_default(_context(), name, local=local)
    click.echo(f"Default store is now {name!r}.")


@remote.command("accept")
@click.argument("name")
def remote_accept(name: str) -> None:
    """Allow pushing to committed store NAME at its current URL."""
    from .ops import remote as ops
    from .stores.urls import redact

    r = ops.accept(_context(), name)
    click.echo(f"Pushing to {name!r} ({printable(redact(r.url))}) is allowed from this clone.")


def _failures(result: SyncResult, what: str) -> None:
    """One line per failed path, then raise the summary line."""
    from .stores.urls import redact

    for path, reason in result.failures():
        click.echo(f"failed: {path_text(path)}: {printable(redact(reason))}", err=True)
    if result.transfer.failed:
        raise LazyError(f"{len(result.transfer.failed)} object(s) could not be {what}")


def _progress(label: str, quiet: bool) -> Progress:
    from .progress import make_progress

    return make_progress(label, 0, 0, quiet)


@cli.command()
@click.argument("store", required=False)
@click.argument("revs", nargs=-1)
@click.option("--all", "all_refs", is_flag=True,
              help="Every object any branch or tag references, each checked against the store.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Parallel transfers (default 8).")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def push(store: str | None, revs: tuple[str, ...], all_refs: bool, jobs: int | None, quiet: bool) -> None:
    """Upload to STORE what REVS (default HEAD, or --all) reference and it lacks."""
    from .ops.push import push as run

    result = run(_context(), store, list(revs), all_refs=all_refs, jobs=jobs,
                 progress=_progress(f"Uploading to {store or 'the default store'}", quiet))
    _warn(result.warnings)
    if not quiet:
        click.echo(
            f"Uploaded {len(result.transfer.done)} object(s) ({human(result.transfer.bytes)}) to {result.store}; "
            f"{len(result.transfer.present)} already there.",
            err=True,
        )
    _failures(result, f"uploaded to {result.store}")


def _render_fetch(result: SyncResult, quiet: bool) -> None:
    _warn(result.warnings)
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


@cli.command()
@click.argument("paths", nargs=-1)
@click.option("--rev", default=None, help="Fetch the files of this revision into the cache only.")
@click.option("--all", "all_files", is_flag=True, help="Every tracked file.")
@click.option("--used-by", "scripts", multiple=True, metavar="SCRIPT",
              help="The files SCRIPT (.py or .ipynb) names in track() calls, read without running it (repeatable).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Parallel transfers (default 8).")
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
    result = run(_context(), names, rev=rev, all_files=all_files, jobs=jobs,
                 progress=_progress("Downloading", quiet))
    _render_fetch(result, quiet)


@cli.command()
@click.argument("paths", nargs=-1)
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Parallel transfers (default 8).")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def pull(paths: tuple[str, ...], jobs: int | None, quiet: bool) -> None:
    """Fetch and write what lazy.fetchinclude/fetchexclude select (or PATHS)."""
    from .ops.pull import pull as run

    result = run(_context(), list(paths), jobs=jobs, progress=_progress("Downloading", quiet))
    _render_fetch(result, quiet)


@cli.command()
@click.argument("url")
@click.argument("directory", required=False)
@click.option("-I", "--include", "include", multiple=True, help="Fetch only files matching this pattern (repeatable).")
@click.option("-X", "--exclude", "exclude", multiple=True, help="Never fetch files matching this pattern (repeatable).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Parallel transfers (default 8).")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def clone(url: str, directory: str | None, include: tuple[str, ...], exclude: tuple[str, ...],
          jobs: int | None, quiet: bool) -> None:
    """Clone URL into DIRECTORY and fetch only the included files."""
    from pathlib import Path

    from .ops.clone import clone as run

    result = run(url, directory, cwd=Path.cwd(), include=list(include), exclude=list(exclude),
                 quiet=quiet, jobs=jobs, progress=_progress("Downloading", quiet))
    _render_fetch(result.fetched, quiet)
    _say_held(result.held)


def _quote(path: str) -> str:
    """Quote a path for porcelain output as git does (C style, only when needed)."""
    if path.isprintable() and not any(ch in path for ch in '"\\'):
        return path
    return '"' + printable(path.replace("\\", "\\\\").replace('"', '\\"')) + '"'


@cli.command()
@click.option("--porcelain", is_flag=True, help="Stable output for scripts: one line per file.")
def status(porcelain: bool) -> None:
    """Tracked files present, still pointers or modified, and what a push would upload."""
    from .ops.status import status as run

    st = run(_context())
    if porcelain:
        for f in st.files:
            click.echo(f"{f.state} {f.oid} {f.size} {_quote(f.path)}")
        for e in st.to_push:
            click.echo(f"push {e.pointer.oid} {e.pointer.size} {_quote(os.fsdecode(e.path))}")
        return
    labels = (("present", "content here"), ("pointer", "pointers only (not fetched)"),
              ("modified", "modified"), ("missing", "deleted"))
    click.echo("Tracked files:")
    for state, label in labels:
        files = st.by_state(state)
        click.echo(f"  {len(files):>7} {label:<28} {human(sum(f.size for f in files)):>10}")
    for f in st.by_state("modified") + st.by_state("missing"):
        click.echo(f"      {'M' if f.state == 'modified' else '!'} {printable(f.path)}")
    where = st.store or "a store (none configured: 'git lazy remote add NAME URL')"
    size = human(sum(e.pointer.size for e in st.to_push))
    click.echo(f"Objects to push to {where}: {len(st.to_push)} ({size})")
    for e in st.to_push[:20]:
        click.echo(f"      {path_text(e.path)} ({human(e.pointer.size)})")
    if len(st.to_push) > 20:
        click.echo(f"      ... and {len(st.to_push) - 20} more")


@cli.command()
@click.option("--from", "source", required=True, metavar="STORE", help="The store to read from.")
@click.option("--to", "dest", required=True, metavar="STORE", help="The store to fill.")
@click.option("--rev", "revs", multiple=True, metavar="REV", help="What these revisions reference (repeatable; default HEAD).")
@click.option("--all", "all_refs", is_flag=True, help="What any branch or tag references.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Parallel transfers (default 8).")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def copy(source: str, dest: str, revs: tuple[str, ...], all_refs: bool, jobs: int | None, quiet: bool) -> None:
    """Copy the objects the repository references from one store to another.

    Objects stream from store to store without entering the local cache; between two
    buckets of one S3 service the copy happens on the server.
    """
    from .ops.copy import copy as run

    if revs and all_refs:
        raise LazyError("use --rev or --all, not both")
    result = run(_context(), source, dest, list(revs), all_refs=all_refs, jobs=jobs,
                 progress=_progress(f"Copying {source} to {dest}", quiet))
    _warn(result.warnings)
    if not quiet:
        click.echo(
            f"Copied {len(result.transfer.done)} object(s) ({human(result.transfer.bytes)}) to {result.store}; "
            f"{len(result.transfer.present)} already there.",
            err=True,
        )
    _failures(result, f"copied to {result.store}")


@cli.command()
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--verify-remote", is_flag=True, help="Ask the stores that they hold each object before removing it.")
@click.option("--keep-recent", type=click.FloatRange(min=0), default=None, metavar="DAYS",
              help="Keep what refs committed within DAYS reference (default 7).")
def prune(dry_run: bool, verify_remote: bool, keep_recent: float | None) -> None:
    """Delete cached objects that no repository using this cache needs and that are safe in a store."""
    from .ops.prune import KEEP_RECENT_DAYS
    from .ops.prune import prune as run

    result = run(_context(), dry_run=dry_run, verify_remote=verify_remote,
                 keep_recent=KEEP_RECENT_DAYS if keep_recent is None else keep_recent)
    _warn(result.warnings)
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} {len(result.removed)} object(s), {human(result.freed)}.")
    kept = [f"{result.kept_needed} needed by {result.repositories} repositor{'y' if result.repositories == 1 else 'ies'}"]
    if result.kept_unpushed:
        kept.append(f"{result.kept_unpushed} in no store{' that answered' if verify_remote else ''}")
    if result.kept_recent:
        kept.append(f"{result.kept_recent} used within the hour")
    click.echo(f"Kept {', '.join(kept)}.")
    if result.swept:
        click.echo(f"Removed {result.swept} leftover(s) of interrupted uploads from the stores.")


def main(argv: list[str]) -> int:
    """Run the command line; return the exit code."""
    try:
        cli.main(args=argv, prog_name="git-lazy", standalone_mode=False)
        return 0
    except LazyError as exc:
        if trace_enabled():
            raise
        sys.stderr.write(f"git-lazy: {printable(str(exc))}\n")
        return exc.exit_code
    except click.exceptions.Abort:
        sys.stderr.write("git-lazy: interrupted\n")
        return 130
    except click.ClickException as exc:
        hint = " (see 'git lazy -h')" if isinstance(exc, click.UsageError) else ""
        sys.stderr.write(f"git-lazy: {printable(exc.format_message())}{hint}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("git-lazy: interrupted\n")
        return 130
    except OSError as exc:
        if trace_enabled():
            raise
        sys.stderr.write(f"git-lazy: {printable(exc.strerror or str(exc))}{f': {exc.filename}' if exc.filename else ''}\n")
        return 1
    except Exception as exc:  # a bug: still one line, the traceback on request
        if trace_enabled():
            raise
        from .stores.urls import redact

        sys.stderr.write(
            f"git-lazy: internal error: {type(exc).__name__}: {printable(redact(str(exc)))} "
            "(run again with GIT_LAZY_TRACE=1 for the traceback)\n"
        )
        return 3
