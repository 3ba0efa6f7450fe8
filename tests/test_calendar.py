"""Calendar values, fire times (DST included, as the server computes them) and descriptions.

The DST expectations below were observed on a real Temporal server (next action times of
schedules around the 2027 changes); tests/test_cron_against_temporal.py re-checks them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduled.format.cron import compile_cron
from scheduled.model import calendar as calendar_module
from scheduled.model.calendar import (
    Calendar,
    CalendarError,
    Interval,
    Range,
    describe,
    describe_interval,
    dst_problems,
    never_fires,
    next_fire_times,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")


def cal(text: str) -> Calendar:
    calendar = compile_cron(text).calendar
    assert calendar is not None
    return calendar


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


def local_times(times: list[datetime], tz: ZoneInfo) -> list[str]:
    return [t.astimezone(tz).strftime("%m-%d %H:%M %Z") for t in times]


# --- values ----------------------------------------------------------------------------------


def test_range_defaults_like_the_sdk() -> None:
    assert Range(5) == Range(5, 5, 1)
    assert Range(3, 0, 0) == Range(3, 3, 1)


def test_range_rejects_a_negative_step() -> None:
    with pytest.raises(CalendarError):
        Range(0, 59, -1)


def test_calendar_defaults_are_the_sdk_defaults() -> None:
    assert Calendar() == cal("0 0 * * *")


def test_calendar_rejects_values_temporal_rejects() -> None:
    with pytest.raises(CalendarError, match="hour range 24-24 is outside 0-23"):
        Calendar(hour=(Range(24),))


def test_calendar_rejects_sunday_as_seven() -> None:
    with pytest.raises(CalendarError):
        Calendar(day_of_week=(Range(7),))


def test_calendar_turns_lists_into_tuples_and_is_hashable() -> None:
    calendar = Calendar(hour=[Range(9)])  # type: ignore[arg-type]
    assert calendar.hour == (Range(9),)
    assert hash(calendar) == hash(Calendar(hour=(Range(9),)))


def test_matches_needs_day_of_month_and_day_of_week() -> None:
    first_monday = cal("0 9 1 * 1")
    assert first_monday.matches(datetime(2027, 2, 1, 9))  # Monday the 1st
    assert not first_monday.matches(datetime(2027, 4, 1, 9))  # the 1st, a Thursday
    assert not first_monday.matches(datetime(2027, 2, 8, 9))  # a Monday, not the 1st


# --- next_fire_times -------------------------------------------------------------------------


def test_weekdays_at_nine_skip_the_weekend() -> None:
    friday_noon = utc(2026, 11, 27, 12)
    times = next_fire_times([cal("0 9 * * 1-5")], [], UTC_ZONE, friday_noon, 2)
    assert times == [utc(2026, 11, 30, 9), utc(2026, 12, 1, 9)]


def test_results_are_strictly_after_after() -> None:
    times = next_fire_times([cal("*/15 * * * *")], [], UTC_ZONE, utc(2027, 1, 1, 10, 15), 1)
    assert times == [utc(2027, 1, 1, 10, 30)]


def test_fractional_after_still_finds_the_next_whole_second() -> None:
    after = utc(2027, 1, 1, 10, 14, 59) + timedelta(microseconds=500_000)
    assert next_fire_times([cal("*/15 * * * *")], [], UTC_ZONE, after, 1) == [
        utc(2027, 1, 1, 10, 15)
    ]


def test_results_are_in_local_time_and_returned_as_utc() -> None:
    (first,) = next_fire_times([cal("0 9 * * *")], [], NEW_YORK, utc(2027, 1, 1), 1)
    assert first == utc(2027, 1, 1, 14)
    assert first.tzinfo is UTC


def test_several_calendars_merge_ascending_without_duplicates() -> None:
    times = next_fire_times(
        [cal("0 * * * *"), cal("*/30 * * * *")], [], UTC_ZONE, utc(2027, 1, 1), 4
    )
    assert times == [
        utc(2027, 1, 1, 0, 30),
        utc(2027, 1, 1, 1),
        utc(2027, 1, 1, 1, 30),
        utc(2027, 1, 1, 2),
    ]


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        next_fire_times([Calendar()], [], UTC_ZONE, datetime(2027, 1, 1), 1)


def test_interval_counts_from_the_epoch_plus_offset_in_utc() -> None:
    hourly_at_quarter_past = Interval(every=timedelta(hours=1), offset=timedelta(minutes=15))
    times = next_fire_times([], [hourly_at_quarter_past], NEW_YORK, utc(2027, 1, 1, 12, 20), 2)
    assert times == [utc(2027, 1, 1, 13, 15), utc(2027, 1, 1, 14, 15)]


def test_interval_of_seven_minutes_is_not_aligned_to_the_hour() -> None:
    (first,) = next_fire_times([], [Interval(timedelta(minutes=7))], UTC_ZONE, utc(2027, 1, 1), 1)
    assert first == utc(2027, 1, 1, 0, 2)  # 1970-01-01 + k * 7 min


def test_intervals_and_calendars_combine() -> None:
    times = next_fire_times(
        [cal("0 9 * * *")], [Interval(timedelta(hours=6))], UTC_ZONE, utc(2027, 1, 1, 5), 3
    )
    assert times == [utc(2027, 1, 1, 6), utc(2027, 1, 1, 9), utc(2027, 1, 1, 12)]


def test_start_at_skips_earlier_times_but_keeps_the_start_itself() -> None:
    times = next_fire_times(
        [cal("0 9 * * *")], [], UTC_ZONE, utc(2027, 1, 1), 1, start_at=utc(2027, 1, 5, 9)
    )
    assert times == [utc(2027, 1, 5, 9)]


def test_end_at_stops_the_list() -> None:
    times = next_fire_times(
        [cal("0 9 * * *")], [], UTC_ZONE, utc(2027, 1, 1), 10, end_at=utc(2027, 1, 3, 9)
    )
    assert times == [utc(2027, 1, 1, 9), utc(2027, 1, 2, 9), utc(2027, 1, 3, 9)]


def test_february_31_returns_nothing() -> None:
    assert next_fire_times([cal("0 9 31 2 *")], [], UTC_ZONE, utc(2027, 1, 1), 1) == []


def test_horizon_bounds_the_search() -> None:
    in_2040 = cal("0 0 0 1 1 * 2040")
    assert next_fire_times([in_2040], [], UTC_ZONE, utc(2027, 1, 1), 1) == []
    assert next_fire_times(
        [in_2040], [], UTC_ZONE, utc(2027, 1, 1), 1, horizon=timedelta(days=366 * 14)
    ) == [utc(2040, 1, 1)]


def test_temporal_never_looks_past_2100() -> None:
    new_year = cal("@yearly")
    far = timedelta(days=366 * 10)
    assert next_fire_times([new_year], [], UTC_ZONE, utc(2100, 6, 1), 1, horizon=far) == []


def test_leap_day_waits_for_a_leap_year() -> None:
    times = next_fire_times([cal("0 0 29 2 *")], [], UTC_ZONE, utc(2027, 1, 1), 1)
    assert times == [utc(2028, 2, 29)]


# --- DST, as the server does it -----------------------------------------------------------------


def test_new_york_spring_forward_skips_the_missing_time() -> None:
    times = next_fire_times([cal("30 2 * * *")], [], NEW_YORK, utc(2027, 3, 13, 12), 2)
    assert local_times(times, NEW_YORK) == ["03-15 02:30 EDT", "03-16 02:30 EDT"]


def test_new_york_fall_back_runs_the_repeated_time_twice() -> None:
    times = next_fire_times([cal("30 1 * * *")], [], NEW_YORK, utc(2027, 11, 6, 12), 3)
    assert local_times(times, NEW_YORK) == ["11-07 01:30 EDT", "11-07 01:30 EST", "11-08 01:30 EST"]


def test_berlin_spring_forward_skips_the_missing_time() -> None:
    times = next_fire_times([cal("30 2 * * *")], [], BERLIN, utc(2027, 3, 27, 12), 1)
    assert local_times(times, BERLIN) == ["03-29 02:30 CEST"]


def test_berlin_fall_back_runs_the_repeated_time_once_in_winter_time() -> None:
    times = next_fire_times([cal("30 2 * * *")], [], BERLIN, utc(2027, 10, 30, 12), 2)
    assert local_times(times, BERLIN) == ["10-31 02:30 CET", "11-01 02:30 CET"]


def test_berlin_fall_back_repeats_the_hour_before_one_hour_late() -> None:
    times = next_fire_times([cal("30 1 * * *")], [], BERLIN, utc(2027, 10, 30, 12), 3)
    assert local_times(times, BERLIN) == ["10-31 01:30 CEST", "10-31 02:30 CEST", "11-01 01:30 CET"]


def test_every_fifteen_minutes_runs_through_the_repeated_hour() -> None:
    times = next_fire_times([cal("*/15 * * * *")], [], NEW_YORK, utc(2027, 11, 7, 5, 50), 6)
    assert [t.strftime("%H:%M") for t in times] == [
        "06:00",
        "06:15",
        "06:30",
        "06:45",
        "07:00",
        "07:15",
    ]


# --- never_fires ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0 9 30 2 *", "0 9 31 4 *", "0 9 31 2,4,6,9,11 *"])
def test_never_fires_for_days_the_months_do_not_have(text: str) -> None:
    assert never_fires(cal(text))


def test_never_fires_for_a_leap_day_in_a_common_year() -> None:
    assert never_fires(cal("0 0 0 29 2 * 2027"))


def test_leap_day_fires_eventually() -> None:
    assert not never_fires(cal("0 0 29 2 *"))


def test_never_fires_with_an_empty_field() -> None:
    assert never_fires(Calendar(hour=()))


def test_the_13th_is_a_friday_in_some_year() -> None:
    assert not never_fires(cal("0 0 0 13 * 5 2027"))


def test_no_friday_the_31st_of_january_2027() -> None:
    assert never_fires(cal("0 0 0 31 1 5 2027"))


def test_a_year_in_the_past_is_not_structural() -> None:
    assert not never_fires(cal("0 0 0 1 1 * 2001"))


# --- dst_problems -----------------------------------------------------------------------------


def test_dst_problem_for_a_missing_time() -> None:
    assert dst_problems(cal("30 2 * * *"), NEW_YORK, range(2027, 2028)) == [
        "fires at 02:30, which does not exist on 2027-03-14 in America/New_York (clocks jump "
        "forward from 02:00 to 03:00), so Temporal skips it that day"
    ]


def test_dst_problem_for_a_repeated_time() -> None:
    assert dst_problems(cal("30 1 * * *"), NEW_YORK, range(2027, 2028)) == [
        "fires at 01:30, which happens twice on 2027-11-07 in America/New_York (clocks go back "
        "from 02:00 to 01:00); Temporal runs it twice"
    ]


def test_dst_problem_for_a_repeated_time_run_once() -> None:
    problems = dst_problems(cal("30 2 * * *"), BERLIN, range(2027, 2028))
    assert problems[1].endswith("Temporal runs it once")


def test_dst_problem_for_a_time_temporal_adds() -> None:
    (problem,) = dst_problems(cal("30 1 * * *"), BERLIN, range(2027, 2028))
    assert problem.startswith("Temporal also starts it at 02:30 CEST on 2027-10-31")


def test_no_dst_problems_for_schedules_that_run_every_hour() -> None:
    assert dst_problems(cal("*/15 * * * *"), NEW_YORK, range(2027, 2029)) == []


def test_no_dst_problems_in_utc() -> None:
    assert dst_problems(cal("30 2 * * *"), UTC_ZONE, range(2027, 2029)) == []


def test_no_dst_problems_on_days_the_schedule_skips() -> None:
    assert dst_problems(cal("30 2 * * 1-5"), NEW_YORK, range(2027, 2028)) == []


def test_dst_problems_cover_every_year_asked() -> None:
    assert len(dst_problems(cal("30 2 * * *"), NEW_YORK, range(2027, 2030))) == 3


# --- describe ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("0 9 * * 1-5", "at 09:00 on Mon–Fri"),
        ("*/15 * * * *", "every 15 minutes"),
        ("* * * * *", "every minute"),
        ("0 * * * *", "every hour"),
        ("5 * * * *", "every hour at minute 5"),
        ("15 */3 * * *", "every 3 hours at minute 15"),
        ("*/10 * * * * *", "every 10 seconds"),
        ("0 9,17 * * *", "at 09:00, 17:00"),
        ("30 2 1,15 * *", "at 02:30 on day 1, 15 of the month"),
        ("0 12 * JAN-MAR MON", "at 12:00 on Mon in Jan–Mar"),
        ("*/5 9-17 * * 1-5", "every 5 minutes during hours 9–17 on Mon–Fri"),
        ("@yearly", "at 00:00 on Jan 1"),
        ("@weekly", "at 00:00 on Sun"),
        ("0 0 9 * * 1-5 2027", "at 09:00 on Mon–Fri in 2027"),
    ],
)
def test_describe(text: str, english: str) -> None:
    assert describe(cal(text)) == english


def test_describe_interval() -> None:
    assert describe_interval(Interval(timedelta(minutes=90), timedelta(minutes=5))) == (
        "every 1h30m (offset 5m)"
    )


def test_matches_date_checks_only_the_date_fields() -> None:
    assert cal("0 9 1 * *").matches_date(date(2027, 3, 1))
    assert not cal("0 9 1 * *").matches_date(date(2027, 3, 2))


def test_dst_problems_since_a_moment_cover_only_the_coming_twelve_months() -> None:
    problems = dst_problems(
        cal("30 2 * * *"), BERLIN, range(2026, 2028), since=datetime(2026, 11, 27, tzinfo=UTC)
    )
    assert [problem.split(" on ")[1][:10] for problem in problems] == ["2027-03-28", "2027-10-31"]


# -- exclusions ----------------------------------------------------------------------------------


def _whole_days(year: int, month: int, first: int, last: int) -> Calendar:
    return Calendar(
        second=(Range(0, 59),),
        minute=(Range(0, 59),),
        hour=(Range(0, 23),),
        day_of_month=(Range(first, last),),
        month=(Range(month),),
        year=(Range(year),),
    )


def test_an_excluded_day_has_no_fire_time() -> None:
    nine = compile_cron("0 9 * * *").calendar
    assert nine is not None
    times = next_fire_times(
        [nine], [], UTC_ZONE, datetime(2027, 3, 1, tzinfo=UTC), 3,
        excludes=[_whole_days(2027, 3, 2, 3)],
    )  # fmt: skip
    assert [t.day for t in times] == [1, 4, 5]


def test_an_exclusion_matches_the_wall_clock_of_the_schedules_zone() -> None:
    # 23:30 UTC on 2027-03-01 is 00:30 on 2027-03-02 in Berlin: excluded there.
    times = next_fire_times(
        [], [Interval(timedelta(hours=1), timedelta(minutes=30))], BERLIN,
        datetime(2027, 3, 1, 22, 0, tzinfo=UTC), 2, excludes=[_whole_days(2027, 3, 2, 2)],
    )  # fmt: skip
    assert times == [
        datetime(2027, 3, 1, 22, 30, tzinfo=UTC),
        datetime(2027, 3, 2, 23, 30, tzinfo=UTC),  # 00:30 on the 3rd in Berlin
    ]


def test_a_whole_excluded_day_is_walked_past_in_one_step_even_for_every_second() -> None:
    times = next_fire_times(
        [], [Interval(timedelta(seconds=1))], UTC_ZONE, datetime(2027, 3, 1, tzinfo=UTC), 1,
        excludes=[_whole_days(2027, 3, 1, 31)],
    )  # fmt: skip
    assert times == [datetime(2027, 4, 1, tzinfo=UTC)]


def test_an_excluded_day_with_a_dst_change_is_walked_hour_by_hour() -> None:
    # 2027-03-14 in New York has 23 hours; the first fire after it is at midnight of the 15th.
    times = next_fire_times(
        [], [Interval(timedelta(minutes=20))], NEW_YORK, datetime(2027, 3, 14, 5, tzinfo=UTC), 1,
        excludes=[_whole_days(2027, 3, 14, 14)],
    )  # fmt: skip
    assert times == [datetime(2027, 3, 15, 4, tzinfo=UTC)]


def test_a_skip_that_excludes_everything_stops_the_walk_instead_of_running_forever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calendar_module, "MAX_SKIPPED", 1000)
    every_minute = Calendar(minute=(Range(0, 59),), hour=(Range(0, 23),))
    always = Calendar(second=(Range(0, 59, 2),), minute=(Range(0, 59),), hour=(Range(0, 23),))
    assert (
        next_fire_times(
            [every_minute], [], UTC_ZONE, datetime(2027, 1, 1, tzinfo=UTC), 1, excludes=[always]
        )
        == []
    )
