"""Runs on request: `scheduled trigger` and `scheduled backfill`, by the file's id.

Both name a workflow file, not a schedule: the id is looked up in the tree, its schedule in
Temporal, and only a schedule this project manages is touched. Neither changes the schedule
itself, and neither counts down `max_runs` (Temporal counts only the runs it starts on its own,
checked on a dev server).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from scheduled.errors import ScheduledError
from scheduled.format.loader import LoadResult
from scheduled.model.desired import OverlapPolicy, schedule_id_for
from scheduled.model.observed import ObservedSchedule
from scheduled.reconcile.gateway import ScheduleGateway, ScheduleNotFoundError


class RunRequestError(ScheduledError):
    """A trigger or backfill that cannot be sent; the message says why and what to do."""


class UnknownWorkflowError(RunRequestError):
    """No workflow file of the tree has the id (or its file has no `schedule:` block)."""


class BadRangeError(RunRequestError):
    """A backfill whose --from is not before its --to."""


class NotInTemporalError(RunRequestError):
    """The file's schedule does not exist in Temporal yet (apply has not created it)."""


class UnmanagedScheduleError(RunRequestError):
    """The schedule with the file's id is not this project's: scheduled leaves it alone."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The schedule a request goes to, as Temporal holds it."""

    workflow_id: str
    schedule_id: str
    source: str  # the workflow file, relative to the tree's root
    timezone: str  # the schedule's zone: timestamps without an offset are read in it


@dataclass(frozen=True, slots=True, kw_only=True)
class Backfill:
    start: datetime
    end: datetime


def find_target(load: LoadResult, project: str, workflow_id: str) -> tuple[str, str, str]:
    """The schedule id, the source file and the file's time zone for a file id of the tree.
    An invalid file that names the id still finds its schedule (it exists in Temporal as it
    was); its zone is then the one Temporal holds ("")."""
    schedule_id = schedule_id_for(project, workflow_id)
    desired = load.desired.get(workflow_id)
    if desired is not None:
        return schedule_id, desired.source, desired.spec.timezone
    for found in load.files:
        if found.workflow_id != workflow_id:
            continue
        if not found.valid:
            return schedule_id, found.relative, ""
        raise UnknownWorkflowError(
            f"{found.relative} (id {workflow_id!r}) has no `schedule:` block, so it has no "
            "schedule to run"
        )
    raise UnknownWorkflowError(
        f"no workflow file under the tree has id {workflow_id!r} (the file's `id`, not the "
        f"schedule id {schedule_id!r}); `scheduled list` shows the managed ones"
    )


async def resolve_target(
    load: LoadResult, gateway: ScheduleGateway, *, project: str, workflow_id: str
) -> Target:
    """The managed schedule of the file with this id, or the error that names the fix."""
    schedule_id, source, timezone = find_target(load, project, workflow_id)
    try:
        observed = await gateway.describe(schedule_id)
    except ScheduleNotFoundError as error:
        raise NotInTemporalError(
            f"{source}: its schedule {schedule_id} is not in Temporal yet; run "
            "`scheduled apply` first"
        ) from error
    _check_owner(observed, project, source)
    return Target(
        workflow_id=workflow_id,
        schedule_id=schedule_id,
        source=source,
        timezone=timezone or observed.spec.timezone,
    )


def _check_owner(observed: ObservedSchedule, project: str, source: str) -> None:
    if observed.owner == project:
        return
    owner = f"project {observed.owner!r}" if observed.owner else "no scheduled project"
    raise UnmanagedScheduleError(
        f"{source}: the schedule {observed.schedule_id} belongs to {owner}, not to {project!r}; "
        "scheduled starts no runs of it (`scheduled adopt` takes it over)"
    )


def in_zone(moment: datetime, timezone: str) -> datetime:
    """A timestamp without an offset is the schedule's local time, as `start_at` is."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo(timezone))


def backfill_range(start: datetime, end: datetime, timezone: str) -> Backfill:
    """The range in the schedule's zone; BadRangeError unless start comes before end.
    Temporal accepts a reversed range and starts nothing (checked on a dev server)."""
    first, last = in_zone(start, timezone), in_zone(end, timezone)
    if first >= last:
        raise BadRangeError(
            f"--from ({first.isoformat()}) must be before --to ({last.isoformat()})"
        )
    return Backfill(start=first, end=last)


async def trigger(gateway: ScheduleGateway, target: Target, overlap: OverlapPolicy | None) -> None:
    """One run now; a schedule deleted since it was described reads as not in Temporal."""
    try:
        await gateway.trigger(target.schedule_id, overlap=overlap)
    except ScheduleNotFoundError as error:
        raise NotInTemporalError(_gone(target)) from error


async def backfill(
    gateway: ScheduleGateway, target: Target, window: Backfill, overlap: OverlapPolicy | None
) -> None:
    """The runs the schedule would have started in the window, both ends included."""
    try:
        await gateway.backfill(
            target.schedule_id, start=window.start, end=window.end, overlap=overlap
        )
    except ScheduleNotFoundError as error:
        raise NotInTemporalError(_gone(target)) from error


def _gone(target: Target) -> str:
    return (
        f"{target.source}: its schedule {target.schedule_id} was deleted meanwhile; run "
        "`scheduled apply` to create it again"
    )
