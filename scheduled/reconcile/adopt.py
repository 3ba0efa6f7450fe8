"""Adopt: take over a schedule that `scheduled` did not create, by re-creating it with the marker.

Temporal accepts a schedule memo (the ownership marker) only at create ("memo updates are not
supported on workflow-backed schedules"), so adoption deletes and creates again from the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduled.errors import ScheduledError
from scheduled.format.loader import LoadResult
from scheduled.model.desired import schedule_id_for
from scheduled.model.observed import Revision, record_for
from scheduled.reconcile.gateway import (
    GatewayError,
    ScheduleGateway,
    ScheduleNotFoundError,
    ScheduleWrite,
)


class AdoptError(ScheduledError):
    """`adopt` cannot take the schedule over (no file, not found, owned elsewhere, failed)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Adopted:
    schedule_id: str
    source: str
    already_managed: bool = False


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
    write = ScheduleWrite(
        project=project,
        schedule=schedule,
        paused=schedule.paused,
        note=schedule.note,
        record=record_for(schedule, revision or Revision()),
    )
    await gateway.delete(schedule_id)
    try:
        await gateway.create(write)
    except GatewayError as error:
        raise AdoptError(
            f"{schedule_id} was deleted but could not be created again ({error}); "
            "run `scheduled apply` to create it"
        ) from error
    return Adopted(schedule_id=schedule_id, source=schedule.source)
