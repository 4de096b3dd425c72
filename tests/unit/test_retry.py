"""Retries: a store's own Retry-After is honoured, within a cap per wait and in all."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from git_lazydata.errors import TransientStoreError
from git_lazydata.stores.base import retry_after
from git_lazydata.transfer import MAX_RETRY_AFTER, RETRY_BUDGET, RETRY_DELAYS, retrying


def _failing(times: int, wait: float | None) -> tuple[list[int], object]:
    calls: list[int] = []

    def action() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise TransientStoreError("busy", retry_after=wait)
        return "done"

    return calls, action


def test_the_wait_a_store_asks_for_is_kept_within_caps() -> None:
    waits: list[float] = []
    calls, action = _failing(2, 7.0)
    assert retrying(action, waits.append) == "done"  # type: ignore[arg-type]
    assert waits == [7.0, 7.0] and len(calls) == 3
    waits.clear()
    _, action = _failing(1, 3600.0)
    assert retrying(action, waits.append) == "done"  # type: ignore[arg-type]
    assert waits == [MAX_RETRY_AFTER]
    waits.clear()
    _, action = _failing(1, None)  # no word from the store: the engine's own delays
    retrying(action, waits.append)  # type: ignore[arg-type]
    assert waits == [RETRY_DELAYS[0]]


def test_waits_past_the_budget_give_up_instead_of_waiting() -> None:
    waits: list[float] = []
    calls, action = _failing(10, MAX_RETRY_AFTER)
    with pytest.raises(TransientStoreError):
        retrying(action, waits.append)  # type: ignore[arg-type]
    assert sum(waits) <= RETRY_BUDGET and len(waits) == int(RETRY_BUDGET // MAX_RETRY_AFTER)
    assert len(calls) == len(waits) + 1


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(None) is None and retry_after("soon") is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=90), usegmt=True)
    assert 80 <= (retry_after(later) or 0) <= 90
    past = format_datetime(datetime.now(timezone.utc) - timedelta(days=1), usegmt=True)
    assert retry_after(past) == 0.0
