"""The pointer format: one canonical encoding, everything else is content."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lazyhelpers import pointer_text

from git_lazydata.errors import BadOid
from git_lazydata.pointer import Pointer, is_oid, object_key, parse

OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"


def test_encode_matches_the_git_lfs_v1_spec() -> None:
    assert Pointer(OID, 12345).encode() == pointer_text(OID, 12345)


def test_parse_round_trips_and_is_canonical() -> None:
    pointer = parse(pointer_text(OID, 12345))
    assert pointer == Pointer(OID, 12345)
    assert pointer is not None and pointer.canonical


def test_extension_lines_are_kept() -> None:
    text = (
        b"version https://git-lfs.github.com/spec/v1\n"
        b"ext-0-foo sha256:" + b"1" * 64 + b"\n"
        b"ext-1-bar sha256:" + b"2" * 64 + b"\n"
        b"oid sha256:" + OID.encode() + b"\nsize 3\n"
    )
    pointer = parse(text)
    assert pointer is not None
    assert pointer.extensions == ((0, "foo", "1" * 64), (1, "bar", "2" * 64))
    assert pointer.encode() == text


def test_crlf_pointer_is_accepted_but_not_canonical() -> None:
    pointer = parse(pointer_text(OID, 5).replace(b"\n", b"\r\n"))
    assert pointer is not None and not pointer.canonical and pointer.oid == OID


GOOD = pointer_text(OID, 10)
MALFORMED = {
    "empty": b"",
    "wat": b"wat",
    "version only": b"version ",
    "short oid": GOOD.replace(OID.encode(), OID[:63].encode()),
    "long oid": GOOD.replace(OID.encode(), OID.encode() + b"a"),
    "uppercase oid": GOOD.replace(OID.encode(), OID.upper().encode()),
    "traversal oid": GOOD.replace(OID.encode(), b"../../" + OID[6:].encode()),
    "sha1": GOOD.replace(b"sha256:", b"sha1:"),
    "no size": GOOD.split(b"size")[0],
    "negative size": GOOD.replace(b"size 10", b"size -10"),
    "leading zero size": GOOD.replace(b"size 10", b"size 010"),
    "size over 2^63": GOOD.replace(b"size 10", b"size 9223372036854775808"),
    "huge size": GOOD.replace(b"size 10", b"size 99999999999999999999"),
    "no final LF": GOOD[:-1],
    "trailing space": GOOD.replace(b"size 10", b"size 10 "),
    "extra key": GOOD + b"foo bar\n",
    "keys out of order": b"version https://git-lfs.github.com/spec/v1\nsize 10\noid sha256:" + OID.encode() + b"\n",
    "key=value": GOOD.replace(b"size 10", b"size=10"),
    "other version": GOOD.replace(b"spec/v1", b"spec/v2"),
    "ext after oid": GOOD.replace(b"size 10\n", b"ext-0-foo sha256:" + b"1" * 64 + b"\nsize 10\n"),
    "ext before version": b"ext-0-foo sha256:" + b"1" * 64 + b"\n" + GOOD,
    "ext priorities repeated": GOOD.replace(
        b"oid", b"ext-1-a sha256:" + b"1" * 64 + b"\next-1-b sha256:" + b"2" * 64 + b"\noid"
    ),
    "bare CR": GOOD.replace(b"size 10\n", b"size 10\r"),
    "padded to 1024": GOOD + b"\n" * (1024 - len(GOOD)),
    "NUL inside": GOOD.replace(b"size", b"si\0ze"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_input_is_not_a_pointer(name: str) -> None:
    assert parse(MALFORMED[name]) is None


@pytest.mark.parametrize("text", ["a" * 64, "0123456789abcdef" * 4])
def test_is_oid_accepts_lowercase_hex(text: str) -> None:
    assert is_oid(text)


@pytest.mark.parametrize("text", ["A" * 64, "a" * 63, "a" * 65, "../" + "a" * 61, "g" * 64, ""])
def test_is_oid_rejects_anything_else(text: str) -> None:
    assert not is_oid(text)


@pytest.mark.skipif(shutil.which("git-lfs") is None, reason="git-lfs not installed")
def test_same_bytes_as_git_lfs_pointer(tmp_path: Path) -> None:
    data = tmp_path / "x.bin"
    data.write_bytes(b"\x00hello\xff" * 1000)
    import hashlib

    oid = hashlib.sha256(data.read_bytes()).hexdigest()
    theirs = subprocess.run(["git", "lfs", "pointer", f"--file={data}"], capture_output=True, check=True).stdout
    assert Pointer(oid, 7000).encode() == theirs


def test_object_key_is_the_one_oid_gate() -> None:
    oid = "ab" + "cd" + "0" * 60
    assert object_key(oid) == f"objects/ab/cd/{oid}"
    for bad in ("../" * 21 + "x", oid.upper(), oid[:-1], oid + "0", "sha256:" + oid, "", None):
        with pytest.raises(BadOid, match="malformed oid"):
            object_key(bad)  # type: ignore[arg-type]
