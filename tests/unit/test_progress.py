"""Progress lines: objects, bytes and rate on a terminal; nothing otherwise."""

from __future__ import annotations

import io

from git_lazydata.progress import Progress, TerminalProgress, make_progress


def test_terminal_line_shows_objects_bytes_and_rate() -> None:
    out = io.StringIO()
    progress = TerminalProgress("Uploading", total_objects=2, total_bytes=4 * 1024 * 1024, stream=out)
    progress.add_bytes(2 * 1024 * 1024)
    progress.object_done()
    progress.finish()
    last = out.getvalue().split("\r")[-1]
    assert last.startswith("Uploading:  50% (1/2), 2.0 MiB | ")
    assert last.endswith("/s\n")


def test_not_a_terminal_means_silent() -> None:
    progress = make_progress("Downloading", 1, 10)  # stderr is a pipe under pytest
    assert type(progress) is Progress
    progress.add_bytes(10)
    progress.object_done()
    progress.finish()
    assert (progress.objects, progress.bytes) == (1, 10)
