"""Which folders a file may be written through: never out of the work tree, never through .git."""

from __future__ import annotations

from pathlib import Path

from git_lazydata.checkout import _unsafe_parent


def test_paths_that_leave_the_work_tree_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "a")
    safe: set[str] = set()
    for rel in ("/x", "/a/x", "a//x", "./x", "a/../x", ".git/x", "a/.GIT/x"):
        assert (_unsafe_parent(str(tmp_path), rel, safe) or "").startswith("unsafe path component"), rel
    assert _unsafe_parent(str(tmp_path), "link/x", safe) == "beyond a symlink (link)"
    assert _unsafe_parent(str(tmp_path), "missing/x", safe) == "its folder does not exist"
    assert _unsafe_parent(str(tmp_path), "a/b/x", safe) is None
    assert safe == {"a", "a/b"}
    assert _unsafe_parent(str(tmp_path), "x", safe) is None
