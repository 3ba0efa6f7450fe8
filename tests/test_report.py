"""Rendering: the fire-time preview and the schedule rows people read."""

from __future__ import annotations

from datetime import UTC, datetime

from test_plan import calendar

from scheduled.model.desired import Spec
from scheduled.report import upcoming


def test_the_preview_includes_a_fire_exactly_at_start_at() -> None:
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    spec = Spec(calendars=(calendar("0 9 * * *"),), start_at=start)
    assert upcoming(spec, datetime(2027, 1, 1, tzinfo=UTC), count=2) == [
        start,
        datetime(2027, 3, 2, 9, 0, tzinfo=UTC),
    ]


def test_the_preview_starts_now_once_start_at_is_past() -> None:
    spec = Spec(calendars=(calendar("0 9 * * *"),), start_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert upcoming(spec, datetime(2027, 1, 1, 12, tzinfo=UTC), count=1) == [
        datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    ]
