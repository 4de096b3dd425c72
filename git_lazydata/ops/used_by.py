"""``git lazy fetch --used-by SCRIPT``: the files a script or notebook names in ``track("...")``.

The script is parsed, never run: every call of git-lazy's ``track`` (or ``open``)
whose first argument is a string literal names a file. Calls are recognised through
the script's own imports (``import git_lazydata as lazy`` then ``lazy.track(...)``,
or ``from git_lazydata import track``), so an unrelated ``open("x")`` is not taken.
Notebooks (``.ipynb``) are read cell by cell, IPython's ``%`` and ``!`` lines left out.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from ..errors import LazyError

__all__ = ["paths_used_by"]

PACKAGE = "git_lazydata"
#: The API calls whose first argument names a file to have here.
CALLS = ("track", "open")


def _source(script: Path) -> list[str]:
    """The Python source of a script, or of each code cell of a notebook."""
    try:
        text = script.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LazyError(f"no such script: {script}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LazyError(f"cannot read {script}: {exc}") from None
    if script.suffix != ".ipynb":
        return [text]
    try:
        cells = json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError):
        raise LazyError(f"{script} is not a notebook (no cells in its JSON)") from None
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            lines = cell.get("source", "")
            text = "".join(lines) if isinstance(lines, list) else str(lines)
            sources.append("\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!"))))
    return sources


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(module aliases of git_lazydata, local names of its track/open functions)."""
    modules, functions = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name == PACKAGE)
        elif isinstance(node, ast.ImportFrom) and node.module == PACKAGE and node.level == 0:
            functions.update(a.asname or a.name for a in node.names if a.name in CALLS)
    return modules, functions


def paths_used_by(script: Path) -> list[str]:
    """The file names the script passes as string literals to git-lazy's track() or open(), each once."""
    trees = []
    for number, source in enumerate(_source(script), 1):
        try:
            trees.append(ast.parse(source, filename=str(script)))
        except SyntaxError as exc:
            where = f" (cell {number})" if script.suffix == ".ipynb" else ""
            raise LazyError(f"cannot parse {script}{where}: line {exc.lineno}: {exc.msg}") from None
    module = ast.Module(body=[node for tree in trees for node in tree.body], type_ignores=[])
    modules, functions = _names(module)  # a notebook imports in one cell and calls in another
    found: list[str] = []
    for node in ast.walk(module):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        ours = (isinstance(func, ast.Name) and func.id in functions) or (
            isinstance(func, ast.Attribute) and func.attr in CALLS
            and isinstance(func.value, ast.Name) and func.value.id in modules
        )
        first = node.args[0]
        if ours and isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
            if first.value not in found:
                found.append(first.value)
    return found
