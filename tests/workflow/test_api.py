"""The Python API as a script or a notebook uses it: track, open, ls, log, lazy://."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import threading
from pathlib import Path

import fsspec
import pytest
from lazyhelpers import (
    assert_clean_status,
    assert_pointer,
    clone,
    commit_files,
    corrupt,
    fresh_cache,
    git,
    lazy,
    object_path,
    pointer_text,
    write_stream,
)
from servers import TcpProxy

import git_lazydata as lazydata
from git_lazydata.errors import ChecksumMismatch, LazyError, NotFound, ObjectMissing

MiB = 1024 * 1024
CSV = "".join(f"{i},{i * i}\n" for i in range(2000)).encode()


def test_the_package_imports_cheaply_and_resolves_its_api() -> None:
    assert {"track", "open", "ls", "log", "fetch", "push"} <= set(dir(lazydata))
    assert callable(lazydata.open) and callable(lazydata.track)
    with pytest.raises(AttributeError):
        lazydata.nothing_here  # noqa: B018


def test_track_one_liner_for_the_author_and_on_a_fresh_clone(
    repo: Path, folder_store: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    (repo / "data").mkdir()
    (repo / "data" / "big [v1].csv").write_bytes(CSV)
    name = "data/big [v1].csv"

    assert lazydata.track(name) == name
    with open(lazydata.track(name), newline="") as f:
        assert sum(1 for _ in csv.reader(f)) == 2000
    # A rule for exactly this file (glob characters and the space escaped), nothing staged.
    assert "/data/big[[:space:]]\\[v1].csv filter=lazy" in (repo / ".gitattributes").read_text()
    assert git(repo, "diff", "--cached", "--name-only").stdout == b""
    lazy(repo, "remote", "add", "lake", folder_store.url)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    oid = hashlib.sha256(CSV).hexdigest()
    assert_pointer(repo, "HEAD", name, oid, len(CSV))
    lazy(repo, "push")

    # Again on an unchanged file: a stat, not git (there is no git on PATH now).
    with monkeypatch.context() as m:
        m.setenv("PATH", str(tmp_path / "no-git-here"))
        assert lazydata.track(name) == name

    fresh_cache(tmp_path, "other-machine")
    other = clone(repo, tmp_path / "other")
    assert (other / name).read_bytes() == pointer_text(oid, len(CSV))
    monkeypatch.chdir(other / "data")  # any folder inside the repository
    with open(lazydata.track("big [v1].csv"), "rb") as f:
        assert f.read() == CSV
    assert_clean_status(other)


def test_track_refuses_what_is_not_there(repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(repo)
    with pytest.raises(NotFound, match="no such file: 'absent.bin'"):
        lazydata.track("absent.bin")
    (tmp_path / "outside.bin").write_bytes(b"x")
    with pytest.raises(LazyError, match="outside the repository"):
        lazydata.track(tmp_path / "outside.bin", repo=repo)


def _published(repo: Path, url: str, *extra: str) -> dict[str, str]:
    """v1 holds a 3 MiB object, v2 a new version of it; both pushed to store ``lake``."""
    (repo / "data").mkdir()
    first = write_stream(repo / "data" / "big.bin", 3 * MiB, seed=1)
    (repo / "data" / "small.bin").write_bytes(CSV)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v1")
    git(repo, "tag", "v1")
    second = write_stream(repo / "data" / "big.bin", 300 * 1024, seed=2)
    git(repo, "commit", "-q", "-am", "v2")
    lazy(repo, "remote", "add", "lake", url, *extra)
    lazy(repo, "push", "--all")
    return {"v1": first, "v2": second}


def _seeded(size: int, seed: int, tmp_path: Path) -> bytes:
    path = tmp_path / f"expected-{seed}"
    write_stream(path, size, seed=seed)
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["s3", "ssh"])
def test_open_reads_by_range_from_the_store(
    kind: str, repo: Path, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "s3":
        s3 = request.getfixturevalue("s3_store")
        host, port = s3.endpoint.removeprefix("http://").split(":")
        proxy = TcpProxy((host, int(port)))
        url, extra = s3.url, ("--endpoint", proxy.endpoint)
    else:
        ssh = request.getfixturevalue("ssh_store")
        proxy = TcpProxy(("127.0.0.1", ssh.port))
        (ssh.ssh_dir / "known_hosts").write_text(ssh.sshd.known_hosts_line(port=proxy.port))
        (ssh.ssh_dir / "config").write_text(f"Host 127.0.0.1\n  IdentityFile {ssh.sshd.user_key}\n")
        url, extra = f"ssh://127.0.0.1:{proxy.port}{ssh.root}", ()
    with proxy:
        oids = _published(repo, url, *extra)
        old = _seeded(3 * MiB, 1, tmp_path)
        fresh_cache(tmp_path, "empty-cache")
        monkeypatch.chdir(repo)

        # The first MiB of an old version: about a MiB moves, not the object.
        before = proxy.bytes_down
        with lazydata.open("data/big.bin", rev="v1") as f:
            assert f.read(MiB) == old[:MiB]
        assert MiB <= proxy.bytes_down - before < 2 * MiB

        # Seeks and partial reads, backwards and forwards.
        with lazydata.open("data/big.bin", rev="v1") as f:
            f.seek(2 * MiB + 3)
            assert f.read(100) == old[2 * MiB + 3:2 * MiB + 103]
            f.seek(-10, io.SEEK_END)
            assert f.read() == old[-10:]
            f.seek(17)
            assert f.read(1000) == old[17:1017]
            assert f.tell() == 1017

        # A file that is only a pointer in the work tree reads the same way.
        (repo / "data" / "big.bin").write_bytes(pointer_text(oids["v2"], 300 * 1024))
        with lazydata.open(repo / "data" / "big.bin") as f:
            assert hashlib.sha256(f.read()).hexdigest() == oids["v2"]

        # Several threads at once, each with its own file object.
        errors: list[BaseException] = []

        def read_part(start: int) -> None:
            try:
                with lazydata.open("data/big.bin", rev="v1", repo=repo) as f:
                    f.seek(start)
                    assert f.read(MiB // 2) == old[start:start + MiB // 2]
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=read_part, args=(i * MiB // 2,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
    assert not (tmp_path / "empty-cache" / "objects").exists()  # nothing was fetched whole


def test_open_from_the_cache_and_of_files_git_keeps(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "notes.txt").write_bytes(b"old notes\n")
    commit_files(repo, {"a.bin": b"one", "sub/b.bin": b"two"})
    git(repo, "tag", "first")
    commit_files(repo, {"a.bin": b"three", "notes.txt": b"new notes\n"})
    monkeypatch.chdir(repo / "sub")
    with lazydata.open("../a.bin", rev="first") as f:
        assert f.read() == b"one"
    with lazydata.open("b.bin") as f:
        assert f.read() == b"two"
    with lazydata.open("notes.txt", rev="first", repo=repo) as f:
        assert f.read() == b"old notes\n"
    (repo / "a.bin").write_bytes(b"changed here")  # the work tree is what it holds now
    with lazydata.open(repo / "a.bin") as f:
        assert f.read() == b"changed here"


def test_errors_name_what_is_wrong(repo: Path, folder_store: object, monkeypatch: pytest.MonkeyPatch) -> None:
    commit_files(repo, {"a.bin": b"data"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    monkeypatch.chdir(repo)
    with pytest.raises(FileNotFoundError, match="no file 'nope.bin'"):
        lazydata.open("nope.bin")
    with pytest.raises(NotFound, match="no such revision: 'v9'"):
        lazydata.open("a.bin", rev="v9")
    with pytest.raises(NotFound, match="no file 'a.bin' in HEAD~1"):
        lazydata.open("a.bin", rev="HEAD~1")
    proc = lazy(repo, "fetch", "--rev", "v9", "a.bin", check=False)
    assert proc.stderr.decode() == "git-lazy: no such revision: 'v9'\n"
    missing = hashlib.sha256(b"nowhere").hexdigest()
    (repo / "a.bin").write_bytes(pointer_text(missing, 7))
    with pytest.raises(ObjectMissing, match=f"a.bin: object {missing} is not in .*not in lake"):
        lazydata.open("a.bin")


def test_a_corrupt_store_object_is_detected_on_a_whole_read(
    repo: Path, folder_store: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    oids = commit_files(repo, {"big.bin": os.urandom(3 * MiB)})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    lazy(repo, "push")
    bad = bytearray(object_path(folder_store.root, oids["big.bin"]).read_bytes())
    bad[2 * MiB] ^= 1
    corrupt(object_path(folder_store.root, oids["big.bin"]), bytes(bad))
    fresh_cache(tmp_path, "empty")
    monkeypatch.chdir(repo)
    with lazydata.open("big.bin", rev="HEAD") as f:
        assert f.read(1000) == bad[:1000]  # a partial read cannot be checked
    with lazydata.open("big.bin", rev="HEAD") as f, pytest.raises(ChecksumMismatch):
        f.read()


def test_ls_and_the_tree_view(repo: Path, folder_store: object, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    lazy(repo, "remote", "add", "lake", folder_store.url)
    oids = commit_files(repo, {"top.bin": b"t" * 10, "data/a/x.bin": b"x" * 2048, "data/a/b/y.bin": b"y" * 30,
                               "data/c/z.bin": b"z" * 40, "data/readme.txt": b"plain"})
    git(repo, "tag", "v1")
    # top.bin changes too: a refresh may clean the work tree's files into the new cache,
    # and v1's top.bin must then still be only in the store.
    commit_files(repo, {"data/c/z.bin": b"Z" * 50, "top.bin": b"T" * 10})
    lazy(repo, "push", "--all")
    fresh_cache(tmp_path, "cache2")
    lazy(repo, "fetch", "--rev", "v1", "data/a")  # v1's data/a comes into the new cache
    (repo / "data" / "c" / "z.bin").write_bytes(pointer_text(hashlib.sha256(b"Z" * 50).hexdigest(), 50))
    monkeypatch.chdir(repo)

    listing = {f.path: f for f in lazydata.ls("data")}
    assert sorted(listing) == ["data/a/b/y.bin", "data/a/x.bin", "data/c/z.bin"]
    assert listing["data/a/x.bin"].oid == oids["data/a/x.bin"] and listing["data/a/x.bin"].size == 2048
    assert listing["data/a/x.bin"].cached and not listing["data/c/z.bin"].cached
    assert listing["data/c/z.bin"].state == "pointer" and listing["data/a/x.bin"].state == "present"
    old = {f.path: f.cached for f in lazydata.ls(rev="v1", repo=repo)}
    assert old == {"top.bin": False, "data/a/x.bin": True, "data/a/b/y.bin": True, "data/c/z.bin": False}

    # ls-files --rev judges "content here" by the cache, not by today's work tree.
    lines = lazy(repo, "ls-files", "--rev", "v1").stdout.decode().splitlines()
    assert [line.split()[1:3] for line in lines] == [
        ["*", "data/a/b/y.bin"], ["*", "data/a/x.bin"], ["-", "data/c/z.bin"], ["-", "top.bin"]]
    tree = lazy(repo, "ls-files", "--tree").stdout.decode()
    assert tree == (
        "data/ (3 files, 2.1 KiB)\n"
        "    a/ (2 files, 2.0 KiB)\n"
        "        b/ (1 file, 30 B)\n"
        "            * y.bin (30 B)\n"
        "        * x.bin (2.0 KiB)\n"
        "    c/ (1 file, 50 B)\n"
        "        - z.bin (50 B)\n"
        "* top.bin (10 B)\n"
        "4 files, 2.1 KiB\n"
    )


def test_lazy_protocol_through_fsspec(repo: Path, folder_store: object, tmp_path: Path) -> None:
    commit_files(repo, {"data/table.bin": CSV, "data/notes.txt": b"plain\n", "data/deep/more.bin": b"m"})
    git(repo, "tag", "v1")
    commit_files(repo, {"data/table.bin": b"a,b\n"})
    lazy(repo, "remote", "add", "lake", folder_store.url)
    lazy(repo, "push", "--all")
    fresh_cache(tmp_path, "empty")

    # What pandas.read_csv("lazy://...", storage_options=...) does: fsspec.open, then read.
    with fsspec.open("lazy://data/table.bin", "rt", repo=str(repo), rev="v1", newline="") as f:
        assert sum(1 for _ in csv.reader(f)) == 2000
    with fsspec.open("lazy://data/table.bin", "rb", repo=str(repo)) as f:
        assert f.read() == b"a,b\n"

    fs = fsspec.filesystem("lazy", repo=str(repo), rev="v1")
    assert fs.ls("data", detail=False) == ["data/deep", "data/notes.txt", "data/table.bin"]
    info = fs.info("data/table.bin")
    assert (info["size"], info["type"], info["oid"], info["cached"]) == (
        len(CSV), "file", hashlib.sha256(CSV).hexdigest(), False)
    assert fs.info("data/deep")["type"] == "directory"
    assert fs.glob("data/**/*.bin") == ["data/deep/more.bin", "data/table.bin"]
    assert fs.cat_file("data/table.bin", start=100, end=120) == CSV[100:120]
    assert fs.cat_file("data/notes.txt") == b"plain\n"
    with pytest.raises(FileNotFoundError):
        fs.info("data/none.bin")
    with pytest.raises(PermissionError):
        fs.open("data/new.bin", "wb")


def test_pandas_reads_lazy_urls(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pd = pytest.importorskip("pandas")  # a test dependency only where it is installed
    commit_files(repo, {"t.bin": b"a,b\n1,2\n3,4\n"})
    monkeypatch.chdir(repo)
    assert pd.read_csv("lazy://t.bin")["b"].sum() == 6


def test_log_lists_each_version_and_open_reads_any(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    versions = [b"first", b"second version", b"third"]
    for data in versions:
        commit_files(repo, {"d/model.bin": data})
    git(repo, "rm", "-q", "d/model.bin")
    git(repo, "commit", "-q", "-m", "gone")
    lines = lazy(repo, "log", "d/model.bin", "--long").stdout.decode().splitlines()
    assert len(lines) == 4 and lines[0].split()[2] == "deleted"
    monkeypatch.chdir(repo)
    history = lazydata.log("d/model.bin")
    assert [v.kind for v in history] == ["deleted", "lazy", "lazy", "lazy"]
    for version, data in zip(history[1:], reversed(versions)):
        assert (version.size, version.oid) == (len(data), hashlib.sha256(data).hexdigest())
        assert version.oid in lines[history.index(version)]
        with lazydata.open("d/model.bin", rev=version.commit) as f:
            assert f.read() == data


def test_fetch_used_by_reads_the_script_without_running_it(
    repo: Path, folder_store: object, tmp_path: Path
) -> None:
    lazy(repo, "remote", "add", "lake", folder_store.url)
    files = {"data/a.bin": b"a", "data/b.bin": b"b", "data/c.bin": b"c", "data/d.bin": b"d"}
    commit_files(repo, files)
    lazy(repo, "push")
    fresh_cache(tmp_path, "other-machine")
    other = repo  # as on a clone whose hooks fetched nothing: pointers, and an empty cache
    for name, data in files.items():
        (other / name).write_bytes(pointer_text(hashlib.sha256(data).hexdigest(), len(data)))
    (other / "train.py").write_text(
        "import sys\nimport git_lazydata as lazy\nfrom git_lazydata import track as t\n"
        "sys.exit('never run')\nlazy.track('data/a.bin')\nt('data/b.bin')\nopen('data/d.bin')\n"
    )
    cells = [{"cell_type": "code", "source": ["%matplotlib inline\n", "import git_lazydata as gl\n"]},
             {"cell_type": "markdown", "source": "lazy.track('data/d.bin')"},
             {"cell_type": "code", "source": "gl.open('data/c.bin').read()"}]
    (other / "explore.ipynb").write_text(json.dumps({"cells": cells}))
    lazy(other, "fetch", "--used-by", "train.py", "--used-by", "explore.ipynb")
    assert [(other / "data" / f"{n}.bin").read_bytes()[:1] for n in "abcd"] == [b"a", b"b", b"c", b"v"]

    (other / "empty.py").write_text("print('no data')\n")
    proc = lazy(other, "fetch", "--used-by", "empty.py", check=False)
    assert proc.returncode != 0 and "names no file in a track() call" in proc.stderr.decode()
