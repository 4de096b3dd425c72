"""Files git-lazy has just written are not hashed again by the index refresh."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from lazyhelpers import assert_clean_status, cache_dir, git, lazy, pointer_clone, pointer_text
from test_protocol import HANDSHAKE, pkt

from git_lazydata.pointer import parse
from git_lazydata.written import ENV, Written, identity, read_ledger, write_ledger


def clean_request(path: str, data: bytes) -> bytes:
    return pkt(b"command=clean\n") + pkt(f"pathname={path}\n".encode()) + b"0000" + pkt(data) + b"0000"


def clean_replies(work: Path, ledger: str, *requests: bytes) -> list[bytes]:
    """Run the filter process with a ledger; return the content of each clean reply."""
    proc = subprocess.run(["git-lazy", "filter-process"], input=HANDSHAKE + b"".join(requests),
                          capture_output=True, cwd=work, env={**os.environ, ENV: ledger}, check=True)
    packets, out = [], proc.stdout
    while out:
        size = int(out[:4], 16)
        packets.append(out[4:size] if size else None)
        out = out[max(size, 4):]
    # After the handshake: status=success, flush, content, flush, flush per file.
    replies = packets[6:]
    return [replies[i + 2] for i in range(0, len(replies), 5)]


def test_clean_answers_from_the_ledger_only_while_the_file_is_unchanged(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # A cached object that is not the file's content: if clean answers with its
    # pointer, it answered from the ledger without hashing.
    other = subprocess.run(["git-lazy", "clean", "--", "x"], input=b"Z" * 5000, capture_output=True,
                           cwd=work, check=True).stdout
    target = work / "a.bin"
    target.write_bytes(b"A" * 5000)
    other_oid = parse(other).oid  # type: ignore[union-attr]
    ledger = write_ledger([Written(b"a.bin", other_oid, identity(os.lstat(target)))], str(tmp_path))
    assert clean_replies(work, ledger, clean_request("a.bin", b"A" * 5000)) == [other]

    target.write_bytes(b"B" * 5000)  # same size, new content: the identity moves on
    real = pointer_text(hashlib.sha256(b"B" * 5000).hexdigest(), 5000)
    assert clean_replies(work, ledger, clean_request("a.bin", b"B" * 5000)) == [real]


def test_a_listed_object_missing_from_the_cache_is_hashed(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    target = work / "a.bin"
    target.write_bytes(b"A" * 5000)
    ledger = write_ledger([Written(b"a.bin", "0" * 64, identity(os.lstat(target)))], str(tmp_path))
    real = pointer_text(hashlib.sha256(b"A" * 5000).hexdigest(), 5000)
    assert clean_replies(work, ledger, clean_request("a.bin", b"A" * 5000)) == [real]


def test_a_ledger_that_is_not_ours_is_ignored(tmp_path: Path) -> None:
    junk = tmp_path / "written-junk"
    junk.write_bytes(b"a.bin\0p\0not-a-number\0" + b"1\0" * 4)
    junk.chmod(0o600)
    assert read_ledger(str(junk)) == {}
    good = write_ledger([Written(b"a.bin", "0" * 64, identity(os.lstat(junk)))], str(tmp_path))
    assert list(read_ledger(good)) == [b"a.bin"]
    os.chmod(good, 0o644)  # readable by others: anyone could have written it
    assert read_ledger(good) == {}
    os.chmod(good, 0o600)
    renamed = tmp_path / "elsewhere"
    os.rename(good, renamed)
    assert read_ledger(str(renamed)) == {}
    assert read_ledger(str(tmp_path / "written-absent")) == {}
    assert read_ledger(None) == {}


def test_materialized_files_are_fresh_in_the_index_and_the_ledger_is_gone(repo: Path, tmp_path: Path) -> None:
    for i in range(3):
        (repo / f"f{i}.bin").write_bytes(os.urandom(100_000 + i))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    clone = pointer_clone(repo, tmp_path / "clone")
    assert (clone / "f0.bin").read_bytes().startswith(b"version https://git-lfs")

    lazy(clone, "checkout")
    for i in range(3):
        assert (clone / f"f{i}.bin").read_bytes() == (repo / f"f{i}.bin").read_bytes()
    # diff-files trusts the index's stat data and never refreshes it: an empty
    # answer means the refresh recorded every written file as clean.
    assert git(clone, "diff-files", "--name-only").stdout == b""
    assert_clean_status(clone)
    assert not [p for p in (cache_dir() / "tmp").iterdir() if p.name.startswith("written-")]


def test_a_same_size_write_right_after_materializing_is_seen(repo: Path, tmp_path: Path) -> None:
    # File times move in clock ticks; a write in the tick of ours must still change
    # what clean compares, or git would keep the pointer for new bytes.
    (repo / "a.bin").write_bytes(b"A" * 70000)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    clone = pointer_clone(repo, tmp_path / "clone")
    lazy(clone, "checkout")
    before = identity(os.lstat(clone / "a.bin"))
    with open(clone / "a.bin", "r+b") as f:
        f.write(b"B" * 70000)
    assert identity(os.lstat(clone / "a.bin")) != before
    assert git(clone, "status", "--porcelain").stdout == b" M a.bin\n"
