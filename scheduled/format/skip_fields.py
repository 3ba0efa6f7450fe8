"""The `skip:` field of a `schedule:` block: times at which nothing fires, as exclude calendars.

An entry is a cron string (the minutes it matches), a date (`2026-12-25`, the whole day) or a
range of dates (`{from: 2026-12-20, to: 2027-01-03}`, both days included), all in the
schedule's time zone. Temporal's exclude calendars are structured calendars (ScheduleSpec.skip),
so each entry becomes one or more of them here; `export` turns them back with `skip_entries`.

Temporal's CLI and Web UI cannot set exclusions at all (TEMPORAL_NOTES.md), so these messages
are the only documentation many users see: each says what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from scheduled.format.cron import CronError, compile_cached
from scheduled.format.yaml_reader import DocPath
from scheduled.model.calendar import MAX_YEAR, MIN_YEAR, Calendar, Range

if TYPE_CHECKING:  # workflow_file imports spec_fields, which imports this module
    from scheduled.format.workflow_file import ErrorSink

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RANGE_WORD = " to "  # the comment of a range's calendars: "2026-12-20 to 2027-01-03"

# In a structured calendar an unset second, minute or hour means 0, not "every": a whole day
# must name every second of it, or only its midnight would be excluded.
_WHOLE_DAY = {
    "second": (Range(0, 59),),
    "minute": (Range(0, 59),),
    "hour": (Range(0, 23),),
    "day_of_week": (Range(0, 6),),
}
_FULL_SECONDS = (Range(0, 59),)


@dataclass(frozen=True, slots=True, kw_only=True)
class SkipEntry:
    """One entry of `skip:` as read: where it stands, its calendars, and for a date or a range
    its last day (the lints warn about one that has passed)."""

    path: DocPath
    calendars: tuple[Calendar, ...]
    last_day: date | None = None


def read_skip(value: Any, errors: ErrorSink) -> tuple[SkipEntry, ...]:
    """The entries of `skip:` (one entry, or a list) that could be read; each problem reported."""
    entries = value if isinstance(value, list) else [value]
    found: list[SkipEntry] = []
    for index, entry in enumerate(entries):
        path: DocPath = (
            ("schedule", "skip", index) if isinstance(value, list) else ("schedule", "skip")
        )
        calendars = _entry(entry, path, errors)
        if calendars:
            found.append(SkipEntry(path=path, calendars=calendars, last_day=_last_day(entry)))
    return tuple(found)


def _last_day(entry: Any) -> date | None:
    text = str(entry.get("to") if isinstance(entry, dict) else entry)
    return date.fromisoformat(text) if DATE_PATTERN.match(text) else None


def _entry(entry: Any, path: DocPath, errors: ErrorSink) -> tuple[Calendar, ...]:
    if isinstance(entry, dict):
        first = _date(entry.get("from"), (*path, "from"), errors)
        last = _date(entry.get("to"), (*path, "to"), errors)
        if first is None or last is None:
            return ()
        if last < first:
            errors.error(
                "skip.range-reversed",
                f"the range's `to` ({last.isoformat()}) is before its `from` "
                f"({first.isoformat()}); both days are included, so write the earlier day in "
                "`from`",
                path=(*path, "to"),
            )
            return ()
        return day_calendars(first, last, f"{first.isoformat()}{RANGE_WORD}{last.isoformat()}")
    text = str(entry)
    if DATE_PATTERN.match(text):
        day = _date(text, path, errors)
        return () if day is None else day_calendars(day, day, day.isoformat())
    return _cron(text, path, errors)


def _date(value: Any, path: DocPath, errors: ErrorSink) -> date | None:
    text = str(value)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors.error(
            "skip.date",
            f"{text!r} is not a real date; write it as YYYY-MM-DD, e.g. 2026-12-25 (check the "
            "month and the day)",
            path=path,
        )
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        errors.error(
            "skip.year",
            f"{text!r} is outside the years Temporal's calendars know ({MIN_YEAR}-{MAX_YEAR})",
            path=path,
        )
        return None
    return day


def _cron(text: str, path: DocPath, errors: ErrorSink) -> tuple[Calendar, ...]:
    """A cron entry: the times it matches, each as a whole minute when it has 5 fields (a
    6- or 7-field cron names its seconds), so an interval firing at :30 is skipped too."""
    try:
        cron = compile_cached(text)
    except CronError as error:
        errors.error(
            "skip.cron",
            f"skip entry {text!r} is neither a date (YYYY-MM-DD) nor a valid cron: {error.message}",
            path=path,
            column_offset=error.column,
        )
        return ()
    compiled = cron.compiled
    if compiled.calendar is None or cron.calendar is None:
        errors.error(
            "skip.every",
            f"skip entry {text!r} is an interval; `skip` takes times to leave out: a cron such "
            "as '* * * * 6,0' (weekends), a date such as 2026-12-25, or a range "
            "{from: 2026-12-20, to: 2027-01-03}",
            path=path,
        )
        return ()
    if compiled.timezone is not None:
        errors.error(
            "skip.timezone",
            f"skip entry {text!r} has a {compiled.timezone} zone prefix; exclusions are read "
            "in the schedule's time zone (`timezone`), so drop the prefix",
            path=path,
        )
        return ()
    calendar = cron.calendar
    if _field_count(text) == 5 or text.strip().startswith("@"):
        calendar = replace(calendar, second=_FULL_SECONDS)
    return (calendar,)


def _field_count(text: str) -> int:
    return len(text.split("#", 1)[0].split())


def day_calendars(first: date, last: date, comment: str) -> tuple[Calendar, ...]:
    """Whole days from `first` to `last` (both included) as few calendars as say them exactly:
    one per partial month at either end, one for the whole months between (in a year), one for
    the whole years between."""
    if first.year == last.year:
        return _within_year(first, last, comment)
    calendars: list[Calendar] = []
    full_from = first.year if (first.month, first.day) == (1, 1) else first.year + 1
    full_to = last.year if (last.month, last.day) == (12, 31) else last.year - 1
    if full_from != first.year:
        calendars += _within_year(first, date(first.year, 12, 31), comment)
    if full_from <= full_to:
        calendars.append(_days(Range(full_from, full_to), Range(1, 12), Range(1, 31), comment))
    if full_to != last.year:
        calendars += _within_year(date(last.year, 1, 1), last, comment)
    return tuple(calendars)


def _within_year(first: date, last: date, comment: str) -> tuple[Calendar, ...]:
    year = Range(first.year)
    if first.month == last.month:
        return (_days(year, Range(first.month), Range(first.day, last.day), comment),)
    calendars: list[Calendar] = []
    months_from = first.month if first.day == 1 else first.month + 1
    months_to = last.month if _is_month_end(last) else last.month - 1
    if first.day != 1:
        end = _month_end(first.year, first.month).day
        calendars.append(_days(year, Range(first.month), Range(first.day, end), comment))
    if months_from <= months_to:
        calendars.append(_days(year, Range(months_from, months_to), Range(1, 31), comment))
    if not _is_month_end(last):
        calendars.append(_days(year, Range(last.month), Range(1, last.day), comment))
    return tuple(calendars)


def _is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month


def _days(year: Range, month: Range, day_of_month: Range, comment: str) -> Calendar:
    return Calendar(
        year=(year,), month=(month,), day_of_month=(day_of_month,), comment=comment, **_WHOLE_DAY
    )


# -- back to entries (export) ------------------------------------------------------------------


def day_span(calendar: Calendar) -> tuple[date, date] | None:
    """The first and last day of a calendar that excludes every second of a run of days, in
    one of the shapes `day_calendars` writes, else None."""
    if any(getattr(calendar, name) != ranges for name, ranges in _WHOLE_DAY.items()):
        return None
    if not (len(calendar.year) == len(calendar.month) == len(calendar.day_of_month) == 1):
        return None
    years, months, days = calendar.year[0], calendar.month[0], calendar.day_of_month[0]
    if any(r.step != 1 for r in (years, months, days)):
        return None
    try:
        if years.start == years.end and months.start == months.end:
            end = _month_end(years.start, months.start)
            if days.end > end.day:
                return None
            return date(years.start, months.start, days.start), date(
                years.start, months.start, days.end
            )
        if (days.start, days.end) != (1, 31):
            return None
        if years.start != years.end and (months.start, months.end) != (1, 12):
            return None
        return date(years.start, months.start, 1), _month_end(years.end, months.end)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def skip_entries(calendars: Sequence[Calendar]) -> list[str | dict[str, str]] | None:
    """The `skip:` entries that read back into exactly these calendars (comments aside), or
    None when one has no entry form. The calendars of one split range join into one range."""
    entries: list[str | dict[str, str]] = []
    index = 0
    while index < len(calendars):
        span = day_span(calendars[index])
        if span is None:
            text = _cron_entry(calendars[index])
            if text is None:
                return None
            entries.append(text)
            index += 1
            continue
        first, last = span
        taken = 1
        # The longest run of the following calendars that is exactly one range, split (a
        # range is at most 7 calendars: 3 in its first year, 1 for the years between, 3).
        for end in range(min(len(calendars), index + 7), index + 1, -1):
            spans = [day_span(calendar) for calendar in calendars[index:end]]
            if None in spans:
                continue
            candidate = (first, spans[-1][1])  # type: ignore[index]
            if _structures(day_calendars(*candidate, "")) == _structures(calendars[index:end]):
                first, last = candidate
                taken = end - index
                break
        entries.append(
            first.isoformat()
            if first == last
            else {"from": first.isoformat(), "to": last.isoformat()}
        )
        index += taken
    return entries


def _structures(calendars: Sequence[Calendar]) -> tuple[Calendar, ...]:
    return tuple(replace(calendar, comment="") for calendar in calendars)


def _cron_entry(calendar: Calendar) -> str | None:
    """A cron that `_cron` reads back into this calendar: 5 fields when every second of the
    minute is matched, else 6 or 7 (seconds first)."""
    from scheduled.format.export import cron_for  # export imports this module

    if calendar.second == _FULL_SECONDS:
        found = cron_for(replace(calendar, second=(Range(0),), comment=""))
        if found is not None and _field_count(found.text) == 5:
            return found.text
    found = cron_for(replace(calendar, comment=""))
    if found is None or _field_count(found.text) == 5:
        return None  # 5 fields would read back as whole minutes
    return found.text
