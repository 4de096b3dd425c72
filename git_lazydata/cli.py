"""The ``git lazy`` command line: parse, call an operation, render its result.

The single place that prints for users (with progress.py and the ``cli_*.py``
command modules) and that turns a LazyError into one line on stderr and an exit code.
This module holds the click group and ``main``; the commands are in ``cli_setup.py``
(install, track, migrate), ``cli_inspect.py`` (ls-files, log, status),
``cli_transfer.py`` (push, fetch, pull, clone, copy, checkout), ``cli_remote.py``
(remote) and ``cli_care.py`` (fsck, prune). Each imports its operation only when it
runs, so that the command line starts fast.
"""

from __future__ import annotations

import sys

import click

from . import __version__
from .cli_care import fsck, prune
from .cli_inspect import log, ls_files, status
from .cli_remote import remote
from .cli_setup import install, migrate, track, uninstall, untrack
from .cli_transfer import checkout, clone, copy, fetch, pull, push
from .errors import LazyError
from .settings import trace_enabled
from .terminal import printable

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="git-lazy")
def cli() -> None:
    """git-lazy: large files next to your code, fetched lazily."""


for _command in (install, uninstall, track, untrack, migrate, ls_files, log, status, checkout, push, fetch,
                 pull, clone, copy, remote, fsck, prune):
    cli.add_command(_command)


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
