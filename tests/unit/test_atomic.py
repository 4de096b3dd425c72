"""Atomic publication: a temp file next to the target, renamed into place."""

from __future__ import annotations

import os
from pathlib import Path

from git_lazydata.atomic import AtomicFile, temp_name


def test_a_file_with_the_longest_name_is_published(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    final = tmp_path / "out" / ("\u00e9" * 127 + "x")  # 255 bytes in UTF-8, the most ext4 takes
    with AtomicFile(final) as temp:
        temp.write(b"payload")
        temp.publish()
    assert final.read_bytes() == b"payload"
    assert os.listdir(tmp_path / "out") == [final.name]


def test_temp_names_fit_and_stay_hidden_and_distinct() -> None:
    names = {temp_name("a" * 300) for _ in range(50)} | {temp_name("\u00e9" * 200)}
    assert len(names) == 51
    assert all(n.startswith(".") and len(os.fsencode(n)) <= 255 for n in names)
