"""``git lazy remote``: add, change, list, remove, choose and accept the stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .cli_common import context, warn
from .terminal import printable

if TYPE_CHECKING:
    from .ops.remote import AddResult

__all__ = ["remote"]


@click.group()
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

    _render_added(name, ops.add(context(), name, url, endpoint=endpoint, local=local), "Added")


@remote.command("set-url")
@click.argument("name")
@click.argument("url")
@click.option("--endpoint", default=None, help="S3-compatible endpoint, e.g. https://minio.example:9000.")
def remote_set_url(name: str, url: str, endpoint: str | None) -> None:
    """Change the URL of store NAME (where it is defined)."""
    from .ops import remote as ops

    _render_added(name, ops.set_url(context(), name, url, endpoint=endpoint), "Changed")


@remote.command("list")
def remote_list() -> None:
    """List stores in the order they are read."""
    from .ops import remote as ops
    from .stores.urls import redact

    cfg = ops.list_remotes(context())
    warn(cfg.warnings)
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

    ops.remove(context(), name)
    click.echo(f"Removed store {name!r}.")


@remote.command("default")
@click.argument("name")
@click.option("--local", is_flag=True, help="Only for this clone (.git/config).")
def remote_default(name: str, local: bool) -> None:
    """Make NAME the store that push uses."""
    from .ops import remote as ops

    ops.set_default(context(), name, local=local)
    click.echo(f"Default store is now {name!r}.")


@remote.command("accept")
@click.argument("name")
def remote_accept(name: str) -> None:
    """Allow pushing to committed store NAME at its current URL."""
    from .ops import remote as ops
    from .stores.urls import redact

    r = ops.accept(context(), name)
    click.echo(f"Pushing to {name!r} ({printable(redact(r.url))}) is allowed from this clone.")
