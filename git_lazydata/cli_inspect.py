"""``git lazy`` commands that show files and their history: ls-files, log, status."""

from __future__ import annotations

import os
from typing import Any

import click

from .cli_common import context, human
from .terminal import path_text, printable

__all__ = ["log", "ls_files", "status"]


@click.command("ls-files")
@click.option("-l", "--long", "long_", is_flag=True, help="Show the whole oid.")
@click.option("--rev", default=None, help="List the files of this revision (content here = in the cache).")
@click.option("--tree", "as_tree", is_flag=True, help="Show folders as an indented tree with their total sizes.")
@click.argument("paths", nargs=-1)
def ls_files(long_: bool, rev: str | None, as_tree: bool, paths: tuple[str, ...]) -> None:
    """List tracked files: oid, * content here, - pointer only, M modified, ! deleted; path, size."""
    from .ops.ls_files import MARKERS
    from .ops.ls_files import ls_files as run

    files = run(context(), list(paths), rev)
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


@click.command()
@click.argument("path")
@click.option("-l", "--long", "long_", is_flag=True, help="Show whole commit names and oids.")
def log(path: str, long_: bool) -> None:
    """The versions of the file PATH through history: commit, date, size, oid."""
    from .ops.log import versions

    for v in versions(context(), path):
        commit = v.commit if long_ else v.commit[:10]
        if v.kind == "deleted":
            what = "deleted"
        else:
            oid = (v.oid if long_ else v.oid[:10]) if v.oid else "in git"
            what = f"{human(v.size or 0):>10} {oid}"
        click.echo(f"{commit} {v.date} {what}  {printable(v.subject)}")


def _quote(path: str) -> str:
    """Quote a path for porcelain output as git does (C style, only when needed)."""
    if path.isprintable() and not any(ch in path for ch in '"\\'):
        return path
    return '"' + printable(path.replace("\\", "\\\\").replace('"', '\\"')) + '"'


@click.command()
@click.option("--porcelain", is_flag=True, help="Stable output for scripts: one line per file.")
def status(porcelain: bool) -> None:
    """Tracked files present, still pointers or modified, and what a push would upload."""
    from .ops.status import status as run

    st = run(context())
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
