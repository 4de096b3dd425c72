"""``git lazy`` commands that look after the data: fsck (verify and repair) and prune."""

from __future__ import annotations

import click

from .cli_common import context, human, progress, warn
from .errors import LazyError
from .terminal import path_text, printable

__all__ = ["fsck", "prune"]


@click.command()
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

    result = run(context(), pointers=pointers, remote=remote_, read_data=read_data, repair=repair,
                 all_refs=all_refs, progress=lambda label: progress(label, quiet))
    warn(result.warnings)
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


@click.command()
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--verify-remote", is_flag=True, help="Ask the stores that they hold each object before removing it.")
@click.option("--keep-recent", type=click.FloatRange(min=0), default=None, metavar="DAYS",
              help="Keep what refs committed within DAYS reference (default 7).")
def prune(dry_run: bool, verify_remote: bool, keep_recent: float | None) -> None:
    """Delete cached objects that no repository using this cache needs and that are safe in a store."""
    from .ops.prune import KEEP_RECENT_DAYS
    from .ops.prune import prune as run

    result = run(context(), dry_run=dry_run, verify_remote=verify_remote,
                 keep_recent=KEEP_RECENT_DAYS if keep_recent is None else keep_recent)
    warn(result.warnings)
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
