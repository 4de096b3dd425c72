"""The filter process speaking to something other than a well-behaved git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lazyhelpers import cache_dir


def pkt(data: bytes) -> bytes:
    return b"%04x" % (len(data) + 4) + data


HANDSHAKE = pkt(b"git-filter-client\n") + pkt(b"version=2\n") + b"0000" + pkt(b"capability=clean\n") + pkt(
    b"capability=smudge\n"
) + pkt(b"capability=delay\n") + b"0000"


def run_filter(stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git-lazy", "filter-process"], input=stdin, capture_output=True, cwd=cwd)


def test_handshake_offers_clean_and_smudge_but_never_delay(tmp_path: Path) -> None:
    proc = run_filter(HANDSHAKE, tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == (
        pkt(b"git-filter-server\n") + pkt(b"version=2\n") + b"0000"
        + pkt(b"capability=clean\n") + pkt(b"capability=smudge\n") + b"0000"
    )


def test_wrong_welcome_is_refused_with_one_line(tmp_path: Path) -> None:
    proc = run_filter(pkt(b"hello\n") + b"0000", tmp_path)
    assert proc.returncode == 2
    assert b"expected git-filter-client" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize("packets", [1, 200])  # held in memory, or spilled to a temp file
def test_git_dying_mid_file_leaves_no_object(tmp_path: Path, packets: int) -> None:
    request = pkt(b"command=clean\n") + pkt(b"pathname=a.bin\n") + b"0000" + pkt(b"x" * 60000) * packets
    proc = run_filter(HANDSHAKE + request, tmp_path)  # stdin ends inside the content
    assert proc.returncode == 2
    assert not (cache_dir() / "objects").exists()
    assert not (cache_dir() / "tmp").exists() or list((cache_dir() / "tmp").iterdir()) == []


def test_unknown_command_gets_an_error_status_and_the_filter_goes_on(tmp_path: Path) -> None:
    bad = pkt(b"command=frobnicate\n") + pkt(b"pathname=a\n") + b"0000" + pkt(b"data") + b"0000"
    good = pkt(b"command=smudge\n") + pkt(b"pathname=b\n") + b"0000" + pkt(b"plain") + b"0000"
    proc = run_filter(HANDSHAKE + bad + good, tmp_path)
    assert proc.returncode == 0
    replies = proc.stdout.split(b"0000", 2)[2]
    assert replies.startswith(pkt(b"status=error\n") + b"0000")
    assert replies.endswith(pkt(b"status=success\n") + b"0000" + pkt(b"plain") + b"0000" + b"0000")
    assert b"unsupported filter command" in proc.stderr


def test_one_shot_clean_and_smudge(tmp_path: Path) -> None:
    clean = subprocess.run(["git-lazy", "clean", "--", "x"], input=b"data" * 1000, capture_output=True, cwd=tmp_path)
    assert clean.returncode == 0 and clean.stdout.startswith(b"version https://git-lfs.github.com/spec/v1\n")
    smudge = subprocess.run(["git-lazy", "smudge", "--", "x"], input=clean.stdout, capture_output=True, cwd=tmp_path)
    assert smudge.returncode == 0 and smudge.stdout == b"data" * 1000
