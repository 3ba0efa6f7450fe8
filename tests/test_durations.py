"""Durations: Go's syntax plus days, in the order people write them; back to text for plans."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduled.format.schema import workflow_schema
from scheduled.model.durations import DURATION_PATTERN, format_duration, parse_duration

MS, S, M, H = (
    timedelta(milliseconds=1),
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(hours=1),
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500ms", 500 * MS),
        ("1.5s", 1500 * MS),
        ("1h30m", 90 * M),
        ("2h45m30s", 2 * H + 45 * M + 30 * S),
        ("1.5h", 90 * M),
        (".5s", 500 * MS),
        ("1m30.25s", 90 * S + 250 * MS),
        ("250us", timedelta(microseconds=250)),
        ("250µs", timedelta(microseconds=250)),
        ("250μs", timedelta(microseconds=250)),
        ("1500000ns", 1500 * timedelta(microseconds=1)),
        ("2d", timedelta(days=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("90s", 90 * S),
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
    ],
)
def test_go_durations_are_read(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("30m1h", "units largest first"),
        ("1h1h", "units largest first"),
        ("-5s", "is not a duration"),
        ("5", "is not a duration"),
        ("", "is not a duration"),
        ("1 hour", "is not a duration"),
        ("1500ns", "finer than a microsecond"),
        ("106752d", "longer than Temporal can hold"),
    ],
)
def test_what_is_not_a_duration_says_why(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (500 * MS, "500ms"),
        (timedelta(microseconds=250), "250us"),
        (1500 * MS, "1.5s"),
        (90 * M, "1h30m"),
        (2 * H + 45 * M + 30 * S + 500 * MS, "2h45m30.5s"),
        (timedelta(days=2, seconds=1), "2d1s"),
    ],
)
def test_a_duration_is_shown_as_it_would_be_written(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value


def test_the_schema_checks_durations_with_the_same_pattern() -> None:
    schema = workflow_schema()["$defs"]["duration"]
    assert schema["pattern"] == DURATION_PATTERN
    assert "500ms" in schema["description"] and "1.5s" in schema["description"]
