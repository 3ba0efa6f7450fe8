"""The ownership memo and the write record: written by scheduled, read back from list results."""

from __future__ import annotations

import json

import pytest

from scheduled.model.calendar import Range
from scheduled.model.observed import WriteRecord
from scheduled.temporal.marker import (
    COMMENT_PREFIX,
    MANAGED_BY,
    MARKER_YEAR,
    MEMO_KEY,
    is_record_calendar,
    owner_from_memo,
    ownership_memo,
    parse_record,
    record_calendar,
)


def test_ownership_memo_names_the_project() -> None:
    assert ownership_memo("foo") == {MEMO_KEY: {"project": "foo", "managed_by": MANAGED_BY}}
    assert owner_from_memo(ownership_memo("foo")) == "foo"


@pytest.mark.parametrize(
    "memo",
    [
        None,
        {},
        {"other": {"project": "foo"}},
        {MEMO_KEY: "foo"},
        {MEMO_KEY: {"project": "foo"}},  # no managed_by: not ours
        {MEMO_KEY: {"project": "foo", "managed_by": "someone-else"}},
        {MEMO_KEY: {"project": 7, "managed_by": MANAGED_BY}},
    ],
)
def test_memo_without_our_marker_has_no_owner(memo: dict[str, object] | None) -> None:
    assert owner_from_memo(memo) is None


def test_record_round_trips_through_the_calendar_comment() -> None:
    record = WriteRecord(
        fingerprint="v1:abc",
        source="a/b.yaml",
        enabled=False,
        revision="0123456789ab",
        commit_time=1_700_000_000,
    )
    calendar = record_calendar(record)
    assert is_record_calendar(calendar)
    assert parse_record(calendar.comment) == record


def test_record_calendar_matches_only_one_second_of_the_year_2000() -> None:
    calendar = record_calendar(WriteRecord(fingerprint="f", source="s", enabled=True))
    assert calendar.year == (Range(MARKER_YEAR, MARKER_YEAR, 1),)
    assert (calendar.month, calendar.day_of_month) == ((Range(1, 1, 1),), (Range(1, 1, 1),))
    assert (calendar.hour, calendar.minute, calendar.second) == ((Range(0, 0, 1),),) * 3


def test_record_comment_is_compact_json() -> None:
    comment = record_calendar(WriteRecord(fingerprint="f", source="s", enabled=True)).comment
    payload = json.loads(comment.removeprefix(COMMENT_PREFIX))
    assert payload == {"fp": "f", "src": "s", "en": True, "rev": "", "gen": 0}
    assert " " not in comment.removeprefix(COMMENT_PREFIX)


def test_record_without_revision_fields_still_parses() -> None:
    comment = COMMENT_PREFIX + json.dumps({"fp": "f", "src": "s", "en": True})
    assert parse_record(comment) == WriteRecord(fingerprint="f", source="s", enabled=True)


@pytest.mark.parametrize(
    "comment",
    [
        "",
        "0 9 * * *",  # a cron comment of the user's
        COMMENT_PREFIX + "{not json",
        COMMENT_PREFIX + json.dumps({"fp": "f"}),  # keys missing
        COMMENT_PREFIX + json.dumps({"fp": "f", "src": "s", "en": True, "gen": "x"}),
        COMMENT_PREFIX + "[]",
    ],
)
def test_other_or_damaged_comments_are_no_record(comment: str) -> None:
    assert parse_record(comment) is None


def test_a_user_calendar_is_not_a_record_calendar() -> None:
    calendar = record_calendar(WriteRecord(fingerprint="f", source="s", enabled=True))
    from dataclasses import replace

    assert not is_record_calendar(replace(calendar, comment="0 9 * * *"))


def test_the_record_keeps_the_search_attribute_names_it_set() -> None:
    record = WriteRecord(
        fingerprint="v1:x", source="a.yaml", enabled=True, search_attribute_names=("Team", "Tier")
    )
    assert parse_record(record_calendar(record).comment) == record


def test_a_record_without_search_attributes_reads_as_before() -> None:
    record = WriteRecord(fingerprint="v1:x", source="a.yaml", enabled=True)
    assert '"sa"' not in record_calendar(record).comment


def test_the_record_keeps_both_the_run_limit_and_the_search_attribute_names() -> None:
    record = WriteRecord(
        fingerprint="v1:x",
        source="a.yaml",
        enabled=True,
        search_attribute_names=("Team",),
        max_runs=24,
    )
    payload = json.loads(record_calendar(record).comment.removeprefix(COMMENT_PREFIX))
    assert (payload["sa"], payload["max"]) == (["Team"], 24)
    assert parse_record(record_calendar(record).comment) == record
