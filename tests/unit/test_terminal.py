"""Text from a repository or a store reaches the terminal escaped."""

from __future__ import annotations

import pytest

from git_lazydata.hooks import say
from git_lazydata.terminal import path_text


def test_the_line_of_the_filter_and_hooks_escapes_what_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    say("skipped d\x1b[2J/a.bin: beyond a symlink (d\x1b[2J)\r")
    assert capsys.readouterr().err == "git-lazy: skipped d\\x1b[2J/a.bin: beyond a symlink (d\\x1b[2J)\\x0d\n"


def test_a_git_path_that_is_not_utf8_is_shown_escaped() -> None:
    assert path_text(b"caf\xe9\x07.bin") == "caf\\xe9\\x07.bin"
