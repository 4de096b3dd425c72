"""Shared test vocabulary: run git and git-lazy, make data, assert what users see."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

__all__ = [
    "assert_cached",
    "assert_clean_status",
    "assert_in_store",
    "corrupt",
    "corrupt_cached",
    "object_path",
    "refute_cached",
    "refute_in_store",
    "uncache",
    "commit_files",
    "store_objects",
    "assert_pointer",
    "bare_repo",
    "cache_objects",
    "clone",
    "fresh_cache",
    "git",
    "is_pointer",
    "lazy",
    "make_repo",
    "pointer_text",
    "sha256_file",
    "write_stream",
]


def git(repo: Path | str | None, *args: str, input: bytes | None = None, check: bool = True,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run real git in ``repo``; fail the test with git's stderr when ``check``."""
    proc = subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr.decode()}")
    return proc


def lazy(repo: Path | str | None, *args: str, input: bytes | None = None, check: bool = True,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``git lazy ARGS`` in ``repo``, the way a user does."""
    return git(repo, "lazy", *args, input=input, check=check, env=env)


def make_repo(path: Path, *patterns: str, env: dict[str, str] | None = None) -> Path:
    """Create a repository with git-lazy installed and ``patterns`` tracked and committed."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", env=env)
    lazy(path, "install", "--local", env=env)
    if patterns:
        lazy(path, "track", *patterns, env=env)
        git(path, "add", ".gitattributes", env=env)
        git(path, "commit", "-q", "-m", "track", env=env)
    return path


def write_stream(path: Path, size: int, seed: int = 0) -> str:
    """Write ``size`` seeded bytes in 1 MiB chunks without holding them; return the sha256."""
    block = hashlib.sha256(str(seed).encode()).digest() * (1024 * 1024 // 32)
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left, counter = size, 0
        while left:
            chunk = (counter.to_bytes(8, "big") + block)[: min(left, len(block))]
            digest.update(chunk)
            f.write(chunk)
            left -= len(chunk)
            counter += 1
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """Hash a file by streaming it."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def pointer_text(oid: str, size: int) -> bytes:
    """The canonical pointer for an object, written out independently of git_lazydata."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


def assert_pointer(repo: Path, rev: str, path: str, oid: str, size: int) -> None:
    """The blob git stores for ``path`` at ``rev`` is the pointer of (oid, size)."""
    assert git(repo, "cat-file", "blob", f"{rev}:{path}").stdout == pointer_text(oid, size)


def assert_clean_status(repo: Path) -> None:
    """``git status`` shows nothing to commit."""
    out = git(repo, "status", "--porcelain", "--untracked-files=no").stdout.decode()
    assert out == "", f"git status is not clean:\n{out}"


def cache_dir() -> Path:
    """The object cache the isolated environment points at."""
    return Path(os.environ["GIT_LAZY_CACHE_DIR"])


def fresh_cache(tmp_path: Path, name: str) -> Path:
    """Point GIT_LAZY_CACHE_DIR at a new empty cache, as on another machine."""
    path = tmp_path / name
    os.environ["GIT_LAZY_CACHE_DIR"] = str(path)
    return path


def clone(src: Path, dst: Path) -> Path:
    """A clone whose hooks fetch nothing (``lazy.fetchexclude=*``): files stay pointers
    until fetched by hand, unless the cache already has them."""
    git(None, "clone", "-q", "-c", "lazy.fetchexclude=*", str(src), str(dst))
    lazy(dst, "install", "--local")
    return dst


def pointer_clone(src: Path, dst: Path) -> Path:
    """Clone ``src`` as a git without our filter sees it: tracked files stay pointers."""
    git(None, "clone", "-q", "--no-checkout", str(src), str(dst))
    git(dst, "-c", "filter.lazy.process=", "-c", "filter.lazy.required=false", "checkout", "-q", "HEAD")
    return dst


def bare_repo(path: Path) -> Path:
    """An empty bare repository, the shared remote of a team."""
    git(None, "init", "-q", "--bare", str(path))
    return path


def object_path(root: Path, oid: str) -> Path:
    """Where object ``oid`` lives under a cache or folder store ``root``: ``objects/ab/cd/<oid>``."""
    return root / "objects" / oid[:2] / oid[2:4] / oid


def _cache(cache: Path | None) -> Path:
    return cache if cache is not None else Path(os.environ["GIT_LAZY_CACHE_DIR"])


def assert_cached(oid: str, data: bytes | None = None, cache: Path | None = None) -> None:
    """The cache (default: the test's own) holds ``oid``, with ``data`` when given."""
    path = object_path(_cache(cache), oid)
    assert path.is_file(), f"{oid} is not in the cache {_cache(cache)}"
    if data is not None:
        assert path.read_bytes() == data


def refute_cached(oid: str, cache: Path | None = None) -> None:
    """The cache (default: the test's own) does not hold ``oid``."""
    assert not object_path(_cache(cache), oid).exists(), f"{oid} is in the cache {_cache(cache)}"


def corrupt_cached(oid: str, data: bytes | None = None, cache: Path | None = None) -> None:
    """Replace a cached object's bytes behind git-lazy's back (default: as many zero bytes); read-only as it was."""
    corrupt(object_path(_cache(cache), oid), data)


def uncache(oid: str, cache: Path | None = None) -> None:
    """Delete a cached object behind git-lazy's back."""
    object_path(_cache(cache), oid).unlink()


def corrupt(path: Path, data: bytes | None = None) -> None:
    """Overwrite an object file (cache or folder store) that git-lazy keeps read-only."""
    size = path.stat().st_size
    path.chmod(0o644)
    path.write_bytes(bytes(size) if data is None else data)
    path.chmod(0o444)


def assert_in_store(root: Path, oid: str, data: bytes | None = None) -> None:
    """The folder store at ``root`` holds ``oid``, with ``data`` when given."""
    path = object_path(root, oid)
    assert path.is_file(), f"{oid} is not in the store {root}"
    if data is not None:
        assert path.read_bytes() == data


def refute_in_store(root: Path, oid: str) -> None:
    """The folder store at ``root`` does not hold ``oid``."""
    assert not object_path(root, oid).exists(), f"{oid} is in the store {root}"


def cache_objects(cache: Path) -> set[str]:
    """The oids a cache folder holds."""
    return {p.name for p in (cache / "objects").rglob("*") if p.is_file()}


def is_pointer(path: Path) -> bool:
    """The work-tree file holds a pointer, not content."""
    return path.read_bytes().startswith(b"version https://git-lfs.github.com/spec/v1\n")


def commit_files(repo: Path, files: dict[str, bytes]) -> dict[str, str]:
    """Write ``files`` (path: bytes), add and commit everything; return {path: sha256}."""
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def store_objects(root: Path) -> list[str]:
    """The oids a folder store holds, sorted."""
    return sorted(p.name for p in (root / "objects").rglob("*") if p.is_file())
