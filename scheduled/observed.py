"""The observed state: what Temporal reports about a schedule, as frozen values.

A `list_schedules` entry carries the spec (calendars and intervals, each cut to 10), the memo,
the workflow type, the note, the paused flag and next/recent action times, but no policies,
arguments or task queue. `ObservedSchedule` holds exactly that; `detail` is filled only when a
schedule was described (for a field-by-field diff or `get`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduled.marker import WriteRecord
from scheduled.model import Action, Policies, Spec

LIST_CALENDAR_LIMIT = 10  # the server cuts each spec list to 10 entries in list results


@dataclass(frozen=True, slots=True, kw_only=True)
class RecentRun:
    scheduled_at: datetime
    started_at: datetime | None
    workflow_id: str
    status: str  # running, completed, failed, ... ("unknown" when not reported)


@dataclass(frozen=True, slots=True, kw_only=True)
class Detail:
    """The parts only `describe` returns."""

    policies: Policies
    action: Action


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedSchedule:
    schedule_id: str
    owner: str | None  # project from the ownership memo; None: not managed by scheduled
    record: WriteRecord | None  # the last write by scheduled, from the spec's record calendar
    spec: Spec  # without the record calendar
    workflow_type: str
    paused: bool
    note: str
    next_runs: tuple[datetime, ...] = ()
    recent_runs: tuple[RecentRun, ...] = ()
    detail: Detail | None = None

    @property
    def last_run(self) -> RecentRun | None:
        return self.recent_runs[-1] if self.recent_runs else None
