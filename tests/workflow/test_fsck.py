"""git lazy fsck: the cache, the pointers and the stores checked, and repaired from a good copy."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from lazyhelpers import (
    assert_cached,
    assert_in_store,
    commit_files,
    corrupt,
    corrupt_cached,
    git,
    lazy,
    object_path,
    pointer_text,
    refute_cached,
    uncache,
)

DATA = b"measurements " * 4000


def flipped(data: bytes, at: int = 100) -> bytes:
    """``data`` with one byte changed: same size, another hash."""
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def pushed(repo: Path, url: str, files: dict[str, bytes]) -> dict[str, str]:
    """Add store ``lake`` at ``url``, commit it with ``files`` and push everything to it."""
    lazy(repo, "remote", "add", "lake", url)
    oids = commit_files(repo, files)
    lazy(repo, "push", "--all")
    return oids


def fsck(repo: Path, *args: str) -> tuple[int, list[str], str]:
    """Run ``git lazy fsck ARGS``: exit code, stdout lines, stderr."""
    proc = lazy(repo, "fsck", *args, check=False)
    return proc.returncode, proc.stdout.decode().splitlines(), proc.stderr.decode()


def test_a_clean_repository_passes(folder_store: Any, repo: Path) -> None:
    pushed(repo, folder_store.url, {"a.bin": DATA, "d/b.bin": b"small", "empty.bin": b""})
    code, out, err = fsck(repo, "--pointers", "--remote", "--all")
    assert (code, err) == (0, "")
    assert out == ["Checked 2 cached object(s) (50.8 KiB), 2 object(s) used by every ref, "
                   "5 file(s) against the lazy rules, 1 store(s): 0 problem(s)."]


def test_a_flipped_byte_in_the_cache_is_found_and_fetched_again(folder_store: Any, repo: Path) -> None:
    oid = pushed(repo, folder_store.url, {"data/a.bin": DATA})["data/a.bin"]
    corrupt_cached(oid, flipped(DATA))
    code, out, err = fsck(repo)
    assert code == 1
    got = hashlib.sha256(flipped(DATA)).hexdigest()
    assert out[0] == f"corrupt: data/a.bin ({oid}, in the local cache): the cached copy hashes to {got} (52000 bytes)"
    assert err.splitlines()[-1] == "git-lazy: 1 problem(s); 'git lazy fsck --repair' replaces corrupt copies from good ones"

    code, out, err = fsck(repo, "--repair")
    assert (code, err) == (0, "")
    assert out[0].endswith("; repaired: removed the corrupt copy and downloaded the object again")
    assert out[-1].endswith(": 1 problem(s), 1 repaired.")
    assert_cached(oid, DATA)
    assert fsck(repo)[0] == 0


def test_a_corrupt_cached_object_no_store_has_stays_an_error_after_repair(repo: Path) -> None:
    oid = commit_files(repo, {"a.bin": DATA})["a.bin"]
    corrupt_cached(oid, flipped(DATA))
    code, out, err = fsck(repo, "--repair")
    assert code == 1
    assert "could not be downloaded again: no store configured" in out[0]
    assert err.splitlines()[-1] == "git-lazy: 1 problem(s) left"


def test_a_corrupt_cached_object_no_file_uses_is_removed(repo: Path) -> None:
    oid = commit_files(repo, {"old.bin": b"an old version"})["old.bin"]
    git(repo, "rm", "-q", "old.bin")
    git(repo, "commit", "-q", "-m", "gone")
    corrupt_cached(oid, b"an odd version")
    got = hashlib.sha256(b"an odd version").hexdigest()
    assert fsck(repo)[1][0] == f"corrupt: - ({oid}, in the local cache): the cached copy hashes to {got} (14 bytes)"
    code, out, _ = fsck(repo, "--repair")
    assert code == 0
    assert out[0].endswith("; repaired: removed the corrupt copy (no file checked here uses it)")
    refute_cached(oid)


@pytest.mark.parametrize("kind", ["s3", "ssh"])
def test_a_flipped_byte_in_a_store_is_found_by_reading_and_replaced_from_the_cache(
    kind: str, repo: Path, request: pytest.FixtureRequest
) -> None:
    store = request.getfixturevalue(f"{kind}_store")
    oid = pushed(repo, store.url, {"a.bin": DATA})["a.bin"]
    if kind == "s3":
        key = f"{store.prefix}/objects/{oid[:2]}/{oid[2:4]}/{oid}"
        store.client.put_object(Bucket=store.bucket, Key=key, Body=flipped(DATA))

        def stored() -> bytes:
            return bytes(store.client.get_object(Bucket=store.bucket, Key=key)["Body"].read())
    else:
        corrupt(object_path(store.root, oid), flipped(DATA))

        def stored() -> bytes:
            return object_path(store.root, oid).read_bytes()

    if kind == "ssh":  # the size is right: only reading finds it (shown once: each run costs)
        assert fsck(repo, "--remote")[0] == 0
    code, out, _ = fsck(repo, "--remote", "--read-data")
    assert code == 1
    got = hashlib.sha256(flipped(DATA)).hexdigest()
    assert out[0] == f"store-corrupt: a.bin ({oid}, in lake): its bytes hash to {got} (52000 bytes)"

    code, out, err = fsck(repo, "--read-data", "--repair")
    assert (code, err) == (0, "")
    assert out[0].endswith("; repaired: deleted the store's copy and uploaded the cached one")
    assert stored() == DATA


def test_a_store_object_of_the_wrong_size_is_found_without_reading(folder_store: Any, repo: Path) -> None:
    oid = pushed(repo, folder_store.url, {"a.bin": DATA})["a.bin"]
    corrupt(object_path(folder_store.root, oid), DATA[:1000])
    code, out, _ = fsck(repo, "--remote")
    assert code == 1
    assert out[0] == f"store-corrupt: a.bin ({oid}, in lake): the store's copy is not 52000 bytes"
    assert out[1] == f"missing: a.bin ({oid}): in the local cache only; 'git lazy push' uploads it"
    assert fsck(repo, "--remote", "--repair")[0] == 0
    assert_in_store(folder_store.root, oid, DATA)


def test_pointers_finds_content_committed_without_the_filter_and_stray_pointers(repo: Path) -> None:
    (repo / "big.bin").write_bytes(DATA)
    no_filter = ["-c", "filter.lazy.process=", "-c", "filter.lazy.clean=", "-c", "filter.lazy.required=false"]
    git(repo, *no_filter, "add", "big.bin")
    stray = pointer_text("ab" * 32, 12)
    (repo / "notes.txt").write_bytes(stray)
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "mistakes")
    assert fsck(repo)[0] == 0  # without --pointers, plain files are git's business
    code, out, err = fsck(repo, "--pointers")
    assert code == 1
    blob = git(repo, "rev-parse", "HEAD:big.bin").stdout.decode().strip()
    stray_blob = git(repo, "rev-parse", "HEAD:notes.txt").stdout.decode().strip()
    assert out[:2] == [
        f"not-a-pointer: big.bin ({blob}): under a lazy rule but committed as content (52000 bytes, blob {blob})",
        f"untracked-pointer: notes.txt ({stray_blob}): a pointer (blob {stray_blob}) at a path no lazy rule covers",
    ]
    assert err.splitlines()[-1] == "git-lazy: 2 problem(s)"


def test_an_object_in_no_store_fails_remote(folder_store: Any, repo: Path) -> None:
    old = pushed(repo, folder_store.url, {"a.bin": b"first version"})["a.bin"]
    new = commit_files(repo, {"a.bin": b"second version, never pushed"})["a.bin"]
    code, out, err = fsck(repo, "--remote")
    assert code == 1
    assert out[0] == f"missing: a.bin ({new}): in the local cache only; 'git lazy push' uploads it"
    assert err.splitlines()[-1] == "git-lazy: 1 problem(s)"
    uncache(new)
    assert fsck(repo, "--remote")[1][0] == f"missing: a.bin ({new}): in no store and not in the local cache: lost"

    git(repo, "reset", "-q", "--hard", "HEAD~1")  # HEAD's files are safe; history is checked with --all
    assert fsck(repo, "--remote")[0] == 0
    git(repo, "branch", "kept", "HEAD@{1}")
    code, out, _ = fsck(repo, "--remote", "--all")
    assert code == 1 and out[0].startswith(f"missing: a.bin ({new})")
    assert old not in "\n".join(out)


def test_paths_are_escaped(folder_store: Any, repo: Path) -> None:
    name = "evil\x1b[31m.bin"
    oid = commit_files(repo, {name: DATA})[name]
    corrupt_cached(oid, flipped(DATA))
    code, out, _ = fsck(repo)
    assert code == 1 and out[0].startswith(f"corrupt: evil\\x1b[31m.bin ({oid}")


def test_an_object_a_store_lost_is_pushed_again_after_remote(folder_store: Any, repo: Path) -> None:
    oid = pushed(repo, folder_store.url, {"a.bin": DATA})["a.bin"]
    object_path(folder_store.root, oid).unlink()  # lost behind git-lazy's back
    assert "Uploaded 0 object(s)" in lazy(repo, "push").stderr.decode()  # the record of pushes says it is there
    code, out, _ = fsck(repo, "--remote")
    assert code == 1
    assert out[0] == f"missing: a.bin ({oid}): in the local cache only; 'git lazy push' uploads it"
    assert "Uploaded 1 object(s)" in lazy(repo, "push").stderr.decode()  # fsck corrected the record
    assert_in_store(folder_store.root, oid, DATA)
