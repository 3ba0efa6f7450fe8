"""Adopt: take over schedules that `scheduled` did not create, by re-creating them with the marker.

Temporal accepts a schedule memo (the ownership marker) only at create ("memo updates are not
supported on workflow-backed schedules"), so adoption deletes and creates again from the file.
What that loses, checked on a dev server: the recent-action history and the action counters;
the runs it started are not touched, but one still going is no longer seen by the new
schedule's overlap policy (so `skip` can start a second run beside it); whatever the schedule
holds beyond its file (`Detail.unsupported`: search attributes, a schedule memo, old-form
exclusions, ...). Its pause and note become the file's.

`adopt` takes over one schedule by its workflow id; `plan_adoption` and `adopt_planned` take
over every unmarked schedule whose id matches a file, in one pass, with a plan to show first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from scheduled.errors import ScheduledError
from scheduled.format.loader import LoadResult
from scheduled.model.desired import DesiredSchedule, schedule_id_for, schedule_id_prefix
from scheduled.model.observed import ObservedSchedule, Revision, record_for
from scheduled.reconcile.diff import field_changes
from scheduled.reconcile.gateway import (
    GatewayError,
    ScheduleGateway,
    ScheduleNotFoundError,
    ScheduleWrite,
)
from scheduled.reconcile.phases import describe_each, journal_writes
from scheduled.reconcile.plan import FieldChange
from scheduled.tasks import task_group

# Said once in every adoption plan, and in the README.
WHAT_ADOPTING_LOSES = (
    "Adopting deletes each schedule and creates it again from its file, with the ownership "
    "marker (Temporal sets a schedule memo only at create): its recent-action history and "
    "counters are reset; the workflows it started keep running, but one still going is no "
    "longer seen by the overlap policy; a fire time in the moment between the delete and the "
    "create is not taken; its pause state and note become the file's."
)


class AdoptError(ScheduledError):
    """`adopt` cannot take the schedule over (no file, not found, owned elsewhere, failed)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Adopted:
    schedule_id: str
    source: str
    already_managed: bool = False
    journal_error: str = ""  # adopted, but the journal of recent writes was not updated


async def adopt(
    load: LoadResult,
    gateway: ScheduleGateway,
    *,
    project: str,
    workflow_id: str,
    revision: Revision | None = None,
) -> Adopted:
    """Take over an unmarked schedule with this project's id for workflow_id.

    Temporal accepts a schedule memo (the ownership marker) only at create, so the schedule is
    deleted and created again from its file: its recent-action history is reset.
    """
    schedule_id = schedule_id_for(project, workflow_id)
    schedule = load.desired.get(workflow_id)
    if schedule is None:
        if workflow_id in load.claimed_workflow_ids:
            raise AdoptError(f"the file of {workflow_id!r} is invalid; fix it first")
        raise AdoptError(
            f"no valid workflow file with id {workflow_id!r} and a schedule block in the tree"
        )
    try:
        current = await gateway.describe(schedule_id)
    except ScheduleNotFoundError as error:
        raise AdoptError(
            f"there is no schedule {schedule_id} to adopt; `scheduled apply` creates it"
        ) from error
    if current.owner == project:
        return Adopted(schedule_id=schedule_id, source=schedule.source, already_managed=True)
    if current.owner is not None:
        raise AdoptError(
            f"{schedule_id} belongs to project {current.owner!r}; refusing to take it over"
        )
    await _recreate(gateway, _write(schedule, current, project, revision or Revision()))
    journal_error = await journal_writes(gateway, project, [schedule_id])
    return Adopted(schedule_id=schedule_id, source=schedule.source, journal_error=journal_error)


def _write(
    schedule: DesiredSchedule, current: ObservedSchedule, project: str, revision: Revision
) -> ScheduleWrite:
    # Created anew, so every attribute is sent: the file's, and those set by hand or by other
    # tools that the file does not name (apply keeps them too); Temporal's own are not ours.
    named = {attribute.name for attribute in schedule.search_attributes}
    kept = tuple(item for item in current.search_attributes if item.name not in named)
    return ScheduleWrite(
        project=project,
        schedule=schedule,
        paused=schedule.paused,
        note=schedule.note,
        record=record_for(schedule, revision),
        search_attributes=tuple(
            sorted(schedule.search_attributes + kept, key=lambda attribute: attribute.name)
        ),
        # Created again from the file: a `max_runs` starts at its full count, and
        # `trigger_immediately` (a take-over is no new schedule) starts nothing.
        remaining_runs=schedule.max_runs,
    )


async def _recreate(gateway: ScheduleGateway, write: ScheduleWrite) -> None:
    """Delete, then create with the marker; AdoptError saying what state it is left in."""
    schedule_id = write.schedule.schedule_id
    try:
        await gateway.delete(schedule_id)
    except ScheduleNotFoundError:
        pass  # gone meanwhile: creating it from the file is what `apply` would do too
    except GatewayError as error:
        raise AdoptError(
            f"{schedule_id} could not be deleted ({error}); it is unchanged"
        ) from error
    try:
        await gateway.create(write)
    except GatewayError as error:
        raise AdoptError(
            f"{schedule_id} was deleted but could not be created again ({error}); "
            "run `scheduled apply` to create it"
        ) from error


# -- every matching schedule at once (`adopt --all`) ----------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """An unmarked schedule with a valid file of the same id: what adopting it changes (the
    file's values against the schedule's, field by field) and what it loses."""

    schedule: DesiredSchedule
    current: ObservedSchedule  # described
    changes: tuple[FieldChange, ...] = ()
    lost: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    schedule_id: str
    source: str  # the file with its id
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptionPlan:
    """What `adopt --all` would do; nothing is written until it is carried out."""

    project: str
    candidates: tuple[Candidate, ...] = ()
    refused: tuple[Refusal, ...] = ()
    managed: int = 0  # schedules of the tree this project manages already
    unmatched: tuple[str, ...] = ()  # unmarked schedules under the prefix that no file names


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptionResult:
    schedule_id: str
    source: str
    error: str = ""  # empty: adopted

    @property
    def adopted(self) -> bool:
        return not self.error


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptionReport:
    results: tuple[AdoptionResult, ...] = ()
    journal_error: str = ""
    stopped: bool = False

    @property
    def adopted(self) -> list[AdoptionResult]:
        return [result for result in self.results if result.adopted]

    @property
    def failed(self) -> list[AdoptionResult]:
        return [result for result in self.results if not result.adopted]


@dataclass
class _Planning:
    """What the list (then the describes) sorted the schedules into."""

    refused: list[Refusal] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    to_describe: list[str] = field(default_factory=list)
    managed: int = 0

    def refuse(self, schedule_id: str, source: str, reason: str) -> None:
        self.refused.append(Refusal(schedule_id=schedule_id, source=source, reason=reason))


async def plan_adoption(
    load: LoadResult, gateway: ScheduleGateway, *, project: str, concurrency: int = 10
) -> AdoptionPlan:
    """Every schedule under the project's prefix (one list) whose id matches a file, each
    candidate described (strongly consistent, and the only view of its action and policies)
    to say what adopting it changes and loses. Refused: another project's schedule, an
    invalid file, a schedule that cannot be described. The list lags behind writes by
    seconds: a schedule created a moment ago may be missing until the next run."""
    by_id = {schedule.schedule_id: schedule for schedule in load.desired.values()}
    invalid = {
        schedule_id_for(project, result.workflow_id): result.relative
        for result in load.files
        if not result.valid and result.workflow_id is not None
    }
    planning = _Planning()
    for item in await gateway.list_schedules(schedule_id_prefix(project)):
        _sort_listed(item, project, by_id, invalid, planning)
    described, failed = await describe_each(gateway, planning.to_describe, concurrency=concurrency)
    candidates = []
    for schedule_id in sorted(planning.to_describe):
        schedule = by_id[schedule_id]
        current = described.get(schedule_id)
        if schedule_id in failed:
            planning.refuse(
                schedule_id, schedule.source, f"it could not be described: {failed[schedule_id]}"
            )
        elif current is None:
            continue  # deleted since the list was read: `apply` creates it
        elif current.owner == project:
            planning.managed += 1
        elif current.owner is not None:
            planning.refuse(
                schedule_id, schedule.source, f"it belongs to project {current.owner!r}"
            )
        else:
            candidates.append(_candidate(schedule, current))
    return AdoptionPlan(
        project=project,
        candidates=tuple(candidates),
        refused=tuple(sorted(planning.refused, key=lambda refusal: refusal.schedule_id)),
        managed=planning.managed,
        unmatched=tuple(sorted(planning.unmatched)),
    )


def _sort_listed(
    item: ObservedSchedule,
    project: str,
    by_id: dict[str, DesiredSchedule],
    invalid: dict[str, str],
    planning: _Planning,
) -> None:
    schedule_id = item.schedule_id
    if item.owner == project:
        planning.managed += schedule_id in by_id
    elif schedule_id in invalid:
        planning.refuse(schedule_id, invalid[schedule_id], "its file is invalid; fix it first")
    elif schedule_id not in by_id:
        if item.owner is None:  # another project's (`foo-bar` under `foo`) is not ours to name
            planning.unmatched.append(schedule_id)
    elif item.owner is not None:
        planning.refuse(
            schedule_id, by_id[schedule_id].source, f"it belongs to project {item.owner!r}"
        )
    else:
        planning.to_describe.append(schedule_id)


def _candidate(schedule: DesiredSchedule, current: ObservedSchedule) -> Candidate:
    # The calendars' comments become the file's cron text (Temporal's UI shows it); the diff
    # shows that as a `cron` change when nothing else of the calendars differs: not one here.
    changes = [
        change
        for change in field_changes(schedule, current, paused=schedule.paused, note=schedule.note)
        if change.name != "cron"
    ]
    lost = list(current.detail.unsupported if current.detail else ())
    if current.recent_runs:
        lost.append(f"its recent-action history ({len(current.recent_runs)} run(s) shown)")
    return Candidate(schedule=schedule, current=current, changes=tuple(changes), lost=tuple(lost))


async def adopt_planned(
    plan: AdoptionPlan,
    gateway: ScheduleGateway,
    *,
    revision: Revision | None = None,
    concurrency: int = 10,
    stop: anyio.Event | None = None,
) -> AdoptionReport:
    """Re-create every candidate of the plan from its file, `concurrency` at a time; one
    failure never stops the others. Once `stop` is set, no new one starts (one in flight
    finishes: stopping between its delete and its create would lose the schedule)."""
    limiter = anyio.CapacityLimiter(concurrency)
    results: list[AdoptionResult] = []
    stopped = False

    async def one(candidate: Candidate) -> None:
        nonlocal stopped
        schedule = candidate.schedule
        async with limiter:
            if stop is not None and stop.is_set():
                stopped = True
                results.append(
                    AdoptionResult(
                        schedule_id=schedule.schedule_id,
                        source=schedule.source,
                        error="not started: stopped by a signal",
                    )
                )
                return
            try:
                with anyio.CancelScope(shield=True):
                    write = _write(
                        schedule, candidate.current, plan.project, revision or Revision()
                    )
                    await _recreate(gateway, write)
            except AdoptError as error:
                results.append(
                    AdoptionResult(
                        schedule_id=schedule.schedule_id, source=schedule.source, error=str(error)
                    )
                )
                return
            results.append(AdoptionResult(schedule_id=schedule.schedule_id, source=schedule.source))

    async with task_group() as group:
        for candidate in plan.candidates:
            group.start_soon(one, candidate)
    adopted = [result.schedule_id for result in results if result.adopted]
    journal_error = await journal_writes(gateway, plan.project, adopted)
    return AdoptionReport(
        results=tuple(sorted(results, key=lambda result: result.schedule_id)),
        journal_error=journal_error,
        stopped=stopped,
    )
