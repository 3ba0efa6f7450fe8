"""Cron strings as `scheduled` accepts them, compiled exactly as the Temporal server compiles them.

The server turns a cron string into a structured calendar (service/worker/scheduler/calendar.go,
parseCronString and makeRange) and never gives the string back, so `scheduled` compiles it the
same way to compare with what `describe()` returns. Every rule here was checked against a real
server; the surprising ones:

- 5 fields = minute hour day-of-month month day-of-week; Temporal's 6 fields append a *year*,
  but `scheduled` reads 6 fields seconds first (the Quartz/Spring habit) and sends Temporal the
  7-field form `second minute hour dom month dow *`.
- `a/n` means `a-max/n`; `*/n` on day-of-week runs over 0-7; `7` is Sunday and becomes 0, which
  can split a range in two (`5-7` -> `0, 5-6`).
- A list keeps duplicates and order (`5,1,5` stays three ranges); values may have a `+` sign or
  leading zeros; month names need 3+ letters and weekday names 2+ (any prefix: `TUES`, `MO`).
- `?`, `L`, `W`, reversed ranges (`50-10`), out-of-range values and step 0 are rejected.
- Everything after the first `#` is the comment. Temporal would read `1#2` (Quartz: second
  Monday) as day 1 with comment "2"; `scheduled` rejects a `#` that does not follow a space.
- `@every` takes Go durations plus `d`; its time zone and comment are dropped by Temporal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduled.errors import ScheduledError
from scheduled.model.calendar import (
    MAX_YEAR,
    MIN_YEAR,
    Calendar,
    Interval,
    Range,
    never_fires,
)
from scheduled.model.durations import format_duration

# Temporal's limit on one calendar comment, in bytes (maxCommentLen).
MAX_COMMENT_BYTES = 200

SHORTCUTS: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")

# strconv.Atoi: optional sign, ASCII digits only.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT32_MAX = 2**31 - 1
_QUARTZ_DOM = re.compile(r"(?i)[0-9]*L(-[0-9]*)?|[0-9]+W|LW")
_QUARTZ_DOW = re.compile(r"(?i)[0-9a-z]+L")
# Go's time.ParseDuration units, plus Temporal's "d" (always 24 hours), in nanoseconds.
_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h|d)")


class CronError(ScheduledError):
    """A cron string that `scheduled` or Temporal rejects; `column` is the 0-based offset."""

    def __init__(self, message: str, *, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def caret(self, text: str) -> str:
        """The string with a caret under the offending column, for terminals."""
        return f"{text}\n{' ' * self.column}^"


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledCron:
    """A cron string compiled to what Temporal stores for it."""

    calendar: Calendar | None  # None when the string is @every
    interval: Interval | None
    timezone: str | None  # from a CRON_TZ=Zone (or TZ=Zone) prefix
    comment: str  # the trailing "# text", stripped
    temporal_form: str  # the string to send Temporal: tz prefix, 7 fields if seconds, comment


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedCron:
    """A cron text of a workflow file compiled once, with what depends on the text alone: trees
    repeat the same crons, so compile_cached works this out once per distinct text."""

    text: str  # as written in the file, for messages
    compiled: CompiledCron  # what compile_cron returns
    calendar: Calendar | None  # compiled.calendar with the cron text as comment; None for @every
    warnings: tuple[str, ...]  # warnings_for(compiled)
    never_by_structure: bool  # no date at all can match (February 31)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # as in Calendar
    label: str  # as a person says it
    low: int
    high: int
    mode: str  # "int", "month", "dow" or "year"


_SECOND = _Field("second", "second", 0, 59, "int")
_MINUTE = _Field("minute", "minute", 0, 59, "int")
_HOUR = _Field("hour", "hour", 0, 23, "int")
_DOM = _Field("day_of_month", "day of month", 1, 31, "int")
_MONTH = _Field("month", "month", 1, 12, "month")
_DOW = _Field("day_of_week", "day of week", 0, 7, "dow")
_YEAR = _Field("year", "year", MIN_YEAR, MAX_YEAR, "year")

_LAYOUTS: dict[int, tuple[_Field, ...]] = {
    5: (_MINUTE, _HOUR, _DOM, _MONTH, _DOW),
    6: (_SECOND, _MINUTE, _HOUR, _DOM, _MONTH, _DOW),  # seconds first: scheduled's own form
    7: (_SECOND, _MINUTE, _HOUR, _DOM, _MONTH, _DOW, _YEAR),
}


# Long: the cron forms Temporal accepts, in the server's order of checks.
def compile_cron(text: str) -> CompiledCron:
    """Compile one cron string, or raise CronError saying what is wrong and where."""
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    if start >= end:
        raise CronError("the cron expression is empty", column=0)

    timezone: str | None = None
    if text.startswith(("TZ=", "CRON_TZ="), start):
        space = text.find(" ", start, end)
        if space < 0:
            raise CronError(
                "a time zone prefix must be followed by a space and the schedule, "
                "e.g. 'CRON_TZ=Europe/Berlin 0 9 * * *'",
                column=end,
            )
        equals = text.index("=", start)
        timezone = _check_zone(text[equals + 1 : space], column=equals + 1)
        start = space + 1
        while start < end and text[start].isspace():
            start += 1

    comment = ""
    hash_at = text.find("#", start, end)
    body_end = end
    if hash_at >= 0:
        if hash_at > start and not text[hash_at - 1].isspace():
            raise CronError(
                "'#' right after a value: Temporal has no nth-weekday syntax like Quartz's "
                "'1#2' and would read it as a comment; put a space before a '# comment'",
                column=hash_at,
            )
        comment = text[hash_at + 1 : end].strip()
        if len(comment.encode()) > MAX_COMMENT_BYTES:
            raise CronError(
                f"the comment is {len(comment.encode())} bytes long; Temporal allows at most "
                f"{MAX_COMMENT_BYTES}",
                column=hash_at,
            )
        body_end = len(text[:hash_at].rstrip())
    if start >= body_end:
        raise CronError(
            "the cron expression has no schedule, only a prefix or comment", column=start
        )

    body = text[start:body_end]
    prefix = f"CRON_TZ={timezone} " if timezone else ""
    suffix = f" # {comment}" if comment else ""

    if body.startswith("@every"):
        interval, spelled = _parse_every(body, start)
        return CompiledCron(
            calendar=None,
            interval=interval,
            timezone=timezone,
            comment=comment,
            temporal_form=f"{prefix}@every {spelled}{suffix}",
        )

    fields: list[tuple[str, int]] = [
        (m.group(), start + m.start()) for m in re.finditer(r"\S+", body)
    ]
    if body.startswith("@"):
        expansion = SHORTCUTS.get(body)
        if expansion is None:
            raise CronError(
                f"unknown shortcut '{fields[0][0]}'; use @yearly, @annually, @monthly, @weekly, "
                "@daily, @midnight, @hourly or @every <duration>",
                column=start,
            )
        calendar = _compile_fields([(f, start) for f in expansion.split()], comment)
        return CompiledCron(
            calendar=calendar,
            interval=None,
            timezone=timezone,
            comment=comment,
            temporal_form=f"{prefix}{body}{suffix}",
        )

    if len(fields) not in _LAYOUTS:
        column = fields[7][1] if len(fields) > 7 else body_end
        raise CronError(f"expected 5, 6 or 7 fields, found {len(fields)}", column=column)
    calendar = _compile_fields(fields, comment)
    words = [f for f, _ in fields]
    if len(words) == 6:
        words.append("*")  # Temporal's 7-field form: seconds first, year last
    return CompiledCron(
        calendar=calendar,
        interval=None,
        timezone=timezone,
        comment=comment,
        temporal_form=f"{prefix}{' '.join(words)}{suffix}",
    )


def _check_zone(name: str, *, column: int) -> str:
    if not name:
        raise CronError(
            "the time zone prefix has no zone name, e.g. CRON_TZ=Europe/Berlin", column=column
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone '{name}'", column=column) from None
    return name


def _compile_fields(fields: list[tuple[str, int]], comment: str) -> Calendar:
    layout = _LAYOUTS[len(fields)]
    values: dict[str, tuple[Range, ...]] = {}
    for spec, (word, column) in zip(layout, fields, strict=True):
        values[spec.name] = _parse_field(word, column, spec)
    return Calendar(comment=comment, **values)


def _parse_field(word: str, column: int, spec: _Field) -> tuple[Range, ...]:
    """makeRange: a comma list of `*`, `v`, `a-b`, each with an optional `/step`."""
    if spec.mode == "year" and word == "*":
        return ()  # every year is the empty list, as Temporal stores it
    ranges: list[Range] = []
    offset = column
    for part in word.split(","):
        ranges.extend(_parse_part(part, offset, spec))
        offset += len(part) + 1
    return tuple(ranges)


def _parse_part(part: str, column: int, spec: _Field) -> list[Range]:
    if part == "":
        raise CronError(f"empty item in the {spec.label} list", column=column)
    if "?" in part:
        raise CronError(
            "'?' is not supported by Temporal; use '*'", column=column + part.index("?")
        )
    step = 1
    has_step = False
    base = part
    if "/" in part:
        pieces = part.split("/")
        if len(pieces) != 2:
            raise CronError(f"{spec.label} item '{part}' has more than one '/'", column=column)
        base, step_text = pieces
        step_column = column + len(base) + 1
        if base == "":
            raise CronError(
                f"nothing before '/' in the {spec.label} field: write */{step_text}", column=column
            )
        if not _INTEGER.fullmatch(step_text):
            raise CronError(
                f"step '{step_text}' in the {spec.label} field is not a number", column=step_column
            )
        step = int(step_text)
        if step < 1:
            raise CronError(
                f"step {step} in the {spec.label} field must be at least 1", column=step_column
            )
        if step > _INT32_MAX:  # Temporal's calendar ranges hold 32-bit numbers
            raise CronError(
                f"step {step_text} in the {spec.label} field is too large; write one no larger "
                f"than the field's range (e.g. */15)",
                column=step_column,
            )
        has_step = True

    start, end = spec.low, spec.high
    if base != "*":
        if "-" in base:
            pieces = base.split("-")
            if len(pieces) != 2:
                raise CronError(f"{spec.label} range '{base}' has more than one '-'", column=column)
            first, last = pieces
            if first == "":
                raise CronError(f"{spec.label} range '{base}' has no start", column=column)
            if last == "":
                raise CronError(f"{spec.label} range '{base}' has no end", column=column)
            start = _parse_value(first, column, spec)
            end = _parse_value(last, column + len(first) + 1, spec)
            if end < start:
                advice = (
                    ""
                    if spec.mode == "year"
                    else "; Temporal does not wrap around, so write it as two ranges "
                    f"({first}-{spec.high},{spec.low}-{last})"
                )
                raise CronError(
                    f"{spec.label} range {first}-{last} goes backwards{advice}", column=column
                )
        else:
            start = _parse_value(base, column, spec)
            if not has_step:
                end = start  # "a/n" alone means a-max/n; "a" alone means just a

    ranges: list[Range] = []
    if spec.mode == "dow" and end == 7:
        # Temporal turns Sunday-as-7 into 0: "7" -> 0, "5-7" -> 0 and 5-6, "1-7/2" -> 0 and
        # 1-6/2, while "0-7"/"1-7" become 0-6 and "3-7/3" (3, 6) just ends at 6.
        if (7 - start) % step == 0 and (step > 1 or start > 1):
            ranges.append(Range(0))
            if start == 7:
                return ranges
        end = 6
    ranges.append(Range(start, end, step))
    return ranges


def _parse_value(text: str, column: int, spec: _Field) -> int:
    """parseValue: a month or weekday name prefix, or a decimal number, within the field."""
    value: int | None = None
    lowered = text.lower()
    if spec.mode == "month" and len(text) >= 3:
        value = next((i + 1 for i, n in enumerate(_MONTHS) if n.startswith(lowered)), None)
    elif spec.mode == "dow" and len(text) >= 2:
        value = next((i for i, n in enumerate(_DAYS) if n.startswith(lowered)), None)
    if value is None:
        if not _INTEGER.fullmatch(text):
            raise CronError(_not_a_value(text, spec), column=column)
        value = int(text)
    if not spec.low <= value <= spec.high:
        raise CronError(
            f"{spec.label} {text} is out of range {spec.low}-{spec.high}", column=column
        )
    return value


def _not_a_value(text: str, spec: _Field) -> str:
    if spec.name == "day_of_month" and _QUARTZ_DOM.fullmatch(text):
        return f"'{text}' (last day / nearest weekday) is not supported by Temporal"
    if spec.mode == "dow" and _QUARTZ_DOW.fullmatch(text):
        return f"'{text}' (last weekday of the month) is not supported by Temporal"
    if spec.mode == "month":
        return f"'{text}' is not a month: use JAN-DEC (at least three letters) or 1-12"
    if spec.mode == "dow":
        return f"'{text}' is not a day of the week: use SUN-SAT (at least two letters) or 0-7"
    return f"{spec.label} '{text}' is not a number"


def _parse_every(body: str, column: int) -> tuple[Interval, str]:
    """`@every 15m` or `@every 1h30m/5m` (interval/offset), as parseCronStringInterval."""
    keyword, space, spelled = body.partition(" ")
    if keyword != "@every" or not space or not spelled:
        raise CronError(
            "@every needs a duration after a space, e.g. '@every 15m' or '@every 1h/15m'",
            column=column,
        )
    every_text, _, offset_text = spelled.partition("/")
    every_column = column + len(keyword) + 1
    every = _parse_duration(every_text, every_column)
    offset = timedelta(0)
    if offset_text:  # Temporal reads a bare trailing "/" as no offset
        offset = _parse_duration(offset_text, every_column + len(every_text) + 1)
    if every < timedelta(seconds=1):
        raise CronError("the @every interval must be at least 1 second", column=every_column)
    if offset >= every:
        raise CronError(
            f"the @every offset {offset_text} must be shorter than the interval {every_text}",
            column=every_column + len(every_text) + 1,
        )
    return Interval(every=every, offset=offset), spelled


def _parse_duration(text: str, column: int) -> timedelta:
    """Go's time.ParseDuration plus Temporal's `d` unit; whole seconds only (see below)."""
    unsigned = text[1:] if text.startswith("+") else text
    position = 0
    nanos = Fraction(0)
    while position < len(unsigned):
        match = _DURATION_PART.match(unsigned, position)
        if match is None or match.group(1) in ("", "."):
            break
        nanos += Fraction(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not unsigned or (position < len(unsigned) and unsigned != "0"):
        raise CronError(
            f"'{text}' is not a duration: write e.g. 90s, 15m, 1h30m or 1d", column=column
        )
    whole_ns = int(nanos)
    if whole_ns % 10**9:
        # Temporal accepts it but counts whole seconds, so 1500ms would fire every second.
        raise CronError(
            f"'{text}' is not a whole number of seconds; Temporal would round it down",
            column=column,
        )
    seconds = whole_ns // 10**9
    if seconds > _MAX_DURATION_S:
        raise CronError(f"'{text}' is longer than Temporal accepts", column=column)
    return timedelta(seconds=seconds)


# Go's time.Duration is an int64 of nanoseconds: about 292 years.
_MAX_DURATION_S = (2**63 - 1) // 10**9


def warnings_for(compiled: CompiledCron) -> list[str]:
    """Things that are valid but probably not what the author meant."""
    found: list[str] = []
    calendar = compiled.calendar
    if calendar is not None:
        if calendar.day_of_month != (Range(1, 31),) and calendar.day_of_week != (Range(0, 6),):
            found.append(
                "day of month and day of week are both restricted: Temporal runs only on days "
                "that match both (classic cron runs on days that match either)"
            )
        for name in ("second", "minute", "hour", "day_of_month", "month", "year"):
            for r in getattr(calendar, name):
                if r.step > 1 and r.start + r.step > r.end:
                    label = name.replace("_", " ")
                    found.append(
                        f"{label} step {r.step} is larger than the range {r.start}-{r.end}, "
                        f"so only {r.start} matches"
                    )
        # A calendar that can never fire is an error, not a warning: lints.py reports it.
    if compiled.interval is not None:
        if compiled.timezone:
            found.append(
                "CRON_TZ has no effect on @every: intervals count from 1970-01-01 00:00 UTC"
            )
        if compiled.comment:
            found.append("Temporal drops the comment of an @every schedule")
        seconds = int(compiled.interval.every.total_seconds())
        if (86400 % seconds if seconds < 86400 else seconds % 86400) != 0:
            found.append(
                f"@every {format_duration(compiled.interval.every)} does not divide into days, "
                "so its run times (counted from 1970-01-01 00:00 UTC) shift from day to day"
            )
    return found


@lru_cache(maxsize=4096)
def compile_cached(text: str) -> CachedCron:
    """compile_cron plus its warnings, once per distinct text; raises CronError like it.

    Each calendar carries its cron text as the comment: Temporal's UI shows it, since the
    server keeps only the compiled calendar, never the string."""
    compiled = compile_cron(text)
    raw = compiled.calendar
    return CachedCron(
        text=text,
        compiled=compiled,
        calendar=None if raw is None else replace(raw, comment=text.strip()),
        warnings=tuple(warnings_for(compiled)),
        never_by_structure=raw is not None and never_fires(raw),
    )
