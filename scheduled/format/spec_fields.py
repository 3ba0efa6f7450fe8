"""The "when" fields of a `schedule:` block to a Spec: crons, zone, every/offset, start/end, jitter,
skip (read by skip_fields).

Only errors are reported here (a value that cannot be used); warnings about a schedule that is
valid but probably not meant are the lints', which run on the SpecFields returned.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from scheduled.format.cron import MAX_COMMENT_BYTES, CachedCron, CronError, compile_cached
from scheduled.format.schema import did_you_mean
from scheduled.format.skip_fields import SkipEntry, read_skip
from scheduled.format.yaml_reader import DocPath
from scheduled.model.calendar import Interval
from scheduled.model.desired import Spec
from scheduled.model.durations import format_duration, is_whole_seconds, parse_duration

if TYPE_CHECKING:  # workflow_file imports this module
    from scheduled.format.workflow_file import ErrorSink, SchemaGate

_SCHEDULE: DocPath = ("schedule",)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecFields:
    """The Spec as read, plus what the lints need to judge it and to point at a cron."""

    spec: Spec
    zone: zoneinfo.ZoneInfo
    crons: tuple[tuple[DocPath, CachedCron], ...]  # each cron that compiled, with its path
    skips: tuple[SkipEntry, ...] = ()  # each `skip` entry that could be read, with its path


def read_spec(block: SchemaGate, errors: ErrorSink) -> SpecFields | None:
    """The Spec of the block, or None when its time zone is unknown (nothing can be timed).

    Every field is read even after a problem, so a file shows all its errors at once."""
    timezone_name = block.get("timezone", "UTC")
    crons = _crons(block.values.get("cron"), errors) if block.valid("cron") else []
    cron_zones = {cron.compiled.timezone for _, cron in crons if cron.compiled.timezone}
    if cron_zones:
        unprefixed = sum(1 for _, cron in crons if not cron.compiled.timezone)
        timezone_name = _cron_zone(
            cron_zones, unprefixed, "timezone" in block.values, timezone_name, errors
        )
    zone = _timezone(timezone_name, errors)
    values = block.values
    intervals = _intervals(values, errors) if block.valid("every") else ()
    skips = read_skip(values["skip"], errors) if block.valid("skip") else ()
    jitter = read_duration(values, "jitter", _SCHEDULE, errors) if block.valid("jitter") else None
    start_at = _timestamp(values, "start_at", zone, errors) if block.valid("start_at") else None
    end_at = _timestamp(values, "end_at", zone, errors) if block.valid("end_at") else None
    if start_at and end_at and start_at >= end_at:
        errors.error(
            "schedule.start-after-end",
            f"`start_at` ({start_at.isoformat()}) is not before `end_at` "
            f"({end_at.isoformat()}); the schedule could never fire",
            path=("schedule", "end_at"),
        )
    if zone is None:
        return None
    intervals += tuple(
        cron.compiled.interval for _, cron in crons if cron.compiled.interval is not None
    )
    spec = Spec(
        calendars=tuple(cron.calendar for _, cron in crons if cron.calendar is not None),
        intervals=intervals,
        timezone=timezone_name,
        jitter=jitter or timedelta(0),
        start_at=start_at,
        end_at=end_at,
        skip=tuple(calendar for entry in skips for calendar in entry.calendars),
        cron_text=tuple(_as_list(values.get("cron"))),
    )
    return SpecFields(spec=spec, zone=zone, crons=tuple(crons), skips=skips)


def read_duration(
    values: Mapping[str, Any], name: str, path: DocPath, errors: ErrorSink
) -> timedelta | None:
    """values[name] as a duration (`1h30m`), or None after reporting why it is not one."""
    return _duration(values[name], (*path, name), errors)


def _crons(value: Any, errors: ErrorSink) -> list[tuple[DocPath, CachedCron]]:
    crons: list[tuple[DocPath, CachedCron]] = []
    for index, text in enumerate(_as_list(value)):
        path: DocPath = (
            ("schedule", "cron", index) if isinstance(value, list) else ("schedule", "cron")
        )
        try:
            cron = compile_cached(text)
        except CronError as error:
            errors.error(
                "cron.invalid",
                f"cron {text!r}: {error.message}",
                path=path,
                column_offset=error.column,
            )
            continue
        size = len(text.strip().encode())
        if cron.calendar is not None and size > MAX_COMMENT_BYTES:
            errors.error(
                "cron.too-long",
                f"cron {text!r} is {size} bytes long; Temporal keeps the cron text as the "
                f"calendar's comment, which holds at most {MAX_COMMENT_BYTES} bytes, so "
                "shorten its `# comment`",
                path=path,
            )
            continue
        crons.append((path, cron))
    return crons


def _cron_zone(
    zones: set[str], unprefixed: int, written: bool, declared: str, errors: ErrorSink
) -> str:
    """The zone the CRON_TZ prefixes set, unless they disagree with each other or with a
    `timezone` that is written (even one the schema rejected: then `declared` is UTC)."""
    if unprefixed:
        # The server refuses a list in which only some entries carry CRON_TZ ("conflicting
        # timezone names"), even when `timezone` names the same zone (TEMPORAL_NOTES.md).
        errors.error(
            "cron.timezone-partial",
            f"only some cron expressions carry a CRON_TZ prefix ({', '.join(sorted(zones))}) "
            f"and {unprefixed} do not; Temporal refuses such a list, so give every entry the "
            "same prefix, or drop the prefixes and set `timezone` once",
            path=("schedule", "cron"),
        )
        return declared
    if len(zones) > 1 or (written and declared not in zones):
        conflict = (
            f"set different zones ({', '.join(sorted(zones))})"
            if len(zones) > 1 and not written
            else f"set {', '.join(sorted(zones))}, which disagrees with `timezone: {declared}`"
        )
        errors.error(
            "cron.timezone-conflict",
            f"the cron expressions' CRON_TZ prefixes {conflict}; a schedule has one time "
            "zone, so set it once with `timezone`",
            path=("schedule", "cron"),
        )
        return declared
    return next(iter(zones))


def _timezone(name: Any, errors: ErrorSink) -> zoneinfo.ZoneInfo | None:
    zone = _zone(str(name))
    if zone is None:
        hint = did_you_mean(str(name), _zone_names())
        errors.error(
            "schedule.timezone",
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC{hint}",
            path=("schedule", "timezone"),
        )
    return zone


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


@cache
def _zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _intervals(values: Mapping[str, Any], errors: ErrorSink) -> tuple[Interval, ...]:
    """`every` as one duration (with the block's `offset`), one `{every, offset}` mapping, or
    a list of either; each entry's problems are reported, the good ones kept."""
    every = values["every"]
    if isinstance(every, list):
        if "offset" in values:
            errors.error(
                "schedule.offset-with-list",
                "`offset` belongs to a single `every`; with a list, give each entry its own: "
                "`every: [1h, {every: 90m, offset: 10m}]`",
                path=("schedule", "offset"),
            )
        found = [
            _interval_entry(item, ("schedule", "every", index), errors)
            for index, item in enumerate(every)
        ]
        return tuple(interval for interval in found if interval is not None)
    if isinstance(every, dict) and "offset" in values:
        errors.error(
            "schedule.offset-twice",
            "`offset` is given twice, in `every` and beside it; keep the one in `every`",
            path=("schedule", "offset"),
        )
        return ()
    if isinstance(every, dict):
        interval = _interval_entry(every, ("schedule", "every"), errors)
    else:
        # `offset` is read as written, even when the schema rejected it.
        interval = _interval(values, _SCHEDULE, errors)
    return () if interval is None else (interval,)


def _interval_entry(item: Any, path: DocPath, errors: ErrorSink) -> Interval | None:
    if isinstance(item, dict):
        return _interval(item, path, errors)
    return _interval({"every": item}, path[:-1], errors, every_path=path)


def _interval(
    values: Mapping[str, Any],
    path: DocPath,
    errors: ErrorSink,
    *,
    every_path: DocPath | None = None,
) -> Interval | None:
    """values["every"] and values["offset"] as one interval, reported at path + that key (or
    at every_path for a list entry that is only a duration)."""
    every_at = every_path or (*path, "every")
    every = _duration(values["every"], every_at, errors)
    offset_at: DocPath = (*path, "offset")
    offset = _duration(values["offset"], offset_at, errors) if "offset" in values else timedelta(0)
    if every is None or offset is None:
        return None
    if every <= timedelta(0):
        errors.error("schedule.every-zero", "`every` must be longer than zero", path=every_at)
        return None
    for name, value, at in (("every", every, every_at), ("offset", offset, offset_at)):
        if not is_whole_seconds(value):
            # Checked against the server: it stores `every: 1.5s` and `offset: 2.5s` as given
            # but fires on whole seconds (every second; at :02), and refuses intervals under 1s.
            errors.error(
                "schedule.interval-fraction",
                f"`{name}` ({format_duration(value)}) is not a whole number of seconds; "
                "Temporal fires intervals on whole seconds only, so it would not run as written",
                path=at,
            )
            return None
    if offset >= every:
        errors.error(
            "schedule.offset-too-large",
            f"`offset` ({values['offset']}) must be shorter than `every` ({values['every']})",
            path=offset_at,
        )
        return None
    return Interval(every=every, offset=offset)


def _duration(value: Any, path: DocPath, errors: ErrorSink) -> timedelta | None:
    try:
        return parse_duration(str(value))
    except ValueError as error:
        errors.error("schedule.duration", str(error), path=path)
        return None


def _timestamp(
    values: Mapping[str, Any], name: str, zone: zoneinfo.ZoneInfo | None, errors: ErrorSink
) -> datetime | None:
    """A date-time in UTC; one without an offset is read in the schedule's zone."""
    text = str(values[name])
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        errors.error(
            "schedule.timestamp",
            f"`{name}` {text!r} is not a real date-time (check the month, day and hour)",
            path=("schedule", name),
        )
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved across midnight by the offset
        errors.error(
            "schedule.timestamp",
            f"`{name}` {text!r} is out of the range of dates this tool and Temporal handle",
            path=("schedule", name),
        )
        return None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
