"""compile_cron and warnings_for: every form, every rejection, the columns errors point at."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cron_corpus import ACCEPTED, REJECTED

from scheduled.errors import ScheduledError
from scheduled.format.cron import CronError, compile_cron, warnings_for
from scheduled.model.calendar import Calendar, Interval, Range, never_fires


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted_strings_compile(text: str) -> None:
    compiled = compile_cron(text)
    assert (compiled.calendar is None) != (compiled.interval is None)


@pytest.mark.parametrize(("text", "fragment"), REJECTED)
def test_rejected_strings_say_why(text: str, fragment: str) -> None:
    with pytest.raises(CronError) as caught:
        compile_cron(text)
    assert fragment in caught.value.message
    assert 0 <= caught.value.column <= len(text)


def test_corpus_is_big_enough() -> None:
    assert len(ACCEPTED) + len(REJECTED) >= 100


def test_cron_error_is_a_scheduled_error_with_the_message_as_text() -> None:
    error = CronError("hour 24 is out of range 0-23", column=2)
    assert isinstance(error, ScheduledError)
    assert str(error) == "hour 24 is out of range 0-23"


def test_caret_points_at_the_column() -> None:
    with pytest.raises(CronError) as caught:
        compile_cron("0 24 * * *")
    assert caught.value.caret("0 24 * * *") == "0 24 * * *\n  ^"


def test_five_fields_are_minute_hour_dom_month_dow() -> None:
    compiled = compile_cron("0 9 * * 1-5 # hello")
    assert compiled.calendar == Calendar(
        second=(Range(0),),
        minute=(Range(0),),
        hour=(Range(9),),
        day_of_month=(Range(1, 31),),
        month=(Range(1, 12),),
        year=(),
        day_of_week=(Range(1, 5),),
        comment="hello",
    )
    assert compiled.interval is None
    assert compiled.timezone is None
    assert compiled.comment == "hello"
    assert compiled.temporal_form == "0 9 * * 1-5 # hello"


def test_six_fields_are_seconds_first_and_sent_as_seven() -> None:
    compiled = compile_cron("30 0 9 * * 1-5")
    assert compiled.calendar is not None
    assert compiled.calendar.second == (Range(30),)
    assert compiled.calendar.minute == (Range(0),)
    assert compiled.calendar.hour == (Range(9),)
    assert compiled.calendar.year == ()
    assert compiled.temporal_form == "30 0 9 * * 1-5 *"


def test_seven_fields_end_with_the_year() -> None:
    compiled = compile_cron("0 0 9 * * 1-5 2027-2030")
    assert compiled.calendar is not None
    assert compiled.calendar.year == (Range(2027, 2030),)
    assert compiled.temporal_form == "0 0 9 * * 1-5 2027-2030"


def test_year_star_is_the_empty_list_but_a_year_step_is_a_range() -> None:
    every_year = compile_cron("0 0 0 1 1 * *").calendar
    every_other = compile_cron("0 0 0 1 1 * */2").calendar
    assert every_year is not None and every_other is not None
    assert every_year.year == ()
    assert every_other.year == (Range(2000, 2100, 2),)


def test_value_with_step_runs_to_the_end_of_the_field() -> None:
    calendar = compile_cron("5/15 * * * *").calendar
    assert calendar is not None
    assert calendar.minute == (Range(5, 59, 15),)


def test_lists_keep_order_and_duplicates_like_temporal() -> None:
    calendar = compile_cron("5,1,5 * * * *").calendar
    assert calendar is not None
    assert calendar.minute == (Range(5), Range(1), Range(5))


@pytest.mark.parametrize(
    ("field", "ranges"),
    [
        ("7", (Range(0),)),
        ("0-7", (Range(0, 6),)),
        ("1-7", (Range(1, 6),)),
        ("5-7", (Range(0), Range(5, 6))),
        ("1-7/2", (Range(0), Range(1, 6, 2))),
        ("3-7/3", (Range(3, 6, 3),)),
        ("*/2", (Range(0, 6, 2),)),
        ("*/7", (Range(0), Range(0, 6, 7))),
        ("0,7", (Range(0), Range(0))),
    ],
)
def test_sunday_as_seven_becomes_zero_as_temporal_splits_it(
    field: str, ranges: tuple[Range, ...]
) -> None:
    calendar = compile_cron(f"* * * * {field}").calendar
    assert calendar is not None
    assert calendar.day_of_week == ranges


@pytest.mark.parametrize(
    ("text", "month", "dow"),
    [
        ("0 9 * jan-mar mon", (Range(1, 3),), (Range(1),)),
        ("0 9 * JANUARY TUES", (Range(1),), (Range(2),)),
        ("0 9 * sept MO-FR", (Range(9),), (Range(1, 5),)),
    ],
)
def test_names_are_case_insensitive_prefixes(
    text: str, month: tuple[Range, ...], dow: tuple[Range, ...]
) -> None:
    calendar = compile_cron(text).calendar
    assert calendar is not None
    assert (calendar.month, calendar.day_of_week) == (month, dow)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ],
)
def test_shortcuts_compile_like_their_five_fields(text: str, expected: str) -> None:
    assert compile_cron(text).calendar == compile_cron(expected).calendar
    assert compile_cron(text).temporal_form == text


def test_every_compiles_to_an_interval() -> None:
    compiled = compile_cron("@every 15m")
    assert compiled.calendar is None
    assert compiled.interval == Interval(every=timedelta(minutes=15))
    assert compiled.temporal_form == "@every 15m"


def test_every_with_offset() -> None:
    compiled = compile_cron("@every 1h30m/5m")
    assert compiled.interval == Interval(timedelta(hours=1, minutes=30), timedelta(minutes=5))


@pytest.mark.parametrize(
    ("text", "every"),
    [
        ("@every 1d", timedelta(days=1)),
        ("@every .5d", timedelta(hours=12)),
        ("@every 1.5h", timedelta(minutes=90)),
        ("@every 90s", timedelta(seconds=90)),
        ("@every 1h0m0s", timedelta(hours=1)),
    ],
)
def test_every_takes_go_durations_and_days(text: str, every: timedelta) -> None:
    interval = compile_cron(text).interval
    assert interval is not None
    assert interval.every == every


def test_time_zone_prefix() -> None:
    compiled = compile_cron("CRON_TZ=America/New_York 0 9 * * *")
    assert compiled.timezone == "America/New_York"
    assert compiled.temporal_form == "CRON_TZ=America/New_York 0 9 * * *"


def test_tz_prefix_is_written_as_cron_tz() -> None:
    compiled = compile_cron("TZ=Europe/Berlin 0 0 9 * * *")
    assert compiled.timezone == "Europe/Berlin"
    assert compiled.temporal_form == "CRON_TZ=Europe/Berlin 0 0 9 * * * *"


def test_temporal_form_normalises_whitespace_and_comment() -> None:
    compiled = compile_cron("  0\t9  * * 1-5   #   hi there  ")
    assert compiled.comment == "hi there"
    assert compiled.temporal_form == "0 9 * * 1-5 # hi there"


def test_comment_runs_to_the_end_after_the_first_hash() -> None:
    assert compile_cron("0 9 * * * # a # b").comment == "a # b"


def test_empty_comment_is_no_comment() -> None:
    compiled = compile_cron("0 9 * * * #")
    assert compiled.comment == ""
    assert compiled.temporal_form == "0 9 * * *"


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        pytest.param("0 9 * * 1#2", 9, None, id="quartz nth weekday: at the hash"),
        pytest.param("0 9 * *", 7, "expected 5, 6 or 7 fields, found 4", id="too few: at the end"),
        pytest.param("0 9 * * * * * 5", 14, None, id="too many: at the first extra field"),
        pytest.param(
            "0 9 1,15,32 * *", 9, "day of month 32 is out of range 1-31", id="into a list"
        ),
        pytest.param("0 9-24 * * *", 4, None, id="at the range end"),
        pytest.param("*/0 * * * *", 2, None, id="at the step"),
    ],
)
def test_error_column_points_at_the_offending_text(
    text: str, column: int, message: str | None
) -> None:
    with pytest.raises(CronError) as caught:
        compile_cron(text)
    assert caught.value.column == column
    if message is not None:
        assert caught.value.message == message


def test_error_column_counts_leading_whitespace_and_zone() -> None:
    text = "  CRON_TZ=UTC  0 60 * * *"
    with pytest.raises(CronError) as caught:
        compile_cron(text)
    assert text[caught.value.column :].startswith("60")


def test_no_warnings_for_a_plain_schedule() -> None:
    assert warnings_for(compile_cron("0 9 * * 1-5")) == []


def test_warns_that_dom_and_dow_are_anded() -> None:
    (warning,) = warnings_for(compile_cron("0 9 1 * 1"))
    assert "match both" in warning


def test_warns_when_a_step_leaves_one_value() -> None:
    (warning,) = warnings_for(compile_cron("*/100 * * * *"))
    assert "only 0 matches" in warning


def test_february_31_is_left_to_the_never_fires_check() -> None:
    compiled = compile_cron("0 9 31 2 *")
    assert warnings_for(compiled) == []
    assert compiled.calendar is not None and never_fires(compiled.calendar)


def test_warns_that_every_ignores_the_time_zone() -> None:
    (warning,) = warnings_for(compile_cron("CRON_TZ=Europe/Berlin @every 1h"))
    assert "no effect on @every" in warning


def test_warns_that_every_drops_the_comment() -> None:
    (warning,) = warnings_for(compile_cron("@every 1h # nightly"))
    assert "drops the comment" in warning


def test_warns_that_an_odd_interval_drifts_across_days() -> None:
    (warning,) = warnings_for(compile_cron("@every 7m"))
    assert warning.startswith("@every 7m does not divide into days")
