"""``git lazy`` commands that set a repository up: install, uninstall, track, untrack, migrate."""

from __future__ import annotations

import click

from .cli_common import context, human, progress, say_held
from .errors import LazyError
from .terminal import printable

__all__ = ["install", "migrate", "track", "uninstall", "untrack"]


@click.command()
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
    say_held(result.held)


@click.command()
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


@click.command()
@click.argument("patterns", nargs=-1)
def track(patterns: tuple[str, ...]) -> None:
    """Track files matching PATTERNS (no argument: list tracked patterns)."""
    from .ops import track as ops

    ctx = context()
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


@click.command()
@click.argument("patterns", nargs=-1, required=True)
def untrack(patterns: tuple[str, ...]) -> None:
    """Stop tracking files matching PATTERNS."""
    from .ops import track as ops

    result = ops.untrack(context(), list(patterns))
    for pattern in result.changed:
        click.echo(f'Untracking "{printable(pattern)}"')
    for pattern in result.unchanged:
        click.echo(f'"{printable(pattern)}" was not tracked', err=True)


@click.group()
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

    result = import_history(context(), list(includes), everything=everything,
                            progress=progress("Rewriting commits", quiet))
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

    result = from_lfs(context(), progress=progress("Copying git-lfs objects", quiet))
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
