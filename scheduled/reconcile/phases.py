"""One reconcile pass for every caller: load → observe → plan (→ explain) (→ apply).

`plan`, `apply`, `list`/`get` and the daemon all run this one sequence, so they make the same
decisions. What differs between callers is a parameter: how Temporal is observed (a full list,
or describing what a changed set of files can touch), whether the plan is explained field by
field, and whether it is applied. Each phase is a call into the module that owns it; this
module only sequences them (Flux's `reconcile()` reads the same way).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import ClassVar, Literal, Protocol

import anyio

from scheduled.format.loader import FileResult, LoadResult
from scheduled.model.desired import schedule_id_prefix
from scheduled.model.observed import ObservedSchedule
from scheduled.reconcile.apply import (
    WRITTEN,
    ApplyOptions,
    ApplyReport,
    OperationResult,
    RateLimiter,
    apply_plan,
)
from scheduled.reconcile.diff import with_changes
from scheduled.reconcile.gateway import (
    GatewayError,
    ScheduleGateway,
    ScheduleNotFoundError,
    TransientGatewayError,
)
from scheduled.reconcile.inventory import Inventory, ids_for_files, with_described
from scheduled.reconcile.journal import recently_written, with_writes
from scheduled.reconcile.plan import (
    Kind,
    Plan,
    PlanOptions,
    desired_state_from,
    make_plan,
    revisions_to_order,
)
from scheduled.tasks import task_group

JOURNAL_READ_ATTEMPTS = 5  # 0.5 + 1 + 2 + 4 s between them
SCOPED_DESCRIBE_LIMIT = 200  # past this many schedules in a changed set, one list is cheaper

# Orders revisions seen in Temporal against the tree's own (format.revision.newer_by_ancestry,
# with the root and our commit bound): True for each that is newer, False for each older.
RevisionOrder = Callable[[frozenset[str]], Mapping[str, bool]]


class Explain(StrEnum):
    """How much of each update's field-by-field diff a pass works out."""

    NONE = "none"  # decisions only: apply and the daemon, where nobody reads the diff
    LISTED = "listed"  # from what the list shows (spec, workflow type, pause, note)
    DESCRIBED = "described"  # describe each update first: action and policies too


@dataclass(frozen=True, slots=True, kw_only=True)
class PassResult:
    """What one pass saw, decided and did; `report` is None when it only planned."""

    load: LoadResult
    observed: tuple[ObservedSchedule, ...]
    plan: Plan
    report: ApplyReport | None = None
    journal_error: str = ""  # the writes happened, but were not journaled: not converged


class Observer(Protocol):
    """How a pass learns what Temporal holds under the project's prefix."""

    # False: the observation does not depend on the tree, so it runs while the tree loads.
    needs_tree: ClassVar[bool]

    async def observe(
        self, gateway: ScheduleGateway, project: str, load: LoadResult | None
    ) -> list[ObservedSchedule]:
        """The observed schedules; `load` is the tree when `needs_tree`, else None."""
        ...


@dataclass(frozen=True, slots=True)
class ListAll:
    """Every schedule under the project's prefix, from one list (owned or not).

    The schedules the project's journal says were written in the last minutes are described
    instead of trusted from the list (its content lags behind writes; journal.py). With
    `verify`, every managed schedule is described (one call each): the list shows
    the spec, workflow type, pause and note, but not the action or the policies, so drift there
    (an SDK or CLI update of the input, a timeout, the overlap policy) is only found this way.
    With `run_status`, a last run the list calls running is looked up (one call each): list
    results keep a run's status from when it started until the schedule fires again.
    With `runs_left`, each managed schedule whose write record says it has a `max_runs` is
    described too (one call each): the list does not carry the count of runs left."""

    verify: bool = False
    run_status: bool = False
    runs_left: bool = False
    concurrency: int = 10
    rate_limit: float | None = None  # calls per second for the describes (None: unbounded)

    needs_tree: ClassVar[bool] = False

    async def observe(
        self, gateway: ScheduleGateway, project: str, load: LoadResult | None
    ) -> list[ObservedSchedule]:
        # The journal's describe and the list are independent reads: both at once.
        listed: list[ObservedSchedule] = []
        journal: dict[str, float] | None = None

        async def read_journal() -> None:
            nonlocal journal
            journal = await _read_journal(gateway, project)

        async with task_group() as group:
            group.start_soon(read_journal)
            listed = await gateway.list_schedules(schedule_id_prefix(project))
        # No journal to be had: every managed schedule may have been written just now.
        verify = self.verify or journal is None
        to_describe = recently_written(journal or {}, time.time())
        if verify:
            to_describe |= {item.schedule_id for item in listed if item.owner == project}
        if self.runs_left:
            to_describe |= {
                item.schedule_id
                for item in listed
                if item.owner == project and item.record is not None and item.record.max_runs
            }
        if to_describe:
            described = await describe_many(
                gateway, to_describe, concurrency=self.concurrency, rate_limit=self.rate_limit
            )
            # Described ones replace their list entries; one that describe no longer finds is
            # gone (the list lagged), and one the list does not show yet is there.
            listed = [
                *(item for item in listed if item.schedule_id not in to_describe),
                *described.values(),
            ]
        if not self.run_status:
            return listed
        return await with_run_status(listed, gateway, concurrency=self.concurrency)


@dataclass(frozen=True, slots=True, kw_only=True)
class DescribeIds:
    """Just these schedules, described (current, and with everything that was sent): `get`."""

    ids: frozenset[str]
    run_status: bool = True
    concurrency: int = 10

    needs_tree: ClassVar[bool] = False

    async def observe(
        self, gateway: ScheduleGateway, project: str, load: LoadResult | None
    ) -> list[ObservedSchedule]:
        described = await describe_many(gateway, self.ids, concurrency=self.concurrency)
        observed = list(described.values())
        if not self.run_status:
            return observed
        return await with_run_status(observed, gateway, concurrency=self.concurrency)


@dataclass(frozen=True, slots=True, kw_only=True)
class DescribeChanged:
    """Only what a changed set of files can touch, described one by one (describe is current,
    list lags), over the inventory for the rest: a single edit costs a few calls, not a list of
    every schedule. Past `limit` schedules one list is cheaper."""

    files: frozenset[str]
    inventory: Inventory
    previous: tuple[FileResult, ...] = ()  # the last load's files: what the files named before
    concurrency: int = 10
    limit: int = SCOPED_DESCRIBE_LIMIT

    needs_tree: ClassVar[bool] = True

    async def observe(
        self, gateway: ScheduleGateway, project: str, load: LoadResult | None
    ) -> list[ObservedSchedule]:
        assert load is not None, "needs_tree: the pass hands over the tree"
        ids = ids_for_files(self.files, project, self.inventory, load.files, self.previous)
        if len(ids) > self.limit:
            return await ListAll().observe(gateway, project, load)
        described = await describe_many(gateway, ids, concurrency=self.concurrency)
        return list(with_described(self.inventory, ids, described).schedules.values())


async def reconcile_pass(
    load: LoadResult | Callable[[], LoadResult],
    gateway: ScheduleGateway,
    options: PlanOptions,
    *,
    apply: ApplyOptions | None = None,
    observer: Observer = ListAll(),
    scope: frozenset[str] | None = None,
    scope_ids: frozenset[str] = frozenset(),
    explain: Explain = Explain.NONE,
    describe_concurrency: int = 10,
    order_revisions: RevisionOrder | None = None,
    stop: anyio.Event | None = None,
    on_load: Callable[[LoadResult], None] | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_result: Callable[[OperationResult], None] | None = None,
) -> PassResult:
    """Load the tree and observe Temporal, plan, then explain and/or apply as asked.

        Gateway errors of the observation propagate (nothing can be decided without it), and so
        does anything `on_load` raises (the daemon refuses an unreadable tree there); per-schedule
        errors of apply are in the report. `scope` limits the plan to a changed set of files (and
    `scope_ids` to the schedules they named before).

        `load` may be a function: the tree is then read in a worker thread, while Temporal lists
        the schedules when the observer does not need the tree (reading 1,000 files and listing
        1,000 schedules take about 0.3 s and 1.2 s, so the two waits overlap)."""
    project = options.context.project
    loaded, observed = await _load_and_observe(load, gateway, observer, project, on_load)
    desired = desired_state_from(
        loaded.desired.values(),
        invalid_sources=loaded.invalid_files,
        claimed_workflow_ids=loaded.claimed_workflow_ids,
        excluded_sources=loaded.excluded,
        not_workflow_sources=loaded.not_workflow_files,
        project=project,
        readable=loaded.readable,
        file_count=loaded.workflow_files,
        present_sources=(result.relative for result in loaded.files),
        scope=scope,
        scope_ids=scope_ids,
    )
    to_order = revisions_to_order(observed, options.context)
    if to_order and order_revisions is not None:
        ancestry = await anyio.to_thread.run_sync(order_revisions, frozenset(to_order))
        options = replace(options, context=replace(options.context, newer_by_ancestry=ancestry))
    plan = make_plan(desired, observed, options)
    if explain is Explain.DESCRIBED:
        plan = await with_detail(plan, gateway, concurrency=describe_concurrency)
    if explain is not Explain.NONE:
        plan = with_changes(plan)
    if on_plan is not None:
        on_plan(plan)
    report, journal_error = None, ""
    if apply is not None:
        report = await apply_plan(plan, gateway, apply, stop=stop, on_result=on_result)
        journal_error = await _journal_writes(gateway, project, report)
    return PassResult(
        load=loaded, observed=tuple(observed), plan=plan, report=report, journal_error=journal_error
    )


async def _read_journal(
    gateway: ScheduleGateway, project: str, attempts: int = JOURNAL_READ_ATTEMPTS
) -> dict[str, float] | None:
    """The journal, or None when Temporal did not give it. Right after a large apply the
    server answers the journal's describe with CANCELLED ("Timeout expired") for a few
    seconds; waiting up to about 8 s for it is far cheaper than describing every schedule."""
    for attempt in range(attempts):
        try:
            return await gateway.read_journal(project)
        except TransientGatewayError:
            if attempt + 1 < attempts:
                await anyio.sleep(0.5 * 2**attempt)
    return None


async def _journal_writes(gateway: ScheduleGateway, project: str, report: ApplyReport) -> str:
    """Record this pass's writes in the project's journal (journal_writes)."""
    written = [result.schedule_id for result in report.results if result.outcome in WRITTEN]
    return await journal_writes(gateway, project, written)


async def journal_writes(gateway: ScheduleGateway, project: str, written: Iterable[str]) -> str:
    """Record writes in the project's journal, so the next pass (by any process) reads them
    with describe, not from the lagging list. Returns why that failed, or ""."""
    written = list(written)
    if not written:
        return ""
    try:
        journal = await gateway.read_journal(project)
        await gateway.write_journal(project, with_writes(journal, written, time.time()))
    except GatewayError as error:
        return (
            f"the journal of recent writes could not be updated ({error}); a pass in the next "
            "minutes may trust a list that lags behind these writes"
        )
    return ""


async def _load_and_observe(
    load: LoadResult | Callable[[], LoadResult],
    gateway: ScheduleGateway,
    observer: Observer,
    project: str,
    on_load: Callable[[LoadResult], None] | None,
) -> tuple[LoadResult, list[ObservedSchedule]]:
    async def read_tree() -> LoadResult:
        loaded = load if isinstance(load, LoadResult) else await anyio.to_thread.run_sync(load)
        if on_load is not None:
            on_load(loaded)
        return loaded

    if observer.needs_tree:
        loaded = await read_tree()
        return loaded, await observer.observe(gateway, project, loaded)
    listed: list[ObservedSchedule] = []

    async def observe() -> None:
        listed.extend(await observer.observe(gateway, project, None))

    async with task_group() as group:
        group.start_soon(observe)
        loaded = await read_tree()
    return loaded, listed


async def describe_many(
    gateway: ScheduleGateway,
    ids: Iterable[str],
    *,
    concurrency: int,
    errors: Literal["raise", "skip"] = "raise",
    rate_limit: float | None = None,
) -> dict[str, ObservedSchedule]:
    """Describe each id, `concurrency` at a time. A missing schedule is left out. Any other
    error either fails the whole call at once (`raise`: the rest is not needed) or leaves that
    id out (`skip`: a best-effort read)."""
    found: dict[str, ObservedSchedule] = {}
    limiter = anyio.CapacityLimiter(concurrency)
    rate = RateLimiter(rate_limit) if rate_limit else None

    async def one(schedule_id: str) -> None:
        async with limiter:
            if rate is not None:
                await rate.acquire()
            try:
                found[schedule_id] = await gateway.describe(schedule_id)
            except ScheduleNotFoundError:
                return
            except GatewayError:
                if errors == "raise":
                    raise

    async with task_group() as group:
        for schedule_id in sorted(ids):
            group.start_soon(one, schedule_id)
    return found


async def describe_each(
    gateway: ScheduleGateway, ids: Iterable[str], *, concurrency: int
) -> tuple[dict[str, ObservedSchedule], dict[str, GatewayError]]:
    """Describe each id, `concurrency` at a time, each on its own: the schedules found, and
    the error of each describe that failed (a missing schedule is in neither)."""
    found: dict[str, ObservedSchedule] = {}
    failed: dict[str, GatewayError] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(schedule_id: str) -> None:
        async with limiter:
            try:
                found[schedule_id] = await gateway.describe(schedule_id)
            except ScheduleNotFoundError:
                return
            except GatewayError as error:
                failed[schedule_id] = error

    async with task_group() as group:
        for schedule_id in sorted(ids):
            group.start_soon(one, schedule_id)
    return found, failed


async def with_run_status(
    observed: list[ObservedSchedule], gateway: ScheduleGateway, *, concurrency: int
) -> list[ObservedSchedule]:
    """The schedules with the real status of each last run that the list says is running."""
    running = {
        item.last_run.workflow_id
        for item in observed
        if item.last_run is not None and item.last_run.status == "running"
    }
    statuses: dict[str, str] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(workflow_id: str) -> None:
        async with limiter:
            statuses[workflow_id] = await gateway.run_status(workflow_id)

    async with task_group() as group:
        for workflow_id in sorted(running):
            group.start_soon(one, workflow_id)

    def refreshed(item: ObservedSchedule) -> ObservedSchedule:
        last = item.last_run
        if last is None or last.workflow_id not in statuses:
            return item
        runs = (*item.recent_runs[:-1], replace(last, status=statuses[last.workflow_id]))
        return replace(item, recent_runs=runs)

    return [refreshed(item) for item in observed]


async def with_detail(plan: Plan, gateway: ScheduleGateway, *, concurrency: int = 10) -> Plan:
    """The plan with each update's schedule described (one call each), for a field-by-field
    diff of the parts `list` does not show (action, policies). A describe that fails keeps the
    list view."""
    updates = [
        operation.schedule_id
        for operation in plan.operations
        if operation.kind is Kind.UPDATE
        and operation.desired is not None
        and (operation.observed is None or operation.observed.detail is None)
    ]
    described = await describe_many(gateway, updates, concurrency=concurrency, errors="skip")
    operations = tuple(
        replace(operation, observed=described[operation.schedule_id])
        if operation.schedule_id in described and operation.kind is Kind.UPDATE
        else operation
        for operation in plan.operations
    )
    return replace(plan, operations=operations)
