"""spec_fields: the "when" fields of a file into a Spec, every cron form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from file_loading import FULL, codes, load_text, schedule_of
from trees import workflow_yaml

from scheduled.model.calendar import Calendar, Interval, Range
from scheduled.model.desired import DesiredSchedule

ALL = Range(0, 59)
EVERY_HOUR = (Range(0, 23),)
EVERY_DAY = (Range(1, 31),)
EVERY_MONTH = (Range(1, 12),)
EVERY_WEEKDAY = (Range(0, 6),)


@pytest.fixture
def full(tmp_path: Path) -> DesiredSchedule:
    return schedule_of(tmp_path, FULL)


def test_cron_becomes_a_calendar_that_carries_the_cron_text(full: DesiredSchedule) -> None:
    assert full.spec.calendars == (
        Calendar(hour=(Range(9),), day_of_week=(Range(1, 5),), comment="0 9 * * 1-5"),
    )
    assert full.spec.cron_text == ("0 9 * * 1-5",)
    assert full.spec.intervals == ()


def test_start_at_and_end_at_become_utc_and_a_bare_date_is_midnight_in_the_zone(
    full: DesiredSchedule,
) -> None:
    assert full.spec.start_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert full.spec.end_at == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)  # New York midnight


def test_every_becomes_an_interval_and_offset_shifts_it(tmp_path: Path) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("interval", every="1h30m", offset="5m"))
    assert schedule.spec.intervals == (
        Interval(timedelta(hours=1, minutes=30), timedelta(minutes=5)),
    )
    assert schedule.spec.calendars == ()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), ("1d2h3m4s", 93784)],
)
def test_durations_accept_every_unit(tmp_path: Path, text: str, seconds: int) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("duration", every="1d", jitter=text))
    assert schedule.spec.jitter == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-06-01T09:30:00Z", datetime(2026, 6, 1, 9, 30, tzinfo=UTC)),
        ("2026-06-01T09:30:00+02:00", datetime(2026, 6, 1, 7, 30, tzinfo=UTC)),
        ("2026-06-01 09:30", datetime(2026, 6, 1, 7, 30, tzinfo=UTC)),  # in Europe/Berlin
        ("2026-06-01", datetime(2026, 5, 31, 22, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_without_an_offset_are_read_in_the_schedules_zone(
    tmp_path: Path, written: str, expected: datetime
) -> None:
    text = workflow_yaml("stamp", every="1h", timezone="Europe/Berlin", start_at=written)
    assert schedule_of(tmp_path, text).spec.start_at == expected


@pytest.mark.parametrize(
    ("cron", "calendar"),
    [
        ("0 9 * * 1-5", Calendar(hour=(Range(9),), day_of_week=(Range(1, 5),))),
        ("*/15 * * * *", Calendar(minute=(Range(0, 59, 15),), hour=EVERY_HOUR)),
        (
            "30 2 1,15 * *",
            Calendar(minute=(Range(30),), hour=(Range(2),), day_of_month=(Range(1), Range(15))),
        ),
        (
            "0 12 * JAN-MAR MON",
            Calendar(hour=(Range(12),), month=(Range(1, 3),), day_of_week=(Range(1),)),
        ),
        ("0 0 12 * * FRI", Calendar(hour=(Range(12),), day_of_week=(Range(5),))),  # seconds first
        ("15 0 12 * * *", Calendar(second=(Range(15),), hour=(Range(12),))),
        (
            "30 0 6 1 1 * 2030",
            Calendar(
                second=(Range(30),),
                hour=(Range(6),),
                day_of_month=(Range(1),),
                month=(Range(1),),
                year=(Range(2030),),
            ),
        ),
        ("@hourly", Calendar(hour=EVERY_HOUR)),
        ("@daily", Calendar()),
        ("@midnight", Calendar()),
        ("@weekly", Calendar(day_of_week=(Range(0),))),
        ("@monthly", Calendar(day_of_month=(Range(1),))),
        ("@yearly", Calendar(day_of_month=(Range(1),), month=(Range(1),))),
        ("@annually", Calendar(day_of_month=(Range(1),), month=(Range(1),))),
        (
            "0 9 * * MON-FRI # weekdays",
            Calendar(hour=(Range(9),), day_of_week=(Range(1, 5),), comment="weekdays"),
        ),
    ],
)
def test_each_cron_form_compiles_to_its_calendar(
    tmp_path: Path, cron: str, calendar: Calendar
) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("cron", cron=cron, jitter="1m"))
    (compiled,) = schedule.spec.calendars
    assert compiled == Calendar(
        second=calendar.second,
        minute=calendar.minute,
        hour=calendar.hour,
        day_of_month=calendar.day_of_month,
        month=calendar.month,
        year=calendar.year,
        day_of_week=calendar.day_of_week,
        comment=cron,
    )


@pytest.mark.parametrize(
    ("cron", "interval"),
    [
        ("@every 15m", Interval(timedelta(minutes=15))),
        ("@every 1h/5m", Interval(timedelta(hours=1), timedelta(minutes=5))),
    ],
)
def test_an_every_cron_becomes_an_interval(tmp_path: Path, cron: str, interval: Interval) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("every-cron", cron=cron))
    assert (schedule.spec.calendars, schedule.spec.intervals) == ((), (interval,))


def test_a_list_of_crons_gives_one_calendar_each_in_order(tmp_path: Path) -> None:
    text = workflow_yaml("list", cron=["30 7 * * MON", "0 0 12 * * FRI", "@every 6h"], jitter="1m")
    schedule = schedule_of(tmp_path, text)
    assert [calendar.comment for calendar in schedule.spec.calendars] == [
        "30 7 * * MON",
        "0 0 12 * * FRI",
    ]
    assert schedule.spec.intervals == (Interval(timedelta(hours=6)),)
    assert schedule.spec.cron_text == ("30 7 * * MON", "0 0 12 * * FRI", "@every 6h")


def test_a_cron_tz_prefix_sets_the_schedules_zone(tmp_path: Path) -> None:
    schedule = schedule_of(
        tmp_path, workflow_yaml("tz", cron="CRON_TZ=Asia/Tokyo 0 9 * * *", jitter="1m")
    )
    assert schedule.spec.timezone == "Asia/Tokyo"


def test_a_cron_tz_prefix_that_agrees_with_timezone_is_fine(tmp_path: Path) -> None:
    text = workflow_yaml(
        "tz", cron="CRON_TZ=Asia/Tokyo 0 9 * * *", timezone="Asia/Tokyo", jitter="1m"
    )
    assert schedule_of(tmp_path, text).spec.timezone == "Asia/Tokyo"


def test_a_cron_longer_than_temporals_comment_limit_is_refused_before_temporal_does(
    tmp_path: Path,
) -> None:
    cron = "0 9 * * * # " + "x" * 189  # 201 bytes: the calendar's comment would be too long
    result = load_text(tmp_path, workflow_yaml("long", cron=cron, jitter="1m"))
    assert codes(result) == ["cron.too-long"]
    at_limit = load_text(tmp_path, workflow_yaml("long", cron=cron[:-1], jitter="1m"))
    assert at_limit.valid


def test_a_cron_error_in_a_list_names_the_item_and_the_others_still_compile(tmp_path: Path) -> None:
    text = workflow_yaml("list", cron=["0 9 * * *", "0 99 * * *", "0 9 31 2 *"], jitter="1m")
    result = load_text(tmp_path, text)
    assert [(d.code, d.path) for d in result.diagnostics if d.is_error] == [
        ("cron.invalid", "schedule.cron[1]"),
        ("cron.never-fires", "schedule.cron[2]"),
    ]


# -- durations finer than a second ---------------------------------------------------------------


def test_a_jitter_under_a_second_is_kept_as_temporal_honours_it(tmp_path: Path) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("jitter", cron="0 9 * * *", jitter="500ms"))
    assert schedule.spec.jitter == timedelta(milliseconds=500)


@pytest.mark.parametrize(
    ("fields", "path", "words"),
    [
        ({"every": "1.5s"}, "schedule.every", "`every` (1.5s) is not a whole number of seconds"),
        ({"every": "500ms"}, "schedule.every", "`every` (500ms) is not a whole number"),
        (
            {"every": "1m", "offset": "2.5s"},
            "schedule.offset",
            "`offset` (2.5s) is not a whole number of seconds",
        ),
    ],
)
def test_an_interval_finer_than_a_second_is_refused_as_temporal_would_not_honour_it(
    tmp_path: Path, fields: dict[str, str], path: str, words: str
) -> None:
    (error,) = load_text(tmp_path, workflow_yaml("fraction", **fields)).diagnostics
    assert (error.code, error.path) == ("schedule.interval-fraction", path)
    assert words in error.message and "fires intervals on whole seconds only" in error.message


def test_an_interval_in_go_form_is_read(tmp_path: Path) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("go", every="1h30m", offset="2m30s"))
    assert schedule.spec.intervals == (
        Interval(timedelta(hours=1, minutes=30), timedelta(minutes=2, seconds=30)),
    )


# -- several intervals, and intervals beside crons ---------------------------------------------


def test_every_as_a_list_gives_one_interval_each_with_its_own_offset(tmp_path: Path) -> None:
    schedule = schedule_of(
        tmp_path, workflow_yaml("intervals", every=["1h", {"every": "90m", "offset": "10m"}])
    )
    assert schedule.spec.intervals == (
        Interval(timedelta(hours=1)),
        Interval(timedelta(minutes=90), timedelta(minutes=10)),
    )


def test_every_as_one_mapping_is_one_interval(tmp_path: Path) -> None:
    schedule = schedule_of(
        tmp_path, workflow_yaml("interval", every={"every": "15m", "offset": "2m"})
    )
    assert schedule.spec.intervals == (Interval(timedelta(minutes=15), timedelta(minutes=2)),)


def test_cron_and_every_together_fire_at_the_times_of_each(tmp_path: Path) -> None:
    schedule = schedule_of(
        tmp_path, workflow_yaml("both", cron=["0 9 * * *", "@every 10h"], every="6h")
    )
    assert [c.comment for c in schedule.spec.calendars] == ["0 9 * * *"]
    # `every` first, then the crons' @every entries, in the order written.
    assert schedule.spec.intervals == (Interval(timedelta(hours=6)), Interval(timedelta(hours=10)))


def test_an_offset_beside_an_every_list_is_an_error_that_says_where_it_goes(
    tmp_path: Path,
) -> None:
    result = load_text(tmp_path, workflow_yaml("x", every=["1h", "2h"], offset="5m"))
    (error,) = [d for d in result.diagnostics if d.is_error]
    assert (error.code, error.path) == ("schedule.offset-with-list", "schedule.offset")
    assert "{every: 90m, offset: 10m}" in error.message


def test_an_offset_in_every_and_beside_it_is_an_error(tmp_path: Path) -> None:
    text = workflow_yaml("x", every={"every": "1h", "offset": "5m"}, offset="5m")
    assert "schedule.offset-twice" in codes(load_text(tmp_path, text))


def test_each_bad_entry_of_an_every_list_is_reported_at_its_place(tmp_path: Path) -> None:
    text = workflow_yaml("x", every=["1h", {"every": "1h", "offset": "2h"}, "1.5s", "0s"])
    errors = [(d.code, d.path) for d in load_text(tmp_path, text).diagnostics if d.is_error]
    assert errors == [
        ("schedule.offset-too-large", "schedule.every[1].offset"),
        ("schedule.interval-fraction", "schedule.every[2]"),
        ("schedule.every-zero", "schedule.every[3]"),
    ]


def test_a_schedule_with_neither_cron_nor_every_says_both_are_allowed(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("x", timezone="UTC"))
    (error,) = [d for d in result.diagnostics if d.is_error]
    assert error.code == "schema.cron-or-every" and "or both" in error.message
