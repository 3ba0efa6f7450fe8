"""The observed state: what Temporal reports about a schedule, as frozen values.

A `list_schedules` entry carries the spec (calendars and intervals, each cut to 10), the memo,
the workflow type, the note, the paused flag and next/recent action times, but no policies,
arguments or task queue. `ObservedSchedule` holds exactly that; `detail` is filled only when a
schedule was described (for a field-by-field diff or `get`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduled.model.desired import (
    Action,
    DesiredSchedule,
    Policies,
    SearchAttribute,
    Spec,
    attribute_values,
)

LIST_CALENDAR_LIMIT = 10  # the server cuts each spec list to 10 entries in list results


@dataclass(frozen=True, slots=True)
class Revision:
    """Which version of the tree is applied: a git commit, or a git-sync link target."""

    name: str = ""
    commit_time: int = 0  # seconds; orders revisions between replicas (0: not ordered)


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteRecord:
    """What `scheduled` leaves on a schedule at each write, read back from `list` results: an
    unchanged tree is proven unchanged by this record, without a describe per schedule."""

    fingerprint: str
    source: str
    enabled: bool  # the file's `enabled` when this was written, to tell an operator's pause
    revision: str = ""  # git commit or link target of the tree that was applied
    commit_time: int = 0  # orders revisions; a replica never writes an older one
    # The schedule search attributes this write set: a later write removes those the file no
    # longer names, and leaves alone those someone else set.
    search_attribute_names: tuple[str, ...] = ()
    # The file's `max_runs` when this was written: the list does not show the server's count,
    # and an update replaces it, so this tells whether the count must be carried over.
    max_runs: int | None = None


def record_for(schedule: DesiredSchedule, revision: Revision) -> WriteRecord:
    """The record a write of `schedule` from the tree at `revision` leaves in Temporal."""
    return WriteRecord(
        fingerprint=schedule.fingerprint,
        source=schedule.source,
        enabled=schedule.enabled,
        revision=revision.name,
        commit_time=revision.commit_time,
        search_attribute_names=tuple(attribute.name for attribute in schedule.search_attributes),
        max_runs=schedule.max_runs,
    )


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
    # How many argument payloads each started workflow gets (a file sends `args`, `input` or none).
    argument_count: int = 1
    # The runs the server still lets the schedule start (it counts down from `max_runs`);
    # None: no limit.
    remaining_runs: int | None = None
    # What the schedule holds beyond these values, and so beyond what a workflow file can say
    # (old-form exclusion calendars, a schedule memo, workflow headers, ...), each in a few
    # words; empty for what scheduled writes. `export` refuses a schedule with any, and
    # `adopt` lists them as lost, since it re-creates the schedule from its file.
    unsupported: tuple[str, ...] = ()


# When `pause_on_failure` pauses a schedule, the server writes why into the note, over ours:
# "paused due to workflow timeout: <workflow id>" (checked on a dev server; a failure or a
# termination reads the same with its own word).
PAUSED_ON_FAILURE_NOTE = "paused due to workflow "


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedSchedule:
    """One schedule as Temporal reports it: a list entry, or a describe with `detail`."""

    schedule_id: str
    owner: str | None  # project from the ownership memo; None: not managed by scheduled
    record: WriteRecord | None  # the last write by scheduled, from the spec's record calendar
    spec: Spec  # without the record calendar
    workflow_type: str
    paused: bool
    note: str
    next_runs: tuple[datetime, ...] = ()
    recent_runs: tuple[RecentRun, ...] = ()
    # The schedule's own search attributes (list and describe return them), Temporal's own
    # left out.
    search_attributes: tuple[SearchAttribute, ...] = ()
    detail: Detail | None = None

    @property
    def last_run(self) -> RecentRun | None:
        return self.recent_runs[-1] if self.recent_runs else None

    @property
    def paused_on_failure(self) -> bool:
        """Paused by the server because `pause_on_failure` saw a run fail, not by a person."""
        return self.paused and self.note.startswith(PAUSED_ON_FAILURE_NOTE)


def scheduled_attribute_names(
    schedule: DesiredSchedule, observed: ObservedSchedule | None
) -> frozenset[str]:
    """The schedule search attributes that are scheduled's to set: the ones the file names,
    and the ones scheduled's last write set (a name the file dropped is removed)."""
    names = {attribute.name for attribute in schedule.search_attributes}
    if observed is not None and observed.record is not None:
        names.update(observed.record.search_attribute_names)
    return frozenset(names)


def search_attributes_match(schedule: DesiredSchedule, observed: ObservedSchedule) -> bool:
    """Temporal holds the file's schedule search attributes, and none that scheduled set
    before and the file dropped; attributes set by others are not compared.

    Temporal applies an update's search attributes a moment after the update itself: a
    describe right after it shows the old ones (20-200 ms on a dev server, every time, while
    the note is already new). A check that close to a write can see drift that is gone by the
    next one; it then costs one more write, never a loop."""
    names = scheduled_attribute_names(schedule, observed)
    return attribute_values(schedule.search_attributes) == attribute_values(
        observed.search_attributes, names
    )


def search_attributes_to_write(
    schedule: DesiredSchedule, observed: ObservedSchedule | None
) -> tuple[SearchAttribute, ...] | None:
    """The schedule search attributes a write sends: Temporal replaces them as a whole, so
    the file's, plus those someone else set (kept); None to leave them alone, when neither
    the file nor scheduled's last write has any (as before this field existed)."""
    names = scheduled_attribute_names(schedule, observed)
    if not names:
        return None
    kept = tuple(
        attribute
        for attribute in (observed.search_attributes if observed is not None else ())
        if attribute.name not in names
    )
    return tuple(sorted(schedule.search_attributes + kept, key=lambda attribute: attribute.name))
