"""The manual page: installed with the package, shown by ``git lazy --help``.

git turns ``git lazy --help`` into ``man git-lazy``, and man finds pages next to the
programs on PATH (``<prefix>/bin`` -> ``<prefix>/share/man``), so the page must be
installed in the prefix the package was pip-installed into.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
import pytest
from lazyhelpers import git

from git_lazydata.cli import cli

PAGE = Path(sys.prefix) / "share" / "man" / "man1" / "git-lazy.1"


def commands(group: click.Group, prefix: str = "") -> list[str]:
    """Every command of ``group`` as typed after ``git lazy``: ``install``, ``remote add``..."""
    names = []
    for name, command in sorted(group.commands.items()):
        names.append(prefix + name)
        if isinstance(command, click.Group):
            names += commands(command, prefix + name + " ")
    return names


def test_the_installed_package_ships_a_page_naming_every_command() -> None:
    assert PAGE.is_file(), f"{PAGE} was not installed with the package"
    source = PAGE.read_text(encoding="utf-8")
    names = commands(cli)
    assert {"install", "ls-files", "remote", "remote add", "remote accept", "status"} <= set(names)
    # roff writes a hyphen that must stay a hyphen as "\-".
    missing = [name for name in names if name not in source and name.replace("-", "\\-") not in source]
    assert not missing, f"commands missing from {PAGE}: {missing}"


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed (apt-get install man-db)")
def test_git_lazy_help_shows_the_page(tmp_path: Path) -> None:
    env = dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80")
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env.pop("MANPATH", None)  # man's own search path, derived from PATH
    proc = git(tmp_path, "lazy", "--help", env=env, check=False)
    out = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert "git-lazy" in out
    assert "fetchinclude" in out
