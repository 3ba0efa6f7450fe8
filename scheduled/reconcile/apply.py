"""Apply: carry out a plan's writes with bounded concurrency, a rate limit and retries.

One anyio task group runs the writes; a CapacityLimiter bounds how many are in flight and a
token bucket bounds calls per second. Transient errors (UNAVAILABLE, RESOURCE_EXHAUSTED, ...)
are retried with exponential backoff and jitter; permanent ones are reported with the file they
came from. Because `list` lags behind writes, create→exists becomes an update (after checking
ownership), update→missing becomes a create and delete→missing is done.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import anyio
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from scheduled.model.observed import record_for, search_attributes_to_write
from scheduled.reconcile.gateway import (
    GatewayError,
    ScheduleExistsError,
    ScheduleGateway,
    ScheduleNotFoundError,
    ScheduleWrite,
    TransientGatewayError,
)
from scheduled.reconcile.plan import Kind, Operation, PassContext, Plan, plan_schedule

T = TypeVar("T")


class Outcome(StrEnum):
    """What apply did with one schedule (the plan's Kind, carried out)."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    CONFLICT = "conflict"
    BLOCKED = "blocked"
    FAILED = "failed"
    CANCELLED = "cancelled"


NOT_CONVERGED = frozenset({Outcome.CONFLICT, Outcome.BLOCKED, Outcome.FAILED, Outcome.CANCELLED})
WRITTEN = frozenset({Outcome.CREATED, Outcome.UPDATED, Outcome.DELETED})
_PASSIVE = {
    Kind.UNCHANGED: Outcome.UNCHANGED,
    Kind.SKIP: Outcome.SKIPPED,
    Kind.CONFLICT: Outcome.CONFLICT,
    Kind.BLOCKED: Outcome.BLOCKED,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyOptions:
    """How writes are carried out; what is written, and for whom, is in the plan."""

    concurrency: int = 10
    rate_limit: float = 200.0  # calls per second, bursts up to one second's worth
    max_attempts: int = 6
    initial_backoff_s: float = 0.2
    max_backoff_s: float = 10.0
    call_timeout_s: float = 30.0
    grace_s: float = 5.0  # after a stop request, how long in-flight calls may finish


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationResult:
    schedule_id: str
    workflow_id: str
    source: str
    kind: Kind  # what was planned; `outcome` says what became of it
    outcome: Outcome
    reason: str = ""
    duration_s: float = 0.0
    attempts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyReport:
    results: tuple[OperationResult, ...]
    elapsed_s: float
    stopped: bool = False  # a stop was requested before everything ran

    @property
    def converged(self) -> bool:
        return not any(result.outcome in NOT_CONVERGED for result in self.results)

    def counts(self) -> dict[str, int]:
        counts = {str(outcome): 0 for outcome in Outcome}
        for result in self.results:
            counts[str(result.outcome)] += 1
        return counts

    @property
    def writes(self) -> int:
        return sum(1 for result in self.results if result.outcome in WRITTEN)


class RateLimiter:
    """A token bucket: at most `rate` calls per second, with bursts of up to `rate` calls.

    The clock and the sleep are parameters so the pacing is tested without waiting."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = anyio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            self._tokens -= 1
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            await self._sleep(wait)


class _Stopping(Exception):
    """Raised instead of starting a retry once a stop was requested."""


class Caller:
    """Every Temporal call of one apply goes through here: at most `concurrency` in flight, at
    most `rate_limit` per second, a timeout per call, and retries of transient errors with
    exponential backoff and jitter. Once `stopping` is set, no retry starts."""

    def __init__(self, options: ApplyOptions) -> None:
        self.options = options
        self.limiter = anyio.CapacityLimiter(options.concurrency)
        self.rate = RateLimiter(options.rate_limit)
        self.stopping = False
        self._retrying = AsyncRetrying(
            stop=stop_after_attempt(options.max_attempts),
            # Exponential backoff plus up to one initial step of jitter. (Spelled with the
            # long-standing wait_exponential + wait_random: wait_exponential_jitter's `initial`
            # is deprecated in tenacity 9.2 and its jitter defaults to 1 s.)
            wait=wait_exponential(multiplier=options.initial_backoff_s, max=options.max_backoff_s)
            + wait_random(0, options.initial_backoff_s),
            retry=retry_if_exception_type(TransientGatewayError),
            sleep=anyio.sleep,
            reraise=True,
        )

    async def __call__(
        self, attempts: _Attempts, schedule_id: str, function: Callable[[], Awaitable[T]]
    ) -> T:
        """One call with retries; `attempts` counts every try, for the result."""
        async for attempt in self._retrying.copy():
            with attempt:
                if self.stopping and attempt.retry_state.attempt_number > 1:
                    raise _Stopping  # a stop request ends retries: no new call starts
                attempts.count += 1
                await self.rate.acquire()
                try:
                    with anyio.fail_after(self.options.call_timeout_s):
                        return await function()
                except TimeoutError as error:
                    raise TransientGatewayError(
                        f"no answer from Temporal within {self.options.call_timeout_s:.0f} s",
                        schedule_id=schedule_id,
                        status="DEADLINE_EXCEEDED",
                    ) from error
        raise AssertionError("unreachable: tenacity re-raises the last error")


@dataclass(slots=True)
class _Attempts:
    count: int = 0


async def apply_plan(
    plan: Plan,
    gateway: ScheduleGateway,
    options: ApplyOptions,
    *,
    stop: anyio.Event | None = None,
    on_result: Callable[[OperationResult], None] | None = None,
) -> ApplyReport:
    """Run every write of the plan; never raises for one schedule's failure."""
    started = time.monotonic()
    results: dict[str, OperationResult] = {}
    caller = Caller(options)

    def record(result: OperationResult) -> None:
        results[result.schedule_id] = result
        if on_result is not None:
            on_result(result)

    for operation in plan.operations:
        if not operation.writes:
            record(_passive_result(operation))

    writes = [operation for operation in plan.operations if operation.writes]
    async with anyio.create_task_group() as supervisor:
        with anyio.CancelScope() as work_scope:
            if stop is not None:
                supervisor.start_soon(_stop_after_grace, stop, caller, work_scope)
            # `concurrency` workers share one iterator of operations, rather than one task per
            # operation: 10,000 waiting tasks cost tens of megabytes for nothing.
            queue = iter(writes)
            async with anyio.create_task_group() as workers:
                for _ in range(min(options.concurrency, len(writes))):
                    workers.start_soon(_worker, queue, gateway, plan.context, caller, record)
        supervisor.cancel_scope.cancel()  # the stop watcher is no longer needed

    for operation in writes:  # writes interrupted by the grace deadline
        if operation.schedule_id not in results:
            record(_cancelled(operation, "stopped before it finished"))
    ordered = tuple(
        results[operation.schedule_id]
        for operation in plan.operations
        if operation.schedule_id in results
    )
    return ApplyReport(
        results=ordered, elapsed_s=time.monotonic() - started, stopped=caller.stopping
    )


async def _stop_after_grace(
    stop: anyio.Event, caller: Caller, work_scope: anyio.CancelScope
) -> None:
    await stop.wait()
    caller.stopping = True  # no new calls start from here on
    await anyio.sleep(caller.options.grace_s)
    work_scope.cancel()


def _passive_result(operation: Operation) -> OperationResult:
    return OperationResult(
        schedule_id=operation.schedule_id,
        workflow_id=operation.workflow_id,
        source=operation.source,
        kind=operation.kind,
        outcome=_PASSIVE[operation.kind],
        reason="; ".join(operation.reasons),
    )


def _cancelled(operation: Operation, reason: str) -> OperationResult:
    return OperationResult(
        schedule_id=operation.schedule_id,
        workflow_id=operation.workflow_id,
        source=operation.source,
        kind=operation.kind,
        outcome=Outcome.CANCELLED,
        reason=reason,
    )


async def _worker(
    queue: Iterator[Operation],
    gateway: ScheduleGateway,
    context: PassContext,
    caller: Caller,
    record: Callable[[OperationResult], None],
) -> None:
    writer = _Writer(gateway, context, caller)
    for operation in queue:  # each operation goes to exactly one worker
        await _run_operation(operation, writer, record)


async def _run_operation(
    operation: Operation, writer: _Writer, record: Callable[[OperationResult], None]
) -> None:
    async with writer.caller.limiter:
        if writer.caller.stopping:
            record(_cancelled(operation, "not started: stopping"))
            return
        started = time.monotonic()
        attempts = _Attempts()
        try:
            outcome, reason = await writer.carry_out(operation, attempts)
        except GatewayError as error:
            outcome, reason = Outcome.FAILED, _failure_reason(error, attempts.count)
        except _Stopping:
            outcome, reason = Outcome.CANCELLED, "stopped before retrying"
        except anyio.get_cancelled_exc_class():
            record(_cancelled(operation, "cancelled while in flight"))  # synchronous: safe here
            raise
        record(
            OperationResult(
                schedule_id=operation.schedule_id,
                workflow_id=operation.workflow_id,
                source=operation.source,
                kind=operation.kind,
                outcome=outcome,
                reason=reason,
                duration_s=time.monotonic() - started,
                attempts=attempts.count,
            )
        )


def _failure_reason(error: GatewayError, attempts: int) -> str:
    tail = f" (after {attempts} attempts)" if attempts > 1 else ""
    if isinstance(error, TransientGatewayError):
        return f"{error}{tail}; Temporal may be down or overloaded, the next pass retries"
    return f"{error}{tail}"


@dataclass(slots=True)
class _Writer:
    """Carries out one operation. Because `list` lags behind writes, create→exists becomes an
    update (after checking ownership), update→missing a create and delete→missing is done."""

    gateway: ScheduleGateway
    context: PassContext
    caller: Caller

    async def carry_out(self, operation: Operation, attempts: _Attempts) -> tuple[Outcome, str]:
        gateway, schedule_id = self.gateway, operation.schedule_id

        def call(function: Callable[[], Awaitable[T]]) -> Awaitable[T]:
            return self.caller(attempts, schedule_id, function)

        reason = "; ".join(operation.reasons)
        if operation.kind is Kind.DELETE:
            try:
                await call(lambda: gateway.delete(schedule_id))
            except ScheduleNotFoundError:
                return Outcome.DELETED, "already gone"
            return Outcome.DELETED, reason
        write = write_for(operation, self.context)
        if operation.kind is Kind.CREATE:
            try:
                await call(lambda: gateway.create(write))
                return Outcome.CREATED, reason
            except ScheduleExistsError:
                return await self._create_found_existing(operation, call)
        try:
            if operation.carry_remaining:
                write = await self._with_server_count(operation, write, call)
            await call(lambda: gateway.update(write))
        except ScheduleNotFoundError:
            assert operation.desired is not None
            fresh = replace(write, remaining_runs=operation.desired.max_runs)
            await call(lambda: gateway.create(fresh))
            return Outcome.CREATED, "was gone (deleted meanwhile); created again"
        return Outcome.UPDATED, reason

    async def _with_server_count(
        self,
        operation: Operation,
        write: ScheduleWrite,
        call: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]],
    ) -> ScheduleWrite:
        """The write with the run count the server holds now: the update replaces the state
        whole, and the list the plan saw does not carry the count. A run may start between the
        two calls and be counted again; that is one run at most, and only when an update
        races a firing."""
        gateway = self.gateway
        current = await call(lambda: gateway.describe(operation.schedule_id))
        held = current.detail.remaining_runs if current.detail is not None else None
        return replace(write, remaining_runs=held if held is not None else write.remaining_runs)

    async def _create_found_existing(
        self, operation: Operation, call: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]
    ) -> tuple[Outcome, str]:
        """The list was behind and the schedule exists: plan it again against what describe
        says (ownership, operator pause, fingerprint) and write only if that plan asks for it."""
        assert operation.desired is not None
        gateway = self.gateway
        current = await call(lambda: gateway.describe(operation.schedule_id))
        replanned = plan_schedule(operation.desired, current, self.context, datetime.now(UTC))
        reason = "; ".join(replanned.reasons)
        if replanned.kind is Kind.UPDATE:
            write = write_for(replanned, self.context)
            try:
                await call(lambda: gateway.update(write))
            except ScheduleNotFoundError:  # deleted again in between: create it after all
                await call(lambda: gateway.create(write))
                return Outcome.CREATED, "was deleted while being created; created again"
            return Outcome.UPDATED, f"existed already (list was behind); updated: {reason}"
        if replanned.kind is Kind.CONFLICT:
            return Outcome.CONFLICT, reason
        prefix = "existed already (list was behind)"
        return _PASSIVE[replanned.kind], f"{prefix}; {reason}" if reason else prefix


def write_for(operation: Operation, context: PassContext) -> ScheduleWrite:
    """The complete schedule a create or update sends, built fresh from the file."""
    schedule = operation.desired
    assert schedule is not None, "create and update operations carry their desired schedule"
    return ScheduleWrite(
        project=context.project,
        schedule=schedule,
        paused=operation.paused,
        note=operation.note,
        record=record_for(schedule, context.revision),
        search_attributes=search_attributes_to_write(schedule, operation.observed),
        remaining_runs=operation.remaining_runs,
        # A manual run starts even on a paused schedule: a file that is not `enabled` starts
        # nothing, so its create starts nothing either.
        trigger_immediately=operation.kind is Kind.CREATE
        and schedule.trigger_immediately
        and not operation.paused,
    )
