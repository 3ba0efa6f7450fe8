"""The inventory: what is known of Temporal between passes, as pure functions over frozen values.

A changed-set pass describes only the schedules its files name and plans against the inventory
for everything else: the prune guard needs the total of managed schedules, and a schedule's
record says which file it was written from. The inventory starts from a full list and is kept
current with each pass's own writes (the list was taken before them), so a schedule created by
the first pass is known, and deleting one file never looks like deleting all of them. Flux keeps
its inventory the same way (`internal/inventory`: New, Merge, Diff).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from scheduled.format.loader import FileResult
from scheduled.model.desired import schedule_id_for
from scheduled.model.observed import ObservedSchedule, record_for, search_attributes_to_write
from scheduled.reconcile.apply import ApplyReport, Outcome
from scheduled.reconcile.plan import Plan


@dataclass(frozen=True, slots=True)
class Inventory:
    """Every schedule under the project's id prefix as last seen or written, by schedule id."""

    schedules: Mapping[str, ObservedSchedule] = field(default_factory=dict)

    @classmethod
    def of(cls, observed: Iterable[ObservedSchedule]) -> Inventory:
        return cls({item.schedule_id: item for item in observed})

    def managed(self, project: str) -> int:
        return sum(1 for item in self.schedules.values() if item.owner == project)


def ids_for_files(
    files: frozenset[str],
    project: str,
    inventory: Inventory,
    *loads: Iterable[FileResult],
) -> frozenset[str]:
    """Schedule ids the files name in any of the loads (now and before), or were recorded as
    written from: all a changed set of files can touch."""
    named = named_ids(files, project, *loads)
    recorded = {
        schedule_id
        for schedule_id, item in inventory.schedules.items()
        if item.record is not None and item.record.source in files
    }
    return frozenset(named | recorded)


def named_ids(files: frozenset[str], project: str, *loads: Iterable[FileResult]) -> frozenset[str]:
    """Schedule ids the files name (valid or not, as far as their id could be read)."""
    return frozenset(
        schedule_id_for(project, result.workflow_id)
        for load in loads
        for result in load
        if result.relative in files and result.workflow_id
    )


def files_known_after(
    known: Mapping[str, FileResult], loaded: Iterable[FileResult], scope: frozenset[str] | None
) -> dict[str, FileResult]:
    """Each file as last read, after a pass that read `loaded`: a file that is gone is
    forgotten only once a pass had it in its changed set (or was full), because a pass may read
    the tree after a deletion that only the next pass's changed set holds."""
    present = {result.relative: result for result in loaded}
    kept = {
        name: result
        for name, result in known.items()
        if name not in present and scope is not None and name not in scope
    }
    return {**kept, **present}


def files_sharing_ids(files: frozenset[str], *loads: Iterable[FileResult]) -> frozenset[str]:
    """The files plus every file that names the same workflow id as one of them: when one of
    two files holding an id changes or goes away, the other one's fate changes with it (a
    duplicate becomes the only holder again)."""
    results = [result for load in loads for result in load]
    ids = {r.workflow_id for r in results if r.relative in files and r.workflow_id is not None}
    return files | {result.relative for result in results if result.workflow_id in ids}


def with_described(
    inventory: Inventory, ids: Iterable[str], described: Mapping[str, ObservedSchedule]
) -> Inventory:
    """The inventory after describing ids: found ones replaced, missing ones dropped."""
    schedules = dict(inventory.schedules)
    for schedule_id in ids:
        if schedule_id in described:
            schedules[schedule_id] = described[schedule_id]
        else:
            schedules.pop(schedule_id, None)
    return Inventory(schedules)


def after_writes(inventory: Inventory, plan: Plan, report: ApplyReport) -> Inventory:
    """The inventory once the plan's writes are done: what each write leaves in Temporal."""
    schedules = dict(inventory.schedules)
    operations = {operation.schedule_id: operation for operation in plan.operations}
    for result in report.results:
        operation = operations.get(result.schedule_id)
        if result.outcome is Outcome.DELETED:
            schedules.pop(result.schedule_id, None)
        elif result.outcome in (Outcome.CREATED, Outcome.UPDATED) and operation is not None:
            schedule = operation.desired
            if schedule is None:
                continue
            written = search_attributes_to_write(schedule, operation.observed)
            before = operation.observed.search_attributes if operation.observed else ()
            schedules[result.schedule_id] = ObservedSchedule(
                schedule_id=result.schedule_id,
                owner=plan.context.project,
                record=record_for(schedule, plan.context.revision),
                spec=schedule.spec,
                workflow_type=schedule.action.workflow_type,
                paused=operation.paused,
                note=operation.note,
                search_attributes=before if written is None else written,
            )
    return Inventory(schedules)
