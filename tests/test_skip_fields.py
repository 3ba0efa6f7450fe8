"""skip_fields: `skip:` entries (dates, ranges of dates, crons) into exclude calendars."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from file_loading import load_text, schedule_of
from trees import workflow_yaml

from scheduled.format.skip_fields import day_calendars, day_span, skip_entries
from scheduled.model.calendar import Calendar, Range

WHOLE_DAY = {
    "second": (Range(0, 59),),
    "minute": (Range(0, 59),),
    "hour": (Range(0, 23),),
}


def skip_of(tmp_path: Path, skip: Any, **fields: Any) -> tuple[Calendar, ...]:
    fields.setdefault("cron", "0 9 * * *")
    return schedule_of(tmp_path, workflow_yaml("skipping", skip=skip, **fields)).spec.skip


def errors_of(tmp_path: Path, skip: Any) -> list[tuple[str, str, str]]:
    result = load_text(tmp_path, workflow_yaml("skipping", cron="0 9 * * *", skip=skip))
    return [(d.code, d.path, d.message) for d in result.diagnostics if d.is_error]


def days(year: int, month: int, first: int, last: int, comment: str) -> Calendar:
    return Calendar(
        year=(Range(year),),
        month=(Range(month),),
        day_of_month=(Range(first, last),),
        comment=comment,
        **WHOLE_DAY,
    )


def test_a_date_skips_every_second_of_that_day_not_only_its_midnight(tmp_path: Path) -> None:
    assert skip_of(tmp_path, "2026-12-25") == (days(2026, 12, 25, 25, "2026-12-25"),)


def test_a_range_inside_a_month_is_one_calendar(tmp_path: Path) -> None:
    skip = skip_of(tmp_path, [{"from": "2026-08-03", "to": "2026-08-14"}])
    assert skip == (days(2026, 8, 3, 14, "2026-08-03 to 2026-08-14"),)


def test_a_range_across_a_new_year_is_split_by_month_and_year() -> None:
    assert [
        (c.year, c.month, c.day_of_month)
        for c in day_calendars(date(2026, 11, 20), date(2029, 2, 3), "")
    ] == [
        ((Range(2026),), (Range(11),), (Range(20, 30),)),
        ((Range(2026),), (Range(12),), (Range(1, 31),)),
        ((Range(2027, 2028),), (Range(1, 12),), (Range(1, 31),)),
        ((Range(2029),), (Range(1),), (Range(1, 31),)),
        ((Range(2029),), (Range(2),), (Range(1, 3),)),
    ]


def test_a_range_of_whole_months_needs_no_partial_months() -> None:
    (calendar,) = day_calendars(date(2027, 2, 1), date(2027, 4, 30), "")
    assert (calendar.month, calendar.day_of_month) == ((Range(2, 4),), (Range(1, 31),))


def test_a_five_field_cron_skips_whole_minutes_and_six_fields_name_their_seconds(
    tmp_path: Path,
) -> None:
    weekends, noon_seconds = skip_of(tmp_path, ["* * * * 6,0", "*/10 0 12 * * *"])
    assert weekends.second == (Range(0, 59),) and weekends.day_of_week == (Range(6), Range(0))
    assert weekends.comment == "* * * * 6,0"
    assert noon_seconds.second == (Range(0, 59, 10),)


def test_one_entry_need_not_be_a_list(tmp_path: Path) -> None:
    assert skip_of(tmp_path, "* * * * 0") == skip_of(tmp_path, ["* * * * 0"])


@pytest.mark.parametrize(
    ("skip", "code", "path", "fragment"),
    [
        (["2026-02-30"], "skip.date", "schedule.skip[0]", "is not a real date"),
        (["1999-12-31"], "skip.year", "schedule.skip[0]", "(2000-2100)"),
        (
            [{"from": "2027-01-03", "to": "2026-12-20"}],
            "skip.range-reversed",
            "schedule.skip[0].to",
            "write the earlier day in `from`",
        ),
        (["@every 1h"], "skip.every", "schedule.skip[0]", "is an interval"),
        (["CRON_TZ=Asia/Tokyo * * * * *"], "skip.timezone", "schedule.skip[0]", "drop the prefix"),
        (["0 25 * * *"], "skip.cron", "schedule.skip[0]", "neither a date (YYYY-MM-DD) nor"),
        ([5], "schema.type", "schedule.skip[0]", "must be a date (2026-12-25), a range"),
        (
            [{"from": "tomorrow", "to": "2026-12-20"}],
            "schema.pattern",
            "schedule.skip[0].from",
            "is not a date; write YYYY-MM-DD",
        ),
        ([{"from": "2026-12-20"}], "schema.missing-key", "schedule.skip[0]", "needs the key `to`"),
        (
            [{"from": "2026-12-20", "to": "2026-12-21", "until": "2026-12-22"}],
            "schema.unknown-key",
            "schedule.skip[0].until",
            "allowed: from, to",
        ),
    ],
)
def test_a_bad_entry_is_reported_at_its_place_in_words(
    tmp_path: Path, skip: Any, code: str, path: str, fragment: str
) -> None:
    ((found_code, found_path, message),) = errors_of(tmp_path, skip)
    assert (found_code, found_path) == (code, path)
    assert fragment in message


def test_every_bad_entry_is_reported_and_the_good_ones_still_read(tmp_path: Path) -> None:
    found = errors_of(tmp_path, ["2026-02-30", "2026-12-25", "@every 1h"])
    assert [(code, path) for code, path, _ in found] == [
        ("skip.date", "schedule.skip[0]"),
        ("skip.every", "schedule.skip[2]"),
    ]


def test_a_skip_that_removes_every_fire_never_fires_and_says_so(tmp_path: Path) -> None:
    ((code, path, message),) = errors_of(tmp_path, ["* 9 * * *"])
    assert (code, path) == ("skip.never-fires", "schedule.skip")
    assert "leaves no time at which the schedule fires" in message


def test_a_skip_that_covers_the_whole_window_to_end_at_never_fires(tmp_path: Path) -> None:
    text = workflow_yaml(
        "window",
        cron="0 9 * * *",
        start_at="2027-01-01",
        end_at="2027-02-01",
        skip=[{"from": "2027-01-01", "to": "2027-01-31"}],
    )
    result = load_text(tmp_path, text)
    assert [d.code for d in result.diagnostics if d.is_error] == ["skip.never-fires"]


def test_the_split_range_reads_back_as_one_entry() -> None:
    calendars = day_calendars(date(2026, 12, 20), date(2027, 1, 3), "")
    assert skip_entries(calendars) == [{"from": "2026-12-20", "to": "2027-01-03"}]
    assert day_span(calendars[0]) == (date(2026, 12, 20), date(2026, 12, 31))


def test_two_ranges_side_by_side_stay_two_entries() -> None:
    first = day_calendars(date(2026, 12, 1), date(2026, 12, 10), "")
    second = day_calendars(date(2026, 12, 11), date(2026, 12, 20), "")
    assert skip_entries(first + second) == [
        {"from": "2026-12-01", "to": "2026-12-10"},
        {"from": "2026-12-11", "to": "2026-12-20"},
    ]


def test_a_skipped_day_that_has_passed_is_a_warning_to_remove_it(tmp_path: Path) -> None:
    # file_loading loads at 2026-03-01 12:00 UTC
    text = workflow_yaml(
        "old", cron="0 9 * * *", skip=["2025-12-25", {"from": "2026-02-20", "to": "2026-03-01"}]
    )
    result = load_text(tmp_path, text)
    assert result.schedule is not None
    (warning,) = [d for d in result.diagnostics if d.code == "skip.past"]
    assert (warning.severity, warning.path) == ("warning", "schedule.skip[0]")
    assert "ended on 2025-12-25 and skips nothing any more" in warning.message
