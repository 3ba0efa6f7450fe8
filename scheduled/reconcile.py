"""One reconcile pass in clear phases: load → observe → plan → apply → report.

Shared by the one-shot commands (`plan`, `apply`) and the daemon, so both make the same
decisions. Each phase is a call into the module that owns it; this module only sequences them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from scheduled.apply import ApplyOptions, ApplyReport, Result, apply_plan
from scheduled.errors import ScheduledError
from scheduled.gateway import GatewayError, ScheduleGateway, ScheduleNotFoundError, ScheduleWrite
from scheduled.loader import LoadResult
from scheduled.marker import record_for
from scheduled.model import schedule_id_for, schedule_id_prefix
from scheduled.observed import ObservedSchedule
from scheduled.plan import (
    DesiredState,
    Kind,
    Plan,
    PlanOptions,
    desired_state_from,
    field_changes,
    make_plan,
)
from scheduled.settings import Settings


@dataclass(frozen=True, slots=True)
class Revision:
    """Which version of the tree is applied: a git commit, or a git-sync link target."""

    name: str = ""
    generation: int = 0  # commit time (seconds); orders revisions between replicas


def tree_revision(root: Path) -> Revision:
    """The git commit (and its time) when root is a checkout, else the link target's name."""
    try:
        output = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%H %ct"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        output = None
    if output is not None and output.returncode == 0 and output.stdout.strip():
        commit, _, seconds = output.stdout.strip().partition(" ")
        return Revision(commit[:12], int(seconds) if seconds.isdigit() else 0)
    if root.is_symlink():
        return Revision(root.resolve().name)
    return Revision()


def pass_options(
    settings: Settings,
    *,
    project: str,
    revision: Revision,
    allow_mass_delete: bool = False,
    **apply_overrides: Any,
) -> tuple[PlanOptions, ApplyOptions]:
    """The options of one pass from the settings, the same for the CLI and the daemon."""
    plan_options = PlanOptions(
        project=project,
        now=datetime.now(UTC),
        prune=settings.prune,
        allow_mass_delete=allow_mass_delete,
        max_delete_fraction=settings.max_delete_fraction,
        respect_operator_pause=settings.respect_operator_pause,
        generation=revision.generation,
    )
    apply_options = ApplyOptions(
        project=project,
        concurrency=settings.concurrency,
        rate_limit=settings.rate_limit,
        max_attempts=settings.max_attempts,
        revision=revision.name,
        generation=revision.generation,
        respect_operator_pause=settings.respect_operator_pause,
        **apply_overrides,
    )
    return plan_options, apply_options


def desired_state(load: LoadResult, project: str, scope: Iterable[str] | None = None) -> DesiredState:
    return desired_state_from(
        load.desired.values(),
        invalid_sources=load.invalid_files,
        claimed_workflow_ids=load.claimed_ids,
        project=project,
        readable=load.readable,
        file_count=len(load.files),
        scope=scope,
    )


async def observe(gateway: ScheduleGateway, project: str) -> list[ObservedSchedule]:
    return await gateway.list_schedules(schedule_id_prefix(project))


@dataclass(frozen=True, slots=True, kw_only=True)
class PassResult:
    load: LoadResult
    plan: Plan
    report: ApplyReport


async def reconcile_pass(
    load: LoadResult | Callable[[], LoadResult],
    gateway: ScheduleGateway,
    *,
    plan_options: PlanOptions,
    apply_options: ApplyOptions,
    scope: Iterable[str] | None = None,
    stop: anyio.Event | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> PassResult:
    """Observe Temporal, plan against the loaded tree, apply. Gateway errors of the list call
    propagate (nothing can be decided without it); per-schedule errors are in the report.

    `load` may be a function: the tree is then read in a worker thread while Temporal lists
    the schedules, so the two waits overlap (reading 1,000 files and listing 1,000 schedules
    take about 0.3 s and 1.2 s)."""
    loaded, observed = await _load_and_observe(load, gateway, plan_options.project)
    plan = make_plan(desired_state(loaded, plan_options.project, scope), observed, plan_options)
    if on_plan is not None:
        on_plan(plan)
    report = await apply_plan(plan, gateway, apply_options, stop=stop, on_result=on_result)
    return PassResult(load=loaded, plan=plan, report=report)


async def _load_and_observe(
    load: LoadResult | Callable[[], LoadResult], gateway: ScheduleGateway, project: str
) -> tuple[LoadResult, list[ObservedSchedule]]:
    if isinstance(load, LoadResult):
        return load, await observe(gateway, project)
    listed: list[ObservedSchedule] = []
    failure: list[GatewayError] = []

    async def list_schedules() -> None:
        try:
            listed.extend(await observe(gateway, project))
        except GatewayError as error:  # re-raised below, not as an ExceptionGroup
            failure.append(error)

    async with anyio.create_task_group() as group:
        group.start_soon(list_schedules)
        loaded = await anyio.to_thread.run_sync(load)
    if failure:
        raise failure[0]
    return loaded, listed


async def with_detail(plan: Plan, gateway: ScheduleGateway, *, concurrency: int = 10) -> Plan:
    """Describe each schedule to be updated (one call each), for a field-by-field diff of the
    parts `list` does not show (action, policies). A describe that fails keeps the list view."""
    from dataclasses import replace

    operations = list(plan.operations)
    limiter = anyio.CapacityLimiter(concurrency)

    async def detail(index: int) -> None:
        operation = operations[index]
        assert operation.desired is not None
        async with limiter:
            try:
                described = await gateway.describe(operation.schedule_id)
            except GatewayError:
                return
        changes = field_changes(
            operation.desired, described, paused=operation.paused, note=operation.note
        )
        operations[index] = replace(operation, observed=described, changes=tuple(changes))

    async with anyio.create_task_group() as group:
        for index, operation in enumerate(operations):
            if operation.kind is Kind.UPDATE and operation.desired is not None:
                group.start_soon(detail, index)
    return replace(plan, operations=tuple(operations))


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
    revision: Revision = Revision(),
) -> Adopted:
    """Take over an unmarked schedule with this project's id for workflow_id.

    Temporal accepts a schedule memo (the ownership marker) only at create, so the schedule is
    deleted and created again from its file: its recent-action history is reset.
    """
    schedule_id = schedule_id_for(project, workflow_id)
    schedule = load.desired.get(workflow_id)
    if schedule is None:
        if workflow_id in load.claimed_ids:
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
        record=record_for(schedule, revision=revision.name, generation=revision.generation),
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

