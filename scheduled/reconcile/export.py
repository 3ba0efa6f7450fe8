"""Export: the schedules no project owns, as workflow files in a tree; never over a file.

For people coming from hand-made schedules (`scheduled export`): one list of the namespace
(narrowed by a visibility query when given), a describe of each schedule that carries no
ownership marker (the list shows neither the action nor the policies), the file text from
`format.export` (which refuses what a file cannot say exactly), and each file created only
where nothing is: an existing path is never written, and an id that a file of the tree already
holds is not written again (so exporting twice writes nothing the second time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial

from scheduled.format.export import ExportedFile, export_schedule
from scheduled.format.loader import LoadResult
from scheduled.reconcile.gateway import ScheduleGateway
from scheduled.reconcile.phases import describe_each


class Status(StrEnum):
    WRITTEN = "written"
    IN_TREE = "in tree"  # a file of the tree holds its id already: nothing to write
    MANAGED = "managed"  # a scheduled project owns it: its file is in that project's tree
    REFUSED = "refused"  # no file can say it exactly, or it could not be described
    SKIPPED = "skipped"  # a file (or another schedule of this export) is in the way


INCOMPLETE = frozenset({Status.REFUSED, Status.SKIPPED})


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportResult:
    schedule_id: str
    status: Status
    file: str = ""  # relative to the tree: the file written, in the way, or holding the id
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what adopting the written file changes
    in_place: bool = True  # False: adopt cannot take it over under its own id


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportReport:
    results: tuple[ExportResult, ...]

    @property
    def complete(self) -> bool:
        """Every schedule found that no project owns has a file in the tree now."""
        return not any(result.status in INCOMPLETE for result in self.results)

    def of(self, *statuses: Status) -> list[ExportResult]:
        return [result for result in self.results if result.status in statuses]

    def counts(self) -> dict[str, int]:
        counts = {str(status): 0 for status in Status}
        for result in self.results:
            counts[str(result.status)] += 1
        return counts


async def export_tree(
    load: LoadResult,
    gateway: ScheduleGateway,
    *,
    project: str,
    now: datetime,
    query: str = "",
    concurrency: int = 10,
) -> ExportReport:
    """Write a file into `load.root` for each unmarked schedule the list (and `query`) shows
    and a file can say exactly. Gateway errors of the list propagate; a describe that fails
    costs only its own schedule."""
    listed = await gateway.list_schedules("", query=query)
    results = [_managed(item.schedule_id, item.owner) for item in listed if item.owner]
    unmarked = [item.schedule_id for item in listed if not item.owner]
    described, failed = await describe_each(gateway, unmarked, concurrency=concurrency)
    results += [
        ExportResult(
            schedule_id=schedule_id,
            status=Status.REFUSED,
            reasons=(f"it could not be described: {error}",),
        )
        for schedule_id, error in failed.items()
    ]
    exports: list[ExportedFile] = []
    for schedule_id, item in described.items():
        if item.owner:  # marked since the list was read
            results.append(_managed(schedule_id, item.owner))
            continue
        exported = export_schedule(item, project=project, now=now)
        if isinstance(exported, ExportedFile):
            exports.append(exported)
        else:
            results.append(
                ExportResult(
                    schedule_id=schedule_id, status=Status.REFUSED, reasons=exported.reasons
                )
            )
    results += _write(load, exports)
    return ExportReport(results=tuple(sorted(results, key=lambda result: result.schedule_id)))


def _managed(schedule_id: str, owner: str | None) -> ExportResult:
    return ExportResult(
        schedule_id=schedule_id,
        status=Status.MANAGED,
        reasons=(f"managed by project {owner!r}: its file is in that project's tree",),
    )


def _write(load: LoadResult, exports: Iterable[ExportedFile]) -> list[ExportResult]:
    """Create each file where nothing is. A schedule that keeps its id (schedule-{project}-
    {id}) goes first, so it is the one that gets the file id when two would share it."""
    in_tree = {result.workflow_id: result.relative for result in load.files if result.workflow_id}
    taken: dict[str, str] = {}  # file id -> the schedule exported to it in this run
    results = []
    for exported in sorted(exports, key=lambda item: (not item.in_place, item.schedule_id)):
        base = partial(ExportResult, schedule_id=exported.schedule_id, in_place=exported.in_place)
        file_id = exported.workflow_id
        if file_id in in_tree:
            results.append(
                base(
                    status=Status.IN_TREE,
                    file=in_tree[file_id],
                    reasons=(f"the tree has a file with id {file_id!r} already",),
                )
            )
            continue
        if file_id in taken:
            results.append(
                base(
                    status=Status.SKIPPED,
                    reasons=(
                        f"its file id {file_id!r} is the one of {taken[file_id]}, exported "
                        "in this run; write its file by hand under another id",
                    ),
                )
            )
            continue
        path = load.root / exported.relative
        try:
            with path.open("x", encoding="utf-8") as file:  # "x": never over an existing file
                file.write(exported.text)
        except FileExistsError:
            results.append(
                base(
                    status=Status.SKIPPED,
                    file=exported.relative,
                    reasons=("the file exists already and is never overwritten",),
                )
            )
            continue
        except OSError as error:
            results.append(
                base(
                    status=Status.SKIPPED,
                    file=exported.relative,
                    reasons=(f"the file cannot be created: {error.strerror or error}",),
                )
            )
            continue
        taken[file_id] = exported.schedule_id
        results.append(base(status=Status.WRITTEN, file=exported.relative, notes=exported.notes))
    return results
