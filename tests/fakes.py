"""An in-memory ScheduleGateway that behaves like Temporal where `scheduled` depends on it.

It stores what a write sends and lists it back the way the server does (record calendar in the
spec's skip list, ownership memo, paused and note), counts every call, and injects errors: a
queue of exceptions per (call, schedule id) raised before the call takes effect. Calls can be
slowed (all of them, or the next few of one schedule) to test concurrency and cancellation.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

import anyio

from scheduled.model.desired import OverlapPolicy, SearchAttribute
from scheduled.model.observed import Detail, ObservedSchedule
from scheduled.reconcile.gateway import (
    ScheduleExistsError,
    ScheduleNotFoundError,
    ScheduleWrite,
    TransientGatewayError,
)
from scheduled.temporal.marker import owner_from_memo, ownership_memo


@dataclass
class _Stored:
    memo: dict[str, object]
    write: ScheduleWrite
    paused: bool
    note: str
    search_attributes: tuple[SearchAttribute, ...] = ()  # kept apart, as Temporal does
    remaining_runs: int | None = None  # counted down by `fire`, as the server does
    manual_runs: list[str] = field(default_factory=list)  # trigger/backfill/trigger_immediately


class FakeGateway:
    def __init__(self) -> None:
        self.stored: dict[str, _Stored] = {}
        self.foreign: dict[str, ObservedSchedule] = {}  # schedules not written through us
        self.calls: Counter[str] = Counter()
        self.faults: dict[tuple[str, str], deque[Exception]] = defaultdict(deque)
        self.list_lag: set[str] = set()  # ids the list does not show yet (eventual consistency)
        self.delay_s = 0.0
        self.delays: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.in_flight = 0
        self.max_in_flight = 0
        self.log: list[tuple[float, str, str]] = []  # (monotonic start time, call, schedule id)
        self.finished: list[tuple[str, str]] = []  # calls that ran to the end (no fault, no cancel)
        self.down = False  # check_health fails while set
        self.run_statuses: dict[str, str] = {}  # workflow id -> the real status of its run
        self.journals: dict[str, dict[str, float]] = {}  # project -> its journal of writes
        self.queries: list[str] = []  # the visibility query of each list call

    # -- test controls -------------------------------------------------------------------

    def fail(self, call: str, schedule_id: str, *errors: Exception) -> None:
        """The next len(errors) `call`s for schedule_id raise these, in order."""
        self.faults[(call, schedule_id)].extend(errors)

    def slow(self, call: str, schedule_id: str, *delays: float) -> None:
        """The next len(delays) `call`s for schedule_id take these many seconds, in order."""
        self.delays[(call, schedule_id)].extend(delays)

    def operator_pause(self, schedule_id: str, note: str = "paused by operator") -> None:
        stored = self.stored[schedule_id]
        stored.paused, stored.note = True, note

    def fire(self, schedule_id: str, times: int = 1) -> None:
        """The schedule fires on its own `times` times: a limited one counts down, to 0."""
        stored = self.stored[schedule_id]
        if stored.remaining_runs is not None:
            stored.remaining_runs = max(0, stored.remaining_runs - times)

    @property
    def writes(self) -> int:
        return self.calls["create"] + self.calls["update"] + self.calls["delete"]

    # -- the gateway ---------------------------------------------------------------------

    async def _enter(self, call: str, schedule_id: str) -> None:
        self.calls[call] += 1
        self.log.append((time.monotonic(), call, schedule_id))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        delays = self.delays.get((call, schedule_id))
        delay = delays.popleft() if delays else self.delay_s
        try:
            if delay:
                await anyio.sleep(delay)
            else:
                await anyio.lowlevel.checkpoint()
        finally:
            self.in_flight -= 1
        queue = self.faults.get((call, schedule_id))
        if queue:
            raise queue.popleft()
        self.finished.append((call, schedule_id))

    async def check_health(self) -> None:
        # Not counted as in flight and never slowed: the daemon's probe runs beside every test.
        self.calls["health"] += 1
        if self.down:
            raise TransientGatewayError("down", status="UNAVAILABLE")

    async def list_schedules(self, id_prefix: str, *, query: str = "") -> list[ObservedSchedule]:
        """A query cannot be evaluated here: it is recorded in `queries`, and ignored."""
        self.queries.append(query)
        await self._enter("list", "")
        found = [
            self._observed(schedule_id)
            for schedule_id in sorted(self.stored)
            if schedule_id.startswith(id_prefix) and schedule_id not in self.list_lag
        ]
        found += [item for key, item in self.foreign.items() if key.startswith(id_prefix)]
        return found

    async def run_status(self, workflow_id: str) -> str:
        await self._enter("run_status", workflow_id)
        return self.run_statuses.get(workflow_id, "unknown")

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        await self._enter("describe", schedule_id)
        if schedule_id in self.foreign:
            return self.foreign[schedule_id]
        if schedule_id not in self.stored:
            raise ScheduleNotFoundError("not found", schedule_id=schedule_id, status="NOT_FOUND")
        stored = self.stored[schedule_id]
        schedule = stored.write.schedule
        return replace(
            self._observed(schedule_id),
            detail=Detail(
                policies=schedule.policies,
                action=schedule.action,
                remaining_runs=stored.remaining_runs,
            ),
        )

    async def read_journal(self, project: str) -> dict[str, float]:
        await self._enter("journal_read", project)
        return dict(self.journals.get(project, {}))

    async def write_journal(self, project: str, journal: Mapping[str, float]) -> None:
        await self._enter("journal_write", project)
        self.journals[project] = dict(journal)

    async def create(self, write: ScheduleWrite) -> None:
        schedule_id = write.schedule.schedule_id
        await self._enter("create", schedule_id)
        if schedule_id in self.stored or schedule_id in self.foreign:
            raise ScheduleExistsError("exists", schedule_id=schedule_id)
        self.stored[schedule_id] = _Stored(
            memo=ownership_memo(write.project),
            write=write,
            paused=write.paused,
            note=write.note,
            search_attributes=write.search_attributes or (),
            remaining_runs=write.remaining_runs,
            manual_runs=["trigger_immediately"] if write.trigger_immediately else [],
        )

    async def update(self, write: ScheduleWrite) -> None:
        schedule_id = write.schedule.schedule_id
        await self._enter("update", schedule_id)
        if schedule_id not in self.stored:
            raise ScheduleNotFoundError("not found", schedule_id=schedule_id, status="NOT_FOUND")
        stored = self.stored[schedule_id]
        stored.write, stored.paused, stored.note = write, write.paused, write.note
        if write.search_attributes is not None:  # None leaves them as they are
            stored.search_attributes = write.search_attributes
        stored.remaining_runs = write.remaining_runs  # an update replaces the state whole

    async def delete(self, schedule_id: str) -> None:
        await self._enter("delete", schedule_id)
        if (
            self.stored.pop(schedule_id, None) is None
            and self.foreign.pop(schedule_id, None) is None
        ):
            raise ScheduleNotFoundError("not found", schedule_id=schedule_id, status="NOT_FOUND")

    async def trigger(self, schedule_id: str, *, overlap: OverlapPolicy | None = None) -> None:
        await self._enter("trigger", schedule_id)
        self._stored_or_missing(schedule_id).manual_runs.append(f"trigger {overlap}")

    async def backfill(
        self,
        schedule_id: str,
        *,
        start: datetime,
        end: datetime,
        overlap: OverlapPolicy | None = None,
    ) -> None:
        await self._enter("backfill", schedule_id)
        stored = self._stored_or_missing(schedule_id)
        stored.manual_runs.append(f"backfill {start.isoformat()} {end.isoformat()} {overlap}")

    def _stored_or_missing(self, schedule_id: str) -> _Stored:
        if schedule_id not in self.stored:
            raise ScheduleNotFoundError("not found", schedule_id=schedule_id, status="NOT_FOUND")
        return self.stored[schedule_id]

    def _observed(self, schedule_id: str) -> ObservedSchedule:
        stored = self.stored[schedule_id]
        schedule = stored.write.schedule
        return ObservedSchedule(
            schedule_id=schedule_id,
            owner=owner_from_memo(stored.memo),
            record=stored.write.record,
            spec=schedule.spec,
            workflow_type=schedule.action.workflow_type,
            paused=stored.paused,
            note=stored.note,
            search_attributes=stored.search_attributes,
        )
