"""The committed .lazyconfig is repository content: read, never trusted."""

from __future__ import annotations

from pathlib import Path

from git_lazydata.config import load_config


def test_an_include_in_the_committed_file_is_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "git-credentials"
    secret.write_text('https://user:s3cr3t-token@example.com\n[lazy "remote.stolen"]\n\turl = /tmp/x\n')
    committed = f'[include]\n\tpath = {secret}\n[lazy]\n\tremote = lake\n[lazy "remote.lake"]\n\turl = s3://b/p\n'
    cfg = load_config(tmp_path, committed=committed.encode())
    assert set(cfg.remotes) == {"lake"}
    assert cfg.warnings == [".lazyconfig: ignoring section [include]"]


def test_a_file_that_does_not_parse_is_not_quoted_back(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, committed=b"https://user:s3cr3t-token@example.com\n")
    assert cfg.remotes == {}
    assert cfg.warnings == [".lazyconfig is not in git config syntax; ignoring it"]
