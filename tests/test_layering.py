"""The layering rules, as tests: a light filter path, libraries owned by one module,
the environment read in few places, imports only downward, and no printing below the
command line (compare click's and dulwich's own source tests)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "git_lazydata"
HEAVY = ("boto3", "botocore", "obstore", "paramiko", "click", "dulwich", "cryptography", "sqlite3", "fsspec")


def _modules() -> dict[str, ast.Module]:
    return {p.relative_to(PACKAGE).as_posix(): ast.parse(p.read_text()) for p in PACKAGE.rglob("*.py")}


def _imports(tree: ast.Module, rel: str) -> list[str]:
    """Absolute names of everything a module imports (relative imports resolved)."""
    package = ["git_lazydata", *rel.split("/")[:-1]]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.append(node.module or "")
                continue
            base = package[: len(package) - node.level + 1]
            if node.module:
                names.append(".".join([*base, node.module]))
            else:  # "from . import x": x is a module, or a name the package itself holds
                folder = PACKAGE.joinpath(*base[1:])
                for a in node.names:
                    is_module = (folder / f"{a.name}.py").exists() or (folder / a.name).is_dir()
                    names.append(".".join([*base, a.name] if is_module else base))
    return names


@pytest.mark.parametrize(
    "statement",
    ["import git_lazydata", "import git_lazydata.filter", "import git_lazydata.__main__",
     "import git_lazydata.hookfiles", "import git_lazydata.stores, git_lazydata.stores.urls"],
)
def test_light_imports(statement: str) -> None:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True).stdout.split()
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []


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


#: The command line: the click group and main (cli.py), and its command modules.
CLI_MODULES = {"cli.py", "cli_common.py", "cli_setup.py", "cli_inspect.py", "cli_transfer.py", "cli_remote.py",
               "cli_care.py"}

OWNERS = {
    "boto3": {"stores/s3.py"},
    "botocore": {"stores/s3.py", "stores/s3_wire.py", "stores/s3_reads.py"},
    "obstore": {"stores/s3_reads.py"},
    "paramiko": {"stores/ssh.py"},
    "click": CLI_MODULES,
    "dulwich": {"config.py"},
    "sqlite3": {"record.py"},
    "fsspec": {"fs.py"},
}


def test_libraries_are_imported_only_by_their_owner() -> None:
    offenders = []
    for rel, tree in _modules().items():
        for name in _imports(tree, rel):
            owner = OWNERS.get(name.split(".")[0])
            if owner is not None and rel not in owner:
                offenders.append(f"{rel} imports {name}")
    assert offenders == []


#: Who may read the process environment, and why.
ENVIRONMENT_READERS = {
    "settings.py": "the local settings: cache dir, trace, skip-push, the written-files ledger",
    "stores/s3_credentials.py": "the S3 credential chain and endpoint variables",
}


def test_only_listed_modules_read_the_environment() -> None:
    readers = set()
    for rel, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
                if isinstance(node.value, ast.Name) and node.value.id == "os":
                    readers.add(rel)
    assert readers <= set(ENVIRONMENT_READERS), sorted(readers - set(ENVIRONMENT_READERS))


#: Layers from the bottom up; a module may import its own layer and the ones below.
LAYERS = [
    {"errors", "pointer", "pktline", "terminal", "progress", "atomic", "hashing", "stores.urls", "deferred",
     "stores.base", "settings", "gitcmd", "written", "indexstat"},
    {"cache", "filter", "hookfiles", "repo", "config", "record", "stores", "stores.s3_credentials", "usage",
     "stores.s3_reads"},
    {"stores.folder", "stores.s3", "stores.ssh", "context", "checkout", "stores.s3_wire"},
    {"transfer", "lookup", "eviction"},
    {"sync"},
    {"hooks", "ops", "ops.install", "ops.track", "ops.remote", "ops.ls_files", "ops.checkout",
     "ops.push", "ops.fetch", "ops.pull", "ops.status", "ops.clone", "ops.log", "ops.used_by", "ops.copy", "ops.prune", "ops.migrate", "ops.fsck",
     "ops.migrate_git", "ops.migrate_rewrite", "ops.from_lfs", "ops.fsck_report", "ops.fsck_local",
     "ops.fsck_stores", "reader"},
    {"api", "fs", "cli_common"},
    {"cli_setup", "cli_inspect", "cli_transfer", "cli_remote", "cli_care"},
    {"cli"},
    {"__main__", "__init__"},
]


def _layer(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if module in layer:
            return i
    raise AssertionError(f"{module} is in no layer of tests/test_layering.py: place it")


def test_imports_only_go_downward() -> None:
    upward = []
    for rel, tree in _modules().items():
        module = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".") or "__init__"
        mine = _layer(module)
        for name in _imports(tree, rel):
            if not name.startswith("git_lazydata.") or name == "git_lazydata":
                continue
            target = name.removeprefix("git_lazydata.")
            while target not in {m for layer in LAYERS for m in layer} and "." in target:
                target = target.rsplit(".", 1)[0]  # "stores.Store" names a module's member
            if _layer(target) > mine and module != "__init__":
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_only_the_command_line_and_hooks_print() -> None:
    allowed = CLI_MODULES | {"progress.py", "hooks.py", "filter.py"}
    printing = []
    for rel, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                printing.append(rel)
            if (isinstance(node, ast.Attribute) and node.attr == "write" and isinstance(node.value, ast.Attribute)
                    and node.value.attr in ("stdout", "stderr")):
                printing.append(rel)
    assert set(printing) <= allowed, sorted(set(printing) - allowed)


def test_ruff_is_clean() -> None:
    root = PACKAGE.parent
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=root,
                          capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
    assert proc.returncode == 0, proc.stdout[-3000:]
