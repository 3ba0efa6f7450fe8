"""Lints: what is wrong with a schedule that was built, though Temporal would accept it.

Each rule is a pure function of the SpecFields read from a file and the moment of the load; it
returns its findings and changes nothing. They run after the building, on what was built (also
when another part of the file failed, so a file shows all its problems at once). Most are
warnings; "never fires" is an error, since Temporal would accept such a schedule and later
delete it.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from scheduled.format.cron import CachedCron
from scheduled.format.diagnostics import Severity
from scheduled.format.spec_fields import SpecFields
from scheduled.format.yaml_reader import DocPath
from scheduled.model.calendar import MAX_YEAR, Calendar, dst_problems, next_fire_times
from scheduled.model.desired import Spec


@dataclass(frozen=True, slots=True, kw_only=True)
class Lint:
    """One finding of a rule; the caller locates it in the document by its path."""

    severity: Severity
    code: str
    message: str
    path: DocPath


Rule = Callable[[SpecFields, datetime], list[Lint]]


def cron_warnings(fields: SpecFields, now: datetime) -> list[Lint]:
    """What cron.warnings_for says about each cron (AND-ed days, steps larger than the range)."""
    return [
        Lint(severity=Severity.WARNING, code="cron.warning", message=message, path=path)
        for path, cron in fields.crons
        for message in cron.warnings
    ]


def never_fires(fields: SpecFields, now: datetime) -> list[Lint]:
    """An error, not a warning: Temporal would accept the schedule and later delete it."""
    return [
        Lint(
            severity=Severity.ERROR,
            code="cron.never-fires",
            message=f"cron {cron.text!r} can never fire (no date matches it); Temporal would "
            "accept it and later delete the schedule",
            path=path,
        )
        for path, cron in fields.crons
        if _never_fires(cron, fields.zone, now)
    ]


def dst(fields: SpecFields, now: datetime) -> list[Lint]:
    """Fire times that a DST change in the coming twelve months skips, repeats or moves."""
    zone = fields.zone
    if str(zone.key) == "UTC":
        return []
    return [
        Lint(severity=Severity.WARNING, code="schedule.dst", message=message, path=path)
        for path, cron in fields.crons
        # The calendar as compiled (no cron-text comment): one cache entry per distinct cron.
        if cron.compiled.calendar is not None and not _never_fires(cron, zone, now)
        for message in _dst_problems(cron.compiled.calendar, zone, now.date())
    ]


def no_jitter(fields: SpecFields, now: datetime) -> list[Lint]:
    """Many schedules start at the top of the hour: without jitter they all start together."""
    spec = fields.spec
    if spec.jitter > timedelta(0) or not any(_top_of_hour(c) for c in spec.calendars):
        return []
    return [
        Lint(
            severity=Severity.WARNING,
            code="schedule.no-jitter",
            message="fires at the top of the hour with no jitter: many schedules start in the "
            "same second there; add e.g. `jitter: 30s` to spread the load",
            path=("schedule", "cron"),
        )
    ]


def end_in_past(fields: SpecFields, now: datetime) -> list[Lint]:
    """An end_at already past: the schedule would never fire again, so it is not created."""
    end_at = fields.spec.end_at
    if end_at is None or end_at > now:
        return []
    return [
        Lint(
            severity=Severity.WARNING,
            code="schedule.end-in-past",
            message=f"`end_at` ({end_at.isoformat()}) is in the past: the schedule will never "
            "fire again, and it is not created",
            path=("schedule", "end_at"),
        )
    ]


def skip_removes_every_fire(fields: SpecFields, now: datetime) -> list[Lint]:
    """An error: a `skip` that leaves no fire time at all is a schedule that never runs, which
    Temporal would accept and later delete on its own (as for a cron that never fires)."""
    spec = fields.spec
    if not spec.skip or not _skip_leaves_nothing(spec, fields.zone, now):
        return []
    until = f"`end_at` ({spec.end_at.isoformat()})" if spec.end_at else str(MAX_YEAR)
    return [
        Lint(
            severity=Severity.ERROR,
            code="skip.never-fires",
            message="`skip` leaves no time at which the schedule fires (it excludes every run "
            f"from now until {until}); remove or narrow the exclusions that cover it",
            path=("schedule", "skip"),
        )
    ]


def skip_in_past(fields: SpecFields, now: datetime) -> list[Lint]:
    """A skipped day that has passed (in the schedule's zone) skips nothing any more: last
    year's holidays, left in the list."""
    today = now.astimezone(fields.zone).date()
    return [
        Lint(
            severity=Severity.WARNING,
            code="skip.past",
            message=f"this `skip` entry ended on {entry.last_day.isoformat()} and skips nothing "
            "any more; remove it",
            path=entry.path,
        )
        for entry in fields.skips
        if entry.last_day is not None and entry.last_day < today
    ]


RULES: list[Rule] = [
    cron_warnings,
    never_fires,
    dst,
    no_jitter,
    end_in_past,
    skip_removes_every_fire,
    skip_in_past,
]


def lint(fields: SpecFields, now: datetime) -> list[Lint]:
    """Every rule's findings, rule by rule (a file's diagnostics are sorted afterwards)."""
    return [found for rule in RULES for found in rule(fields, now)]


def _never_fires(cron: CachedCron, zone: zoneinfo.ZoneInfo, now: datetime) -> bool:
    """No fire time from now on. Without a year the structural check is exact (every real date
    recurs, on every weekday, within 2000-2100), and no horizon can miss a rare date such as
    February 29 on a Monday; with years, search up to Temporal's last year."""
    calendar = cron.compiled.calendar
    if calendar is None:
        return False
    if cron.never_by_structure:
        return True
    if not calendar.year:
        return False
    return _no_fire_time_left(calendar, zone, now)


@lru_cache(maxsize=4096)
def _no_fire_time_left(calendar: Calendar, zone: zoneinfo.ZoneInfo, now: datetime) -> bool:
    """Cached: both never_fires and dst ask, and a tree repeats its crons and its `now`."""
    horizon = datetime(MAX_YEAR + 1, 1, 1, tzinfo=UTC) - now
    return not next_fire_times([calendar], [], zone, now, 1, horizon=horizon)


@lru_cache(maxsize=1024)
def _skip_leaves_nothing(spec: Spec, zone: zoneinfo.ZoneInfo, now: datetime) -> bool:
    """No fire time with the exclusions, though there is one without them (a spec that never
    fires, or has ended, is reported by its own rule)."""
    horizon = datetime(MAX_YEAR + 1, 1, 1, tzinfo=UTC) - now

    def first(excludes: tuple[Calendar, ...]) -> list[datetime]:
        return next_fire_times(
            spec.calendars,
            spec.intervals,
            zone,
            now,
            1,
            start_at=spec.start_at,
            end_at=spec.end_at,
            horizon=horizon,
            excludes=excludes,
        )

    return not first(spec.skip) and bool(first(()))


@lru_cache(maxsize=4096)
def _dst_problems(calendar: Calendar, zone: zoneinfo.ZoneInfo, today: date) -> tuple[str, ...]:
    """DST sentences for the coming twelve months, once per calendar, zone and day: finding a
    zone's transitions is the costly part of loading a tree."""
    since = datetime(today.year, today.month, today.day, tzinfo=UTC)
    return tuple(dst_problems(calendar, zone, range(today.year, today.year + 2), since=since))


def _top_of_hour(calendar: Calendar) -> bool:
    def single_zero(ranges: tuple[Any, ...]) -> bool:
        return len(ranges) == 1 and ranges[0].start == 0 and ranges[0].end == 0

    return single_zero(calendar.second) and single_zero(calendar.minute)
