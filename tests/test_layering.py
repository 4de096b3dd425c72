"""The filter path stays light, and heavy libraries stay where they belong."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "git_lazydata"
HEAVY = ("boto3", "botocore", "paramiko", "click", "dulwich.repo", "cryptography")


@pytest.mark.parametrize(
    "statement",
    ["import git_lazydata", "import git_lazydata.filter", "import git_lazydata.__main__",
     "import git_lazydata.hookfiles", "import git_lazydata.stores, git_lazydata.stores.urls"],
)
def test_light_imports(statement: str) -> None:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True).stdout.split()
    assert [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY] == []


def test_the_filter_started_by_git_in_a_repository_imports_nothing_heavy(tmp_path: Path) -> None:
    """git starts the filter in a work tree; there it also adds missing hooks (the
    path a run outside a repository never takes)."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert not (repo / ".git" / "hooks" / "post-checkout").exists()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "git_lazydata", "filter-process"],
        input=b"", capture_output=True, cwd=repo,
    )
    assert (repo / ".git" / "hooks" / "post-checkout").is_file(), proc.stderr.decode()[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.decode().splitlines() if "|" in line]
    assert "git_lazydata.hookfiles" in imported
    assert [m for m in imported if m.split(".")[0] in HEAVY] == []


OWNERS = {"boto3": {"stores/s3.py"}, "botocore": {"stores/s3.py"}, "paramiko": {"stores/ssh.py"}, "click": {"cli.py"}}


def test_heavy_libraries_are_imported_only_by_their_owner() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                owner = OWNERS.get(name.split(".")[0])
                if owner is not None and rel not in owner:
                    offenders.append(f"{rel} imports {name}")
    assert offenders == []
