"""What Temporal stores for a field left out: the values the diff compares against."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduled.model.desired import RetryPolicy
from scheduled.model.server_defaults import effective_catchup_window, effective_retry


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, timedelta(days=365)),
        (timedelta(seconds=1), timedelta(seconds=10)),
        (timedelta(hours=2), timedelta(hours=2)),
    ],
)
def test_effective_catchup_window(value: timedelta | None, expected: timedelta) -> None:
    assert effective_catchup_window(value) == expected


def test_effective_retry_fills_server_defaults() -> None:
    assert effective_retry(None) is None
    filled = effective_retry(RetryPolicy(initial_interval=timedelta(seconds=3)))
    assert filled == RetryPolicy(
        maximum_attempts=0,
        initial_interval=timedelta(seconds=3),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=300),
    )
