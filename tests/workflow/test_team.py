"""A team's day through plain git: the workflow of the README.

A pushes with ``git push``; B clones with ``git lazy clone --include`` and gets only the
included files' bytes: for each kind of store. B reaches S3 and SSH stores through a
counting relay, so the bytes the store served are known; for a folder store, B's
cache shows what was read. With the folder store the day goes on: branches,
checkouts and merges bring their data through the hooks, and a push while the store
cannot be reached is refused and the remote ref stays.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lazyhelpers import assert_clean_status, bare_repo, cache_objects, git, is_pointer, lazy
from servers import TcpProxy

MiB = 1 << 20


@dataclass
class Reach:
    """How clone B reaches the store: its environment, bytes served, and a way to cut it."""

    env: dict[str, str]
    served: Callable[[], int | None]
    cut: Callable[[], None]


@pytest.fixture(params=["folder", "s3", "ssh"])
def team_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Reach]]:
    kind = request.param
    store = request.getfixturevalue(f"{kind}_store")
    home_b = tmp_path / "home-b"
    home_b.mkdir()
    env = dict(os.environ, GIT_LAZY_CACHE_DIR=str(tmp_path / "cache-b"), HOME=str(home_b))
    if kind == "folder":
        away = store.root.with_name("unmounted")
        yield store, Reach(env, lambda: None, lambda: store.root.rename(away))
        return
    if kind == "s3":
        host, port = store.endpoint.removeprefix("http://").split(":")
        proxy = TcpProxy((host, int(port)))
        env["AWS_ENDPOINT_URL_S3"] = proxy.endpoint
    else:
        proxy = TcpProxy(("127.0.0.1", store.port))
        ssh_b = home_b / ".ssh"
        shutil.copytree(store.ssh_dir, ssh_b)
        (ssh_b / "config").write_text(
            (store.ssh_dir / "config").read_text().replace(f"Port {store.port}", f"Port {proxy.port}")
        )
        (ssh_b / "known_hosts").write_text(store.sshd.known_hosts_line(proxy.port))
    with proxy:
        yield store, Reach(env, lambda: proxy.bytes_down, proxy.close)


def write(repo: Path, files: dict[str, bytes]) -> dict[str, str]:
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def commit(repo: Path, message: str, env: dict[str, str] | None = None) -> None:
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", message, env=env)


def test_a_team_works_through_plain_git(
    team_store: tuple[Any, Reach], tmp_path: Path, new_repo: Callable[[Path], Path]
) -> None:
    store, reach = team_store
    origin = bare_repo(tmp_path / "origin.git")

    # A sets up the repository (installed, `*.bin` tracked) and pushes with plain git: the hook uploads.
    a = new_repo(tmp_path / "a")
    git(a, "remote", "add", "origin", str(origin))
    lazy(a, "remote", "add", "lake", store.url)
    big = os.urandom(3 * MiB)
    oids = write(a, {"data/a/one.bin": os.urandom(5000), "data/a/two.bin": b"two\n" * 100,
                     "data/b/big.bin": big, "data/b/small.bin": b"small b\n"})
    commit(a, "data")
    pushed = git(a, "push", "-q", "-u", "origin", "main")
    assert store.objects() == set(oids.values()), pushed.stderr.decode()

    # B clones only data/a: exactly those objects leave the store.
    env_b = reach.env
    git(None, "lazy", "clone", "-q", "--include", "data/a/**", str(origin), str(tmp_path / "b"), env=env_b)
    b = tmp_path / "b"
    lazy(b, "remote", "accept", "lake", env=env_b)  # B trusts the store, as the clone told B to for a folder
    assert (b / "data/a/two.bin").read_bytes() == b"two\n" * 100
    assert hashlib.sha256((b / "data/a/one.bin").read_bytes()).hexdigest() == oids["data/a/one.bin"]
    assert is_pointer(b / "data/b/big.bin") and is_pointer(b / "data/b/small.bin")
    assert cache_objects(Path(env_b["GIT_LAZY_CACHE_DIR"])) == {oids["data/a/one.bin"], oids["data/a/two.bin"]}
    served = reach.served()
    if served is not None:
        assert served < MiB, f"{served} bytes served for 5 KB of included files"
    assert_clean_status(b)
    assert git(b, "config", "lazy.fetchinclude").stdout == b"data/a/**\n"
    if reach.served() is not None:
        # What follows depends on no kind of store: the folder store's run covers it.
        return

    # B fetches one more file by hand.
    lazy(b, "fetch", "data/b/small.bin", env=env_b)
    assert (b / "data/b/small.bin").read_bytes() == b"small b\n"
    assert is_pointer(b / "data/b/big.bin")
    assert_clean_status(b)

    # A pushes a new branch; B checks it out and the hook brings its included data.
    git(a, "checkout", "-q", "-b", "feature")
    write(a, {"data/a/three.bin": b"three\n" * 50, "data/b/other.bin": b"not included\n"})
    commit(a, "feature data")
    git(a, "push", "-q", "-u", "origin", "feature")
    git(b, "fetch", "-q", env=env_b)
    git(b, "checkout", "-q", "feature", env=env_b)
    assert (b / "data/a/three.bin").read_bytes() == b"three\n" * 50
    assert is_pointer(b / "data/b/other.bin")
    assert_clean_status(b)
    git(b, "checkout", "-q", "main", env=env_b)
    assert not (b / "data/a/three.bin").exists()

    # A adds to main; B, with a commit of its own, pulls with a merge: post-merge brings it.
    git(a, "checkout", "-q", "main")
    write(a, {"data/a/four.bin": b"four\n" * 70})
    commit(a, "more data")
    git(a, "push", "-q")
    write(b, {"notes.txt": b"B's notes\n"})
    commit(b, "notes", env_b)
    git(b, "pull", "-q", "--no-rebase", "--no-edit", env=env_b)
    assert (b / "data/a/four.bin").read_bytes() == b"four\n" * 70
    assert len(git(b, "log", "--format=%P", "-1").stdout.split()) == 2  # a real merge
    assert_clean_status(b)

    # The store cannot be reached: B's push is refused and origin keeps its main.
    before = git(a, "ls-remote", str(origin), "refs/heads/main").stdout
    write(b, {"data/a/five.bin": b"five\n" * 90})
    commit(b, "five", env_b)
    reach.cut()
    refused = git(b, "push", "-q", "origin", "main", env=env_b, check=False)
    assert refused.returncode != 0
    assert "push stopped, nothing was sent to the git remote" in refused.stderr.decode()
    assert git(a, "ls-remote", str(origin), "refs/heads/main").stdout == before


SETUP = Path(__file__).resolve().parents[2] / "scripts" / "setup-repo.sh"


def test_the_example_setup_script_fetches_what_a_role_needs(
    folder_store: Any, tmp_path: Path, new_repo: Callable[[Path], Path]
) -> None:
    origin = bare_repo(tmp_path / "origin.git")
    a = new_repo(tmp_path / "a")  # installed, `*.bin` tracked
    git(a, "remote", "add", "origin", str(origin))
    lazy(a, "remote", "add", "lake", folder_store.url)
    write(a, {"data/processed/x.bin": b"processed", "data/raw/y.bin": b"raw", "models/m.bin": b"weights"})
    commit(a, "data")
    git(a, "push", "-q", "origin", "main")
    env = dict(os.environ, GIT_LAZY_CACHE_DIR=str(tmp_path / "cache-new"))
    run = subprocess.run(["bash", str(SETUP), str(origin), "newcomer", "trainer"], cwd=tmp_path, env=env,
                         capture_output=True)
    assert run.returncode == 0, run.stderr.decode()
    new = tmp_path / "newcomer"
    assert (new / "data/processed/x.bin").read_bytes() == b"processed"
    assert (new / "models/m.bin").read_bytes() == b"weights"
    assert is_pointer(new / "data/raw/y.bin")
    assert_clean_status(new)
