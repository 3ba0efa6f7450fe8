"""The week view: which schedules fire in each UTC hour of the coming week, from their specs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from test_plan import calendar

from scheduled.daemon.week_view import WEEKDAYS, WeekView, week_view
from scheduled.model.calendar import Interval, Range
from scheduled.model.desired import Spec

MON, TUE, SUN = 0, 1, 6
# A Wednesday in winter, 10:20 UTC: Europe/Berlin is UTC+1 and New York UTC-5 all week.
WINTER = datetime(2026, 1, 14, 10, 20, tzinfo=UTC)


def cron(text: str, timezone: str = "UTC", **fields: datetime) -> Spec:
    return Spec(calendars=(calendar(text),), timezone=timezone, **fields)


def busy_cells(view: WeekView) -> dict[tuple[str, int], int]:
    return {
        (WEEKDAYS[day], hour): view.count(day, hour)
        for day in range(7)
        for hour in range(24)
        if view.count(day, hour)
    }


def test_a_herd_at_nine_on_monday_is_one_hot_cell() -> None:
    herd = [(f"report-{n}", cron("0 9 * * 1")) for n in range(3)]
    view = week_view([*herd, ("nightly", cron("0 3 * * *"))], WINTER)
    assert view.count(MON, 9) == 3
    assert view.cells[MON][9] == ("report-0", "report-1", "report-2")
    assert view.busiest == 3
    assert busy_cells(view) == {("Mon", 9): 3} | {(day, 3): 1 for day in WEEKDAYS}


def test_each_schedule_fires_in_its_own_zone_and_is_shown_in_utc() -> None:
    view = week_view(
        [
            ("berlin", cron("0 9 * * 1", "Europe/Berlin")),
            ("new-york", cron("0 9 * * 1", "America/New_York")),
        ],
        WINTER,
    )
    assert busy_cells(view) == {("Mon", 8): 1, ("Mon", 14): 1}


def test_a_daylight_saving_change_moves_the_utc_hour_within_the_week() -> None:
    # America/New_York springs forward on Sunday 2026-03-08 at 02:00: a schedule at 02:30 does
    # not run that day (as the server does it); at 04:00 local it is 09:00 UTC before, 08:00 after.
    view = week_view(
        [
            ("early", cron("30 2 * * *", "America/New_York")),
            ("four", cron("0 4 * * *", "America/New_York")),
        ],
        datetime(2026, 3, 5, 0, 0, tzinfo=UTC),  # a Thursday
    )
    early = {day for day in range(7) if view.count(day, 7) or view.count(day, 6)}
    assert SUN not in early and len(early) == 6
    assert view.count(SUN, 8) == 1 and view.count(SUN, 9) == 0  # Sunday the 8th, after
    assert view.count(3, 9) == 1  # Thursday the 5th, before


def test_an_every_minute_schedule_counts_once_in_every_hour() -> None:
    view = week_view([("chatty", cron("* * * * *"))], WINTER)
    assert all(view.count(day, hour) == 1 for day in range(7) for hour in range(24))


def test_intervals_count_like_calendars() -> None:
    every_five_hours = Spec(intervals=(Interval(every=timedelta(hours=5)),))
    view = week_view([("five", every_five_hours)], WINTER)
    assert sum(busy_cells(view).values()) in (33, 34)  # 168 hours / 5
    assert all(hour_count == 1 for hour_count in busy_cells(view).values())


def test_the_window_is_the_week_from_the_current_hour() -> None:
    view = week_view([("at-ten", cron("0 10 * * *")), ("at-eleven", cron("0 11 * * *"))], WINTER)
    assert view.start == datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
    assert view.end == view.start + timedelta(days=7)
    # Today's 10:00 is already past but inside the current hour: it counts, once a day.
    assert all(view.count(day, 10) == 1 and view.count(day, 11) == 1 for day in range(7))


def test_start_at_and_end_at_cut_the_week() -> None:
    spec = cron(
        "0 12 * * *",
        start_at=datetime(2026, 1, 16, tzinfo=UTC),  # Friday
        end_at=datetime(2026, 1, 18, 13, tzinfo=UTC),  # Sunday, after its fire
    )
    assert set(busy_cells(week_view([("window", spec)], WINTER))) == {
        ("Fri", 12),
        ("Sat", 12),
        ("Sun", 12),
    }


def test_an_unknown_time_zone_or_a_schedule_that_never_fires_adds_nothing() -> None:
    view = week_view(
        [("nowhere", cron("0 9 * * *", "Mars/Olympus")), ("feb-31", cron("0 9 31 2 *"))], WINTER
    )
    assert view.busiest == 0 and busy_cells(view) == {}


def test_a_skipped_day_shows_no_fire() -> None:
    weekends = replace(calendar("* * * * 6,0"), second=(Range(0, 59),))
    weekdays_only = replace(cron("0 3 * * *"), skip=(weekends,))
    view = week_view([("nightly", weekdays_only)], WINTER)
    assert busy_cells(view) == {(day, 3): 1 for day in WEEKDAYS if day not in ("Sat", "Sun")}
