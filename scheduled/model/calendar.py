"""Temporal's structured calendar as plain values, and the times at which it fires.

The types mirror temporalio's `ScheduleRange`, `ScheduleCalendarSpec` and `ScheduleIntervalSpec`
without importing the SDK, so they compare field by field with what `describe()` returns. The fire
time computation is a port of the server's own (service/worker/scheduler/calendar.go and spec.go),
DST quirks included, so that `scheduled` can say when a schedule will run without asking a server.

Daylight saving time, as Temporal does it (checked against a real server):

- The server resolves a local wall time with Go's `time.Date`. For a wall time that does not
  exist (spring forward), the scheduler sees that the hour came out different and skips it: a
  schedule at 02:30 does not run at all on that day in America/New_York or Europe/Berlin.
- For a wall time that happens twice (fall back), `time.Date` picks the occurrence whose offset
  it finds first when it looks the wall time up as if it were UTC: the *first* (summer time)
  occurrence in zones west of Greenwich, the *second* (standard time) in zones east of it. When the
  scheduler's hour-by-hour walk sees an hour that lasted two hours it walks that hour again one
  hour later. Net effect: in America/New_York a schedule at 01:30 runs twice (01:30 EDT and 01:30
  EST); in Europe/Berlin a schedule at 02:30 runs once (02:30 CET), while one at 01:30 runs at 01:30
  CEST and again one hour later, at 02:30 CEST, and `*/15 1-2 * * *` even runs at 03:30 CET.

`next_fire_times` reproduces all of this; `dst_problems` puts it into sentences.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduled.errors import ScheduledError
from scheduled.model.durations import format_duration

# Temporal only recognises these years; the scheduler never looks past the last one
# ("If you're still using Temporal in 2100 please change this constant and rebuild").
MIN_YEAR = 2000
MAX_YEAR = 2100

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY = 86400
_HOUR = 3600

_DOW_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTH_NAMES = (
    "",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# The most days each month can have (February 29 in leap years).
_MAX_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class CalendarError(ScheduledError, ValueError):
    """A calendar value that Temporal would reject (out of range, bad step)."""


@dataclass(frozen=True, slots=True)
class Range:
    """Inclusive range `start..end` by `step`, like Temporal's ScheduleRange.

    Normalised exactly as the SDK does, so values compare equal to what `describe()` returns:
    an `end` below `start` (including the default 0) means `end = start`, and step 0 means 1.
    """

    start: int
    end: int = 0
    step: int = 1

    def __post_init__(self) -> None:
        if self.end < self.start:
            object.__setattr__(self, "end", self.start)
        if self.step == 0:
            object.__setattr__(self, "step", 1)
        if self.step < 0:
            raise CalendarError(f"a range step must be at least 1, not {self.step}")

    def values(self) -> range:
        return range(self.start, self.end + 1, self.step)


# (field name, low, high) as Temporal's validateStructuredCalendar checks them.
_BOUNDS: tuple[tuple[str, int, int], ...] = (
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day_of_month", 1, 31),
    ("month", 1, 12),
    ("year", MIN_YEAR, MAX_YEAR),
    ("day_of_week", 0, 6),
)
_LABELS = {
    "second": "second",
    "minute": "minute",
    "hour": "hour",
    "day_of_month": "day of month",
    "month": "month",
    "year": "year",
    "day_of_week": "day of week",
}


def _next_table(values: frozenset[int], size: int) -> tuple[int, ...]:
    """table[v] = smallest matching value >= v, or `size` when there is none."""
    table = [size] * (size + 1)
    following = size
    for v in range(size - 1, -1, -1):
        if v in values:
            following = v
        table[v] = following
    return tuple(table)


class _Matcher:
    """The expanded value sets of one Calendar, built once so that matching is table lookups."""

    __slots__ = (
        "dom",
        "dow",
        "hour_next",
        "hours",
        "minute_next",
        "minutes",
        "month_next",
        "months",
        "second_next",
        "seconds",
        "years",
    )

    def __init__(self, cal: Calendar) -> None:
        def expand(ranges: Iterable[Range]) -> frozenset[int]:
            return frozenset(v for r in ranges for v in r.values())

        self.seconds = expand(cal.second)
        self.minutes = expand(cal.minute)
        self.hours = expand(cal.hour)
        self.dom = expand(cal.day_of_month)
        self.months = expand(cal.month)
        self.dow = expand(cal.day_of_week)
        # An empty year list means every year (unlike every other field, where empty is never).
        self.years: frozenset[int] | None = expand(cal.year) if cal.year else None
        self.second_next = _next_table(self.seconds, 60)
        self.minute_next = _next_table(self.minutes, 60)
        self.hour_next = _next_table(self.hours, 24)
        self.month_next = _next_table(self.months, 13)


@dataclass(frozen=True, slots=True, kw_only=True)
class Calendar:
    """When to fire, field by field, like temporalio's ScheduleCalendarSpec (same defaults).

    A time matches when every field matches; day of month AND day of week must both match
    (classic cron ORs them when both are restricted; Temporal does not). 0 = Sunday.
    """

    second: tuple[Range, ...] = (Range(0),)
    minute: tuple[Range, ...] = (Range(0),)
    hour: tuple[Range, ...] = (Range(0),)
    day_of_month: tuple[Range, ...] = (Range(1, 31),)
    month: tuple[Range, ...] = (Range(1, 12),)
    year: tuple[Range, ...] = ()
    day_of_week: tuple[Range, ...] = (Range(0, 6),)
    comment: str = ""

    def __post_init__(self) -> None:
        for name, low, high in _BOUNDS:
            ranges = tuple(getattr(self, name))
            object.__setattr__(self, name, ranges)
            for r in ranges:
                if not low <= r.start <= high or r.end > high:
                    raise CalendarError(
                        f"{_LABELS[name]} range {r.start}-{r.end} is outside {low}-{high}"
                    )

    def matches(self, local: datetime) -> bool:
        """Whether this wall-clock time (its fields as they stand) is one of the fire times."""
        m = _matcher(self)
        return (
            (m.years is None or local.year in m.years)
            and local.month in m.months
            and local.day in m.dom
            and (local.weekday() + 1) % 7 in m.dow
            and local.hour in m.hours
            and local.minute in m.minutes
            and local.second in m.seconds
        )

    def matches_date(self, day: date) -> bool:
        """Whether some time on this civil date can match (year, month, day and weekday)."""
        m = _matcher(self)
        return (
            (m.years is None or day.year in m.years)
            and day.month in m.months
            and day.day in m.dom
            and (day.weekday() + 1) % 7 in m.dow
        )


@functools.lru_cache(maxsize=1024)
def _matcher(calendar: Calendar) -> _Matcher:
    """Expanded once per distinct calendar (kept out of the dataclass so asdict stays clean)."""
    return _Matcher(calendar)


@dataclass(frozen=True, slots=True)
class Interval:
    """Fire at Unix epoch + k * every + offset (UTC seconds, whatever the time zone)."""

    every: timedelta
    offset: timedelta = timedelta(0)


# ---------------------------------------------------------------------------------------------
# Go's time semantics on top of zoneinfo


class _Zone:
    """A time zone with the operations the Go scheduler needs, in Unix seconds."""

    __slots__ = ("tz",)

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def offset(self, instant: int) -> int:
        delta = datetime.fromtimestamp(instant, self.tz).utcoffset()
        assert delta is not None
        return delta.days * _DAY + delta.seconds

    def local(self, instant: int) -> datetime:
        return datetime.fromtimestamp(instant, self.tz)

    def date(self, y: int, mo: int, d: int, h: int, mi: int, s: int) -> int:
        """Go's time.Date(y, mo, d, h, mi, s, 0, tz).Unix(), out-of-range fields included.

        Go looks the wall time up as if it were a UTC instant, takes that offset, and if the
        result falls outside that offset's period looks up the offset there instead. So a
        repeated wall time resolves to the first occurrence west of Greenwich and the second
        east of it, and a skipped one lands an hour off (the scheduler notices and skips it).
        """
        days = date(y, mo, 1).toordinal() - _EPOCH_ORDINAL + d - 1
        wall = days * _DAY + h * _HOUR + mi * 60 + s
        return wall - self.offset(wall - self.offset(wall))

    def weekday(self, instant: int) -> int:
        """Go's Weekday (0 = Sunday) of the instant in this zone."""
        return (self.local(instant).weekday() + 1) % 7


def _days_in_month(mo: int, y: int) -> int:
    """Go's daysInMonth, which also answers 30 for the month 13 that carries produce."""
    if mo == 2:
        return 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28
    return 30 + ((0b1010110101010 >> mo) & 1)


# Long on purpose: a line-by-line port of the server's calendar walk (Go), easier to check that way.
def _calendar_next(m: _Matcher, zone: _Zone, ts: int, last_year: int) -> int | None:
    """The first fire time after `ts` (Unix seconds): compiledCalendar.next, statement by statement.

    Only the one-step loops are replaced by table jumps; `last_year` bounds the search.
    """
    now = zone.local(ts)
    y, mo, d, h, mi, s = now.year, now.month, now.day, now.hour, now.minute, now.second
    dstoffset = 0
    if zone.local(ts - _HOUR).hour == h:
        # we are in the second copy of a repeated (fall-back) hour
        dstoffset = _HOUR
    s += 1
    last_year = min(last_year, MAX_YEAR)
    while True:
        # normalise after carries
        if s >= 60:
            mi, s = mi + 1, 0
        if mi >= 60:
            prev = zone.date(y, mo, d, h, 0, 0)
            h, mi = h + 1, 0
            following = zone.date(y, mo, d, h, 0, 0)
            # The hour just walked lasted two hours: walk it again, one hour later.
            if dstoffset == 0 and following - prev > _HOUR:
                h -= 1
                dstoffset = _HOUR
            else:
                dstoffset = 0
        if h >= 24:
            d, h = d + 1, 0
        if d > _days_in_month(mo, y):
            mo, d = mo + 1, 1
        if mo > 12:
            y, mo = y + 1, 1
        if y > last_year:
            return None
        if m.years is not None and y not in m.years:
            y, mo, d, h, mi, s = y + 1, 1, 1, 0, 0, 0
            dstoffset = 0
            continue
        if mo not in m.months:
            mo, d, h, mi, s = m.month_next[mo], 1, 0, 0, 0
            dstoffset = 0
            if mo > 12:
                continue
        dim = _days_in_month(mo, y)
        # Go takes the weekday of time.Date(y, mo, d, h, mi, s) in the zone, not of the civil
        # date: the two differ only inside a DST gap that crosses midnight.
        while d not in m.dom or zone.weekday(zone.date(y, mo, d, h, mi, s)) not in m.dow:
            d, h, mi, s = d + 1, 0, 0, 0
            dstoffset = 0
            if d > dim:
                break
        if d > dim:
            continue
        if h not in m.hours:
            h, mi, s = m.hour_next[h], 0, 0
            dstoffset = 0
            if h >= 24:
                continue
        if mi not in m.minutes:
            mi, s = m.minute_next[mi], 0
            if mi >= 60:
                continue
        if s not in m.seconds:
            s = m.second_next[s]
            if s >= 60:
                continue
        found = zone.date(y, mo, d, h, mi, s)
        # A wall time skipped by spring-forward comes back with another hour: skip it.
        if zone.local(found).hour != h:
            h, mi, s = h + 1, 0, 0
            continue
        return found + dstoffset


def _go_div(a: int, b: int) -> int:
    """Go's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _interval_next(interval: Interval, ts: int) -> int:
    # Temporal works in whole seconds: 1500ms is an interval of 1 s.
    every = max(int(interval.every / timedelta(seconds=1)), 1)
    phase = max(int(interval.offset / timedelta(seconds=1)), 0)
    return (_go_div(ts - phase, every) + 1) * every + phase


def _floor_seconds(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware datetime")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * _DAY + delta.seconds


def next_fire_times(
    calendars: Sequence[Calendar],
    intervals: Sequence[Interval],
    tz: ZoneInfo,
    after: datetime,
    count: int,
    *,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    horizon: timedelta = timedelta(days=366 * 5),
    excludes: Sequence[Calendar] = (),
) -> list[datetime]:
    """The next `count` nominal fire times (no jitter) strictly after `after`, as aware UTC.

    Same rules as the server's GetNextTime: the earliest of all calendars and intervals, times
    before `start_at` skipped, nothing after `end_at`, a time whose wall clock in `tz` an
    exclude calendar matches skipped, one-second resolution. Stops early at `after + horizon`
    (or after MAX_SKIPPED excluded times in a row), so a spec that can never fire (February
    31) returns [].
    """
    ts = _floor_seconds(after)
    limit = ts + int(horizon / timedelta(seconds=1))
    skipped = 0
    if start_at is not None and after < start_at:
        ts = _floor_seconds(start_at) - 1
    if end_at is not None:
        _floor_seconds(end_at)  # rejects a naive end_at
    zone = _Zone(tz)
    matchers = [_matcher(c) for c in calendars]
    last_year = datetime.fromtimestamp(limit, UTC).year + 1
    found: list[datetime] = []
    while len(found) < count:
        best: int | None = None
        for matcher in matchers:
            nxt = _calendar_next(matcher, zone, ts, last_year)
            if nxt is not None and (best is None or nxt < best):
                best = nxt
        for interval in intervals:
            nxt = _interval_next(interval, ts)
            if best is None or nxt < best:
                best = nxt
        if best is None or best > limit:
            break
        moment = datetime.fromtimestamp(best, UTC)
        if end_at is not None and moment > end_at:
            break
        excluded = next((c for c in excludes if c.matches(zone.local(best))), None)
        if excluded is not None:
            # The server's GetNextTime steps from one excluded nominal time to the next; the
            # ones inside the same excluded minute, hour or day are skipped in one go here.
            skipped += 1
            if skipped > MAX_SKIPPED:
                break
            ts = _end_of_excluded(excluded, zone, best)
            continue
        skipped = 0
        found.append(moment)
        ts = best
    return found


# How many excluded fire times in a row next_fire_times walks past before it gives up: a skip
# that removes every fire of a spec firing each minute until 2100 would walk forever.
MAX_SKIPPED = 100_000


def _end_of_excluded(calendar: Calendar, zone: _Zone, ts: int) -> int:
    """The last second of the local minute, hour or day around `ts` that `calendar` excludes
    in full (seconds, then minutes, then hours all matching), or `ts` when it excludes only
    that second or the UTC offset changes in between (a DST change: walked second by second)."""
    m = _matcher(calendar)
    local = zone.local(ts)
    rest = 0
    if len(m.seconds) == 60:
        rest = 59 - local.second
        if len(m.minutes) == 60:
            rest += (59 - local.minute) * 60
            if len(m.hours) == 24:
                rest += (23 - local.hour) * _HOUR
    end = ts + rest
    if rest and zone.offset(end) == zone.offset(ts):
        return end
    return ts


# ---------------------------------------------------------------------------------------------
# Structural checks and sentences


def never_fires(calendar: Calendar) -> bool:
    """True when no date can match (an empty field, February 30, the 31st of a 30-day month).

    Purely structural: a year list entirely in the past is left to next_fire_times.
    """
    m = _matcher(calendar)
    if not (m.seconds and m.minutes and m.hours and m.dom and m.months and m.dow):
        return True  # a field other than year with no ranges matches nothing
    if m.years is None:
        # Within 2000-2100 every real month/day, February 29 included, falls on every weekday.
        return not any(d <= _MAX_DAYS[mo] for mo in m.months for d in m.dom)
    for y in sorted(m.years):
        for mo in sorted(m.months):
            first_weekday = (date(y, mo, 1).weekday() + 1) % 7
            dim = _days_in_month(mo, y)
            for d in m.dom:
                if d <= dim and (first_weekday + d - 1) % 7 in m.dow:
                    return False
    return True


def _transitions(tz: ZoneInfo, year: int) -> list[tuple[int, int, int]]:
    """(instant, offset before, offset after) of each UTC-offset change whose date is in `year`."""
    zone = _Zone(tz)
    begin = (date(year, 1, 1).toordinal() - _EPOCH_ORDINAL - 1) * _DAY
    stop = (date(year + 1, 1, 1).toordinal() - _EPOCH_ORDINAL + 1) * _DAY
    found: list[tuple[int, int, int]] = []
    low, low_offset = begin, zone.offset(begin)
    while low < stop:
        high = low + 6 * _HOUR
        high_offset = zone.offset(high)
        if high_offset != low_offset:
            a, b = low, high  # offset changes in (a, b]
            while b - a > 1:
                middle = (a + b) // 2
                if zone.offset(middle) == low_offset:
                    a = middle
                else:
                    b = middle
            local_day = _civil(b + low_offset).date()
            if local_day.year == year:
                found.append((b, low_offset, high_offset))
        low, low_offset = high, high_offset
    return found


def _civil(wall: int) -> datetime:
    """Wall-clock seconds since 1970-01-01 00:00 as a naive datetime."""
    return datetime(1970, 1, 1) + timedelta(seconds=wall)


def _clock(moment: datetime) -> str:
    text = moment.strftime("%H:%M")
    return f"{text}:{moment.second:02d}" if moment.second else text


def _wall_times(calendar: Calendar, begin: int, end: int) -> list[datetime]:
    """Wall-clock times in [begin, end) (wall seconds) that the calendar matches."""
    m = _matcher(calendar)
    found: list[datetime] = []
    hour_start = begin - begin % _HOUR
    for hour_wall in range(hour_start, end, _HOUR):
        at = _civil(hour_wall)
        if not calendar.matches_date(at.date()) or at.hour not in m.hours:
            continue
        for minute in sorted(m.minutes):
            for second in sorted(m.seconds):
                wall = hour_wall + minute * 60 + second
                if begin <= wall < end:
                    found.append(_civil(wall))
    return found


def _listing(times: Sequence[datetime]) -> str:
    shown = [_clock(t) for t in times[:3]]
    text = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return text + (f" and {len(times) - 3} more times" if len(times) > 3 else "")


def dst_problems(
    calendar: Calendar, tz: ZoneInfo, years: range, *, since: datetime | None = None
) -> list[str]:
    """Sentences about fire times that a DST change in `years` skips, repeats or moves; with
    `since`, only changes from that moment on (e.g. the coming twelve months).

    Schedules that fire in every hour of the day are left out: for them a skipped or repeated
    hour is the clock doing what it says.
    """
    if len(_matcher(calendar).hours) == 24 or never_fires(calendar):
        return []
    problems: list[str] = []
    first = int(since.timestamp()) if since is not None else None
    for year in years:
        for instant, before, after in _transitions(tz, year):
            if first is not None and not first <= instant < first + 366 * _DAY:
                continue
            day = _civil(instant + before).date().isoformat()
            old, new = _clock(_civil(instant + before)), _clock(_civil(instant + after))
            if after > before:
                skipped = _wall_times(calendar, instant + before, instant + after)
                if skipped:
                    verb = "does" if len(skipped) == 1 else "do"
                    problems.append(
                        f"fires at {_listing(skipped)}, which {verb} not exist on {day} in "
                        f"{tz.key} (clocks jump forward from {old} to {new}), so Temporal "
                        "skips it that day"
                    )
                continue
            problems.extend(_fall_back_problems(calendar, tz, instant, before, after))
    return problems


def _fall_back_problems(
    calendar: Calendar, tz: ZoneInfo, instant: int, before: int, after: int
) -> list[str]:
    """What Temporal does around one fall-back change, compared with the wall clock."""
    day = _civil(instant + before).date().isoformat()
    old, new = _clock(_civil(instant + before)), _clock(_civil(instant + after))
    shift = before - after
    fired = [
        moment.astimezone(tz)
        for moment in next_fire_times(
            [calendar],
            [],
            tz,
            datetime.fromtimestamp(instant - 3 * shift, UTC),
            1000,
            end_at=datetime.fromtimestamp(instant + 3 * shift, UTC),
        )
    ]
    problems: list[str] = []
    repeated = _wall_times(calendar, instant + after, instant + before)
    if repeated:
        walls = {(t.hour, t.minute, t.second) for t in repeated}
        runs = sum(1 for f in fired if (f.hour, f.minute, f.second) in walls)
        if runs == 2 * len(repeated):
            outcome = "twice"
        elif runs == len(repeated):
            outcome = "once"
        else:
            outcome = f"{runs} time{'' if runs == 1 else 's'} in all"
        verb = "happens" if len(repeated) == 1 else "happen"
        problems.append(
            f"fires at {_listing(repeated)}, which {verb} twice on {day} in {tz.key} "
            f"(clocks go back from {old} to {new}); Temporal runs it {outcome}"
        )
    # Where Go resolves a repeated wall time to its second occurrence (zones east of
    # Greenwich), the scheduler's second walk of the hour before the change lands on times
    # the schedule does not name.
    strays = [f for f in fired if not calendar.matches(f)]
    if strays:
        problems.append(
            f"Temporal also starts it at {_listing(strays)} {strays[0].tzname()} on {day} in "
            f"{tz.key}, times the schedule does not name: it walks the hour before clocks go "
            f"back (from {old} to {new}) a second time, one hour late"
        )
    return problems


def _span(r: Range, names: Sequence[str] | None = None) -> str:
    def show(v: int) -> str:
        return names[v] if names else str(v)

    if r.start == r.end:
        return show(r.start)
    text = f"{show(r.start)}–{show(r.end)}"
    return text if r.step == 1 else f"every {r.step} from {text}"


def _spans(ranges: Sequence[Range], names: Sequence[str] | None = None) -> str:
    return ", ".join(_span(r, names) for r in ranges)


def _every(unit: str, ranges: tuple[Range, ...], size: int) -> str | None:
    """ "every 15 minutes" when the field is one step range over the whole field."""
    if len(ranges) != 1:
        return None
    r = ranges[0]
    if r.end < size - r.step or r.start >= r.step:
        return None
    text = f"every {unit}" if r.step == 1 else f"every {r.step} {unit}s"
    return text if r.start == 0 else f"{text} from {unit} {r.start}"


def describe(calendar: Calendar) -> str:
    """A short English rendering for tables: "at 09:00 on Mon–Fri", "every 15 minutes"."""
    m = _matcher(calendar)
    every_hour = len(m.hours) == 24
    plural = "s" if len(m.hours) > 1 else ""
    hours = "" if every_hour else f" during hour{plural} {_spans(calendar.hour)}"
    if m.seconds == {0}:
        stepped_hours = _every("hour", calendar.hour, 24)
        if len(m.minutes) * len(m.hours) <= 4 and not every_hour:
            times = [f"{h:02d}:{mi:02d}" for h in sorted(m.hours) for mi in sorted(m.minutes)]
            when = "at " + ", ".join(times)
        elif (stepped := _every("minute", calendar.minute, 60)) is not None:
            when = stepped + hours
        elif len(m.minutes) == 1 and stepped_hours is not None:
            minute = min(m.minutes)
            when = stepped_hours + (f" at minute {minute}" if minute else "")
        else:
            when = f"at minute {_spans(calendar.minute)}" + (hours or " of every hour")
    else:
        stepped = _every("second", calendar.second, 60)
        when = stepped or f"at second {_spans(calendar.second)}"
        if len(m.minutes) < 60:
            when += f" of minute {_spans(calendar.minute)}"
        when += hours
    parts = [when]
    if len(m.dow) < 7:
        parts.append(f"on {_spans(calendar.day_of_week, _DOW_NAMES)}")
    if len(m.dom) == 1 and len(m.months) == 1:
        parts.append(f"on {_MONTH_NAMES[min(m.months)]} {min(m.dom)}")
    else:
        if len(m.dom) < 31:
            parts.append(f"on day {_spans(calendar.day_of_month)} of the month")
        if len(m.months) < 12:
            parts.append(f"in {_spans(calendar.month, _MONTH_NAMES)}")
    if calendar.year:
        parts.append(f"in {_spans(calendar.year)}")
    return " ".join(parts)


def describe_interval(interval: Interval) -> str:
    """ "every 15m", or "every 1h (offset 5m)"."""
    text = f"every {format_duration(interval.every)}"
    if interval.offset:
        text += f" (offset {format_duration(interval.offset)})"
    return text
