"""Helpers for the reconciler tests: a gateway wrapper that counts calls and fakes list lag, and
a small harness around one project's tree and the real dev server.

    async def body(env: Env) -> None:
        env.write("nightly", cron="0 3 * * *")
        first = await env.apply()
        await env.settled()
        ...
    run_env(temporal_address, project_name, tmp_path, body)
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import temporalio.client as tc
from options import plan_options
from temporalio.service import RPCError
from trees import workflow_yaml, write_workflow

from scheduled.format.globs import DEFAULT_SELECTION, FileSelection
from scheduled.format.loader import LoadOptions, LoadResult, load_tree
from scheduled.model.desired import OverlapPolicy, schedule_id_for
from scheduled.model.observed import ObservedSchedule
from scheduled.reconcile.apply import ApplyOptions, Outcome
from scheduled.reconcile.gateway import ScheduleGateway, ScheduleWrite
from scheduled.reconcile.phases import Explain, PassResult, reconcile_pass
from scheduled.reconcile.plan import Plan, PlanOptions
from scheduled.temporal.connection import Connection
from scheduled.temporal.gateway import TemporalGateway

WRITE_CALLS = ("create", "update", "delete")


class CountingGateway:
    """Wraps a ScheduleGateway: counts every call by name, and can make `list` lag behind
    (hide ids that exist, or keep showing stale entries for ids that are gone)."""

    def __init__(self, inner: ScheduleGateway) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.journal_calls: Counter[str] = Counter()
        self.hidden: set[str] = set()  # ids `list` does not show yet
        self.stale: list[ObservedSchedule] = []  # entries `list` still shows

    @property
    def writes(self) -> int:
        return sum(self.calls[name] for name in WRITE_CALLS)

    async def list_schedules(self, id_prefix: str, *, query: str = "") -> list[ObservedSchedule]:
        self.calls["list"] += 1
        found = [
            item
            for item in await self.inner.list_schedules(id_prefix, query=query)
            if item.schedule_id not in self.hidden
        ]
        listed = {item.schedule_id for item in found}
        found += [item for item in self.stale if item.schedule_id not in listed]
        return found

    async def check_health(self) -> None:
        await self.inner.check_health()

    # The journal's calls are counted apart: these tests count what a pass costs per schedule.
    async def read_journal(self, project: str) -> dict[str, float]:
        self.journal_calls["read"] += 1
        return await self.inner.read_journal(project)

    async def write_journal(self, project: str, journal: Mapping[str, float]) -> None:
        self.journal_calls["write"] += 1
        await self.inner.write_journal(project, journal)

    async def run_status(self, workflow_id: str) -> str:
        self.calls["run_status"] += 1
        return await self.inner.run_status(workflow_id)

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        self.calls["describe"] += 1
        return await self.inner.describe(schedule_id)

    async def create(self, write: ScheduleWrite) -> None:
        self.calls["create"] += 1
        await self.inner.create(write)

    async def update(self, write: ScheduleWrite) -> None:
        self.calls["update"] += 1
        await self.inner.update(write)

    async def delete(self, schedule_id: str) -> None:
        self.calls["delete"] += 1
        await self.inner.delete(schedule_id)

    async def trigger(self, schedule_id: str, *, overlap: OverlapPolicy | None = None) -> None:
        self.calls["trigger"] += 1
        await self.inner.trigger(schedule_id, overlap=overlap)

    async def backfill(
        self,
        schedule_id: str,
        *,
        start: datetime,
        end: datetime,
        overlap: OverlapPolicy | None = None,
    ) -> None:
        self.calls["backfill"] += 1
        await self.inner.backfill(schedule_id, start=start, end=end, overlap=overlap)


@dataclass
class Env:
    """One project's tree on disk and its schedules on the real dev server."""

    root: Path
    project: str
    gateway: TemporalGateway
    client: tc.Client
    last_calls: Counter[str] = field(default_factory=Counter)
    selection: FileSelection = DEFAULT_SELECTION  # the include/exclude globs of the tree

    # -- the tree ------------------------------------------------------------------------

    def write(self, workflow_id: str, /, *, path: str | None = None, **fields: Any) -> Path:
        """A valid workflow file; `fields` as for trees.workflow_yaml (schedule keys, or
        `workflow=` / `task_queue=` for the top-level ones)."""
        return write_workflow(
            self.root, path or f"{workflow_id}.yaml", workflow_yaml(workflow_id, **fields)
        )

    def write_text(self, relative: str, text: str) -> Path:
        return write_workflow(self.root, relative, text)

    def remove(self, workflow_id: str) -> None:
        (self.root / f"{workflow_id}.yaml").unlink()

    def load(self) -> LoadResult:
        options = LoadOptions(project=self.project, selection=self.selection)
        return load_tree(self.root, options, now=datetime.now(UTC))

    def schedule_id(self, workflow_id: str) -> str:
        return schedule_id_for(self.project, workflow_id)

    # -- reconciling ---------------------------------------------------------------------

    def plan_options(self, **overrides: Any) -> PlanOptions:
        return plan_options(self.project, **overrides)

    async def forget_recent_writes(self) -> None:
        await self.gateway.write_journal(self.project, {})

    async def plan(self, *, detail: bool = False, **overrides: Any) -> Plan:
        """What `scheduled plan --no-verify` shows: the one pass, explained, nothing applied
        (as if the last writes were minutes ago)."""
        await self.forget_recent_writes()
        explain = Explain.DESCRIBED if detail else Explain.LISTED
        result = await reconcile_pass(
            self.load(), self.gateway, self.plan_options(**overrides), explain=explain
        )
        return result.plan

    async def apply(
        self,
        *,
        gateway: CountingGateway | None = None,
        apply: dict[str, Any] | None = None,
        recent: bool = False,
        **overrides: Any,
    ) -> PassResult:
        """One reconcile pass through a counting wrapper; its counts land in `last_calls`.

        Unless `recent`, the pass runs as if the last writes were minutes ago (the journal of
        recent writes is emptied first): these tests are about what the list shows and how its
        lag is handled; what the journal adds is tested in test_journal_temporal.py."""
        if not recent:
            await self.forget_recent_writes()
        counting = gateway or CountingGateway(self.gateway)
        apply_options = {"initial_backoff_s": 0.01, **(apply or {})}
        result = await reconcile_pass(
            self.load(),
            counting,
            self.plan_options(**overrides),
            apply=ApplyOptions(**apply_options),
        )
        self.last_calls = counting.calls
        return result

    async def apply_until(
        self, predicate: Callable[[PassResult], bool], *, within_s: float = 10.0, **overrides: Any
    ) -> PassResult:
        """Apply until a pass does what predicate asks: for a change made in Temporal by hand,
        which the list shows only eventually (under load, a list right after one that showed the
        change has shown the schedule as before)."""
        deadline = time.monotonic() + within_s
        while True:
            result = await self.apply(**overrides)
            if predicate(result) or time.monotonic() > deadline:
                return result
            await anyio.sleep(0.2)

    async def apply_and_settle(self) -> PassResult:
        """One pass, then wait until the list shows what it wrote."""
        result = await self.apply()
        await self.settled()
        return result

    async def settled(self, within_s: float = 10.0, **overrides: Any) -> None:
        """Wait until the list (eventually consistent) shows what was written: a plan with no
        writes. A plan that keeps asking for writes after `within_s` fails the test."""
        await self.wait_listed(lambda _: True, within_s=within_s, converged=True, **overrides)

    async def wait_listed(
        self,
        predicate: Callable[[dict[str, ObservedSchedule]], bool],
        *,
        within_s: float = 10.0,
        converged: bool = False,
        **overrides: Any,
    ) -> dict[str, ObservedSchedule]:
        """Poll `list` until predicate(listed by schedule id) holds (and, with converged, the
        plan has no writes)."""
        deadline = time.monotonic() + within_s
        while True:
            result = await reconcile_pass(self.load(), self.gateway, self.plan_options(**overrides))
            listed = {item.schedule_id: item for item in result.observed}
            ready = predicate(listed)
            made = None
            if ready and converged:
                made = result.plan
                ready = not made.has_changes
            if ready:
                return listed
            if time.monotonic() > deadline:
                pending = (
                    []
                    if made is None
                    else [
                        (op.kind, op.schedule_id, op.reasons) for op in made.operations if op.writes
                    ]
                )
                raise AssertionError(f"the list did not settle within {within_s} s: {pending}")
            await anyio.sleep(0.05)

    # -- Temporal, through the SDK directly ---------------------------------------------

    def handle(self, workflow_id: str) -> tc.ScheduleHandle:
        return self.client.get_schedule_handle(self.schedule_id(workflow_id))

    async def describe(self, workflow_id: str) -> tc.ScheduleDescription:
        return await self.handle(workflow_id).describe()

    async def started_workflows(
        self, workflow_id: str, *, at_least: int = 0, within_s: float = 10.0
    ) -> list[str]:
        """The ids of the workflows the schedule of `workflow_id` started (by firing, trigger
        or backfill), from the visibility list: eventually consistent, so it is polled until
        it shows at least `at_least` of them."""
        query = f'TemporalScheduledById = "{self.schedule_id(workflow_id)}"'
        deadline = time.monotonic() + within_s
        while True:
            found = sorted([item.id async for item in self.client.list_workflows(query)])
            if len(found) >= at_least or time.monotonic() > deadline:
                return found
            await anyio.sleep(0.1)

    async def terminate_started(self, workflow_id: str) -> None:
        """End the runs a test started (no worker polls their queue: they would run on)."""
        for run_id in await self.started_workflows(workflow_id):
            try:
                await self.client.get_workflow_handle(run_id).terminate("test done")
            except RPCError:  # already closed
                continue

    async def create_unmarked(
        self, workflow_id: str, *, memo: dict[str, Any] | None = None
    ) -> None:
        """A schedule with this project's id that scheduled did not create (no or foreign memo)."""
        await self.client.create_schedule(
            self.schedule_id(workflow_id),
            tc.Schedule(
                action=tc.ScheduleActionStartWorkflow(
                    "Handmade", {"by": "hand"}, id=f"hand-{workflow_id}", task_queue="hand"
                ),
                spec=tc.ScheduleSpec(cron_expressions=["15 4 * * *"]),
                state=tc.ScheduleState(paused=True, note="made by hand"),
            ),
            memo=memo,
        )


def outcomes(result: PassResult) -> dict[str, Outcome]:
    return {item.schedule_id: item.outcome for item in result.report.results}


def run_env(address: str, project: str, root: Path, body: Callable[[Env], Awaitable[None]]) -> None:
    """Connect a gateway and a plain SDK client, run body, and return when it is done."""
    root.mkdir(parents=True, exist_ok=True)

    async def main() -> None:
        gateway = await TemporalGateway.connect(Connection(address=address))
        client = await tc.Client.connect(address)
        await body(Env(root=root, project=project, gateway=gateway, client=client))

    anyio.run(main)


def fire_hours(description: tc.ScheduleDescription) -> set[tuple[int, int]]:
    """(hour, minute) of every next action time (UTC)."""
    return {(time_.hour, time_.minute) for time_ in description.info.next_action_times}


def calendar_times(description: tc.ScheduleDescription) -> list[tuple[int, int]]:
    """(hour, minute) starts of each calendar of the spec (the record calendar is in `skip`)."""
    return [
        (calendar.hour[0].start, calendar.minute[0].start)
        for calendar in description.schedule.spec.calendars
    ]


def names(items: Iterable[Any]) -> set[str]:
    return {item.name for item in items}
