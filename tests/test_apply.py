"""Apply against the in-memory FakeGateway: retries, error kinds, concurrency, the rate limit,
list lag, and cancellation. Each test runs its own event loop with anyio.run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import pytest
from fakes import FakeGateway
from options import plan_options
from test_plan import desired, observed

from scheduled.model.desired import (
    AttributeType,
    DesiredSchedule,
    SearchAttribute,
    schedule_id_prefix,
    with_fingerprint,
)
from scheduled.reconcile.apply import (
    ApplyOptions,
    ApplyReport,
    OperationResult,
    Outcome,
    RateLimiter,
    apply_plan,
)
from scheduled.reconcile.gateway import (
    PermanentGatewayError,
    ScheduleNotFoundError,
    TransientGatewayError,
)
from scheduled.reconcile.plan import Kind, PassContext, Plan, desired_state_from, make_plan

PROJECT = "foo"
T = TypeVar("T")


def run(function: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(function)


def options(**overrides: Any) -> ApplyOptions:
    base: dict[str, Any] = {
        "initial_backoff_s": 0.001,
        "max_backoff_s": 0.01,
        "rate_limit": 10_000,
    }
    return ApplyOptions(**{**base, **overrides})


async def plan_for(fake: FakeGateway, schedules: list[DesiredSchedule], **options: Any) -> Plan:
    listed = await fake.list_schedules(schedule_id_prefix(PROJECT))
    state = desired_state_from(schedules, project=PROJECT, file_count=max(1, len(schedules)))
    return make_plan(state, listed, plan_options(PROJECT, **options))


async def reconcile(
    fake: FakeGateway,
    schedules: list[DesiredSchedule],
    *,
    stop: anyio.Event | None = None,
    on_result: Callable[[OperationResult], None] | None = None,
    **apply_options: Any,
) -> ApplyReport:
    made = await plan_for(fake, schedules)
    return await apply_plan(made, fake, options(**apply_options), stop=stop, on_result=on_result)


def by_id(report: ApplyReport) -> dict[str, OperationResult]:
    return {result.workflow_id: result for result in report.results}


def jobs(count: int) -> list[DesiredSchedule]:
    return [desired(f"job-{index:03d}") for index in range(count)]


# -- outcomes -------------------------------------------------------------------------------


def test_create_update_delete_and_unchanged() -> None:
    fake = FakeGateway()

    async def main() -> None:
        first = await reconcile(fake, [desired("a"), desired("b"), desired("c")])
        assert first.counts()["created"] == 3 and first.writes == 3 and first.converged
        second = await reconcile(fake, [desired("a"), desired("b", cron="0 10 * * *")])
        assert {key: r.outcome for key, r in by_id(second).items()} == {
            "a": Outcome.UNCHANGED,
            "b": Outcome.UPDATED,
            "c": Outcome.DELETED,
        }
        calls_before = fake.writes
        third = await reconcile(fake, [desired("a"), desired("b", cron="0 10 * * *")])
        assert third.writes == 0 and fake.writes == calls_before

    run(main)


def test_report_lists_every_schedule_in_plan_order_and_calls_on_result() -> None:
    fake = FakeGateway()
    seen: list[str] = []

    async def main() -> None:
        report = await reconcile(
            fake,
            [desired("b"), desired("a")],
            on_result=lambda result: seen.append(result.workflow_id),
        )
        assert [result.workflow_id for result in report.results] == ["a", "b"]

    run(main)
    assert sorted(seen) == ["a", "b"]


def test_passive_operations_are_reported_without_calls() -> None:
    fake = FakeGateway()
    fake.foreign["schedule-foo-taken"] = observed(desired("taken"), owner=None, record=None)

    async def main() -> None:
        report = await reconcile(fake, [desired("taken")])
        assert by_id(report)["taken"].outcome is Outcome.CONFLICT
        assert not report.converged

    run(main)
    assert fake.writes == 0


# -- retries and error kinds ----------------------------------------------------------------


@pytest.mark.parametrize("status", ["UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"])
def test_transient_error_is_retried_then_succeeds(status: str) -> None:
    fake = FakeGateway()
    sid = "schedule-foo-job"
    fake.fail("create", sid, *[TransientGatewayError(status, schedule_id=sid, status=status)] * 2)
    report = run(lambda: reconcile(fake, [desired("job")]))
    (result,) = report.results
    assert (result.outcome, result.attempts) == (Outcome.CREATED, 3)
    assert fake.calls["create"] == 3 and sid in fake.stored


def test_transient_error_that_persists_fails_after_the_attempt_bound() -> None:
    fake = FakeGateway()
    sid = "schedule-foo-job"
    fake.fail("create", sid, *[TransientGatewayError("down", status="UNAVAILABLE")] * 10)
    report = run(lambda: reconcile(fake, [desired("job")], max_attempts=4))
    (result,) = report.results
    assert (result.outcome, result.attempts) == (Outcome.FAILED, 4)
    assert "after 4 attempts" in result.reason and "next pass retries" in result.reason
    assert fake.calls["create"] == 4 and not report.converged


@pytest.mark.parametrize("status", ["INVALID_ARGUMENT", "PERMISSION_DENIED"])
def test_permanent_error_is_not_retried_and_names_the_file(status: str) -> None:
    fake = FakeGateway()
    sid = "schedule-foo-job"
    fake.fail(
        "create", sid, PermanentGatewayError(f"Temporal answered {status}: no", status=status)
    )
    report = run(lambda: reconcile(fake, [desired("job", source="teams/job.yaml")]))
    (result,) = report.results
    assert (result.outcome, result.source, result.attempts) == (Outcome.FAILED, "teams/job.yaml", 1)
    assert status in result.reason
    assert fake.calls["create"] == 1


def test_slow_call_times_out_and_is_retried() -> None:
    fake = FakeGateway()
    fake.slow("create", "schedule-foo-job", 1.0)
    report = run(lambda: reconcile(fake, [desired("job")], call_timeout_s=0.05))
    (result,) = report.results
    assert (result.outcome, result.attempts) == (Outcome.CREATED, 2)


def test_one_failing_schedule_does_not_stop_the_others() -> None:
    fake = FakeGateway()
    fake.fail(
        "create", "schedule-foo-job-003", PermanentGatewayError("bad", status="INVALID_ARGUMENT")
    )
    report = run(lambda: reconcile(fake, jobs(8)))
    assert report.counts()["created"] == 7 and report.counts()["failed"] == 1
    assert by_id(report)["job-003"].outcome is Outcome.FAILED
    assert len(fake.stored) == 7


# -- list lag and races ---------------------------------------------------------------------


def test_create_that_finds_it_existing_updates_it() -> None:
    fake = FakeGateway()

    async def main() -> None:
        await reconcile(fake, [desired("job")])
        fake.list_lag.add("schedule-foo-job")
        report = await reconcile(fake, [desired("job", cron="0 11 * * *")])
        result = by_id(report)["job"]
        assert result.outcome is Outcome.UPDATED and "list was behind" in result.reason

    run(main)
    assert (fake.calls["describe"], fake.calls["update"]) == (1, 1)
    assert fake.stored["schedule-foo-job"].write.schedule == desired("job", cron="0 11 * * *")


def test_create_that_finds_it_existing_and_up_to_date_writes_nothing() -> None:
    fake = FakeGateway()

    async def main() -> None:
        await reconcile(fake, [desired("job")])
        fake.list_lag.add("schedule-foo-job")
        report = await reconcile(fake, [desired("job")])
        assert by_id(report)["job"].outcome is Outcome.UNCHANGED

    run(main)
    assert fake.calls["update"] == 0


def test_create_that_finds_a_foreign_schedule_is_a_conflict() -> None:
    fake = FakeGateway()
    foreign = observed(desired("job"), owner="other", record=None)
    fake.foreign["schedule-foo-job"] = foreign

    async def main() -> None:
        # a plan made before the foreign schedule showed up in the list
        made = make_plan(
            desired_state_from([desired("job")], project=PROJECT, file_count=1),
            [],
            plan_options(PROJECT),
        )
        report = await apply_plan(made, fake, options())
        assert by_id(report)["job"].outcome is Outcome.CONFLICT
        assert "'other'" in by_id(report)["job"].reason

    run(main)
    assert fake.calls["update"] == 0


def test_create_that_finds_an_operator_pause_keeps_it() -> None:
    fake = FakeGateway()

    async def main() -> None:
        await reconcile(fake, [desired("job")])
        fake.operator_pause("schedule-foo-job", "ops")
        fake.list_lag.add("schedule-foo-job")
        await reconcile(fake, [desired("job", cron="0 11 * * *")])

    run(main)
    stored = fake.stored["schedule-foo-job"]
    assert (stored.paused, stored.note) == (True, "ops")


class DeletedWhileCreating(FakeGateway):
    """The schedule exists for create, then is gone when the update comes."""

    async def update(self, write: Any) -> None:
        self.stored.pop(write.schedule.schedule_id, None)
        await super().update(write)


def test_create_finds_it_then_update_finds_it_gone_creates_it() -> None:
    fake = DeletedWhileCreating()

    async def main() -> None:
        await reconcile(fake, [desired("job")])
        fake.list_lag.add("schedule-foo-job")
        report = await reconcile(fake, [desired("job", cron="0 11 * * *")])
        result = by_id(report)["job"]
        assert result.outcome is Outcome.CREATED and "created again" in result.reason

    run(main)
    assert fake.calls["create"] == 3  # first pass, the one that found it, the re-create


def test_update_of_a_missing_schedule_creates_it() -> None:
    fake = FakeGateway()

    async def main() -> None:
        await reconcile(fake, [desired("job")])
        made = await plan_for(fake, [desired("job", cron="0 11 * * *")])
        del fake.stored["schedule-foo-job"]  # deleted by someone after the list
        report = await apply_plan(made, fake, options())
        result = by_id(report)["job"]
        assert result.outcome is Outcome.CREATED and "deleted meanwhile" in result.reason

    run(main)
    assert "schedule-foo-job" in fake.stored


def test_delete_of_a_missing_schedule_is_done() -> None:
    fake = FakeGateway()

    async def main() -> None:
        await reconcile(fake, [desired("a"), desired("b")])
        made = await plan_for(fake, [desired("a")])
        del fake.stored["schedule-foo-b"]
        report = await apply_plan(made, fake, options())
        assert (by_id(report)["b"].outcome, by_id(report)["b"].reason) == (
            Outcome.DELETED,
            "already gone",
        )
        assert report.converged

    run(main)


def test_delete_not_found_injected_is_done() -> None:
    fake = FakeGateway()

    async def main() -> None:
        await reconcile(fake, [desired("a"), desired("b")])
        fake.fail("delete", "schedule-foo-b", ScheduleNotFoundError("gone", status="NOT_FOUND"))
        report = await reconcile(fake, [desired("a")])
        assert by_id(report)["b"].outcome is Outcome.DELETED

    run(main)


# -- bounds ---------------------------------------------------------------------------------


def test_concurrency_bound_is_respected() -> None:
    fake = FakeGateway()
    fake.delay_s = 0.01
    report = run(lambda: reconcile(fake, jobs(40), concurrency=4))
    assert report.counts()["created"] == 40
    assert fake.max_in_flight == 4  # reached, never passed


def test_rate_limit_is_respected() -> None:
    fake = FakeGateway()
    rate = 50.0
    report = run(lambda: reconcile(fake, jobs(75), rate_limit=rate, concurrency=75))
    assert report.counts()["created"] == 75
    creates = sorted(at for at, call, _ in fake.log if call == "create")
    for first in range(len(creates)):  # a token bucket: burst + rate x time, in any window
        for last in range(first + 1, len(creates)):
            allowed = rate + rate * (creates[last] - creates[first]) + 1
            assert last - first + 1 <= allowed


class SteppedClock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_lets_a_burst_through_then_paces() -> None:
    clock = SteppedClock()

    async def main() -> None:
        limiter = RateLimiter(20, clock=clock, sleep=clock.sleep)
        for _ in range(30):
            await limiter.acquire()

    run(main)
    # 20 calls at once, then one call per 1/20 s: the 10 after the burst wait 0.5 s in all
    assert len(clock.sleeps) == 10
    assert clock.now == pytest.approx(0.5)


# -- cancellation ---------------------------------------------------------------------------


async def apply_with_stop(
    fake: FakeGateway, made: Plan, *, stop_after_s: float, **apply_options: Any
) -> ApplyReport:
    """Apply, and set the stop event after stop_after_s (as a signal handler would)."""
    stop = anyio.Event()
    async with anyio.create_task_group() as group:

        async def stop_soon() -> None:
            await anyio.sleep(stop_after_s)
            stop.set()

        group.start_soon(stop_soon)
        report = await apply_plan(made, fake, options(**apply_options), stop=stop)
        group.cancel_scope.cancel()
    return report


def test_stop_lets_in_flight_calls_finish_and_starts_no_new_ones() -> None:
    fake = FakeGateway()

    async def main() -> ApplyReport:
        made = await plan_for(fake, jobs(20))
        fake.delay_s = 0.3
        return await apply_with_stop(fake, made, stop_after_s=0.1, concurrency=5, grace_s=60.0)

    report = run(main)
    assert report.elapsed_s < 60.0  # returns when the in-flight calls end, not after the grace
    assert report.stopped and not report.converged
    counts = report.counts()
    assert (counts["created"], counts["cancelled"]) == (5, 15)
    assert fake.calls["create"] == 5 and len(fake.stored) == 5
    cancelled = [r for r in report.results if r.outcome is Outcome.CANCELLED]
    assert {r.reason for r in cancelled} == {"not started: stopping"}
    assert len(report.results) == 20


def test_stop_cancels_calls_still_running_after_the_grace_period() -> None:
    fake = FakeGateway()

    async def main() -> ApplyReport:
        made = await plan_for(fake, jobs(3))
        fake.delay_s = 5.0
        return await apply_with_stop(fake, made, stop_after_s=0.05, grace_s=0.1)

    report = run(main)
    assert report.stopped
    assert [(r.outcome, r.reason) for r in report.results] == [
        (Outcome.CANCELLED, "cancelled while in flight")
    ] * 3
    assert fake.in_flight == 0 and fake.finished == [("list", "")]


def test_calls_queued_behind_the_limiter_are_reported_when_the_grace_period_ends() -> None:
    fake = FakeGateway()

    async def main() -> ApplyReport:
        made = await plan_for(fake, jobs(3))
        fake.delay_s = 5.0
        return await apply_with_stop(fake, made, stop_after_s=0.05, grace_s=0.1, concurrency=1)

    report = run(main)
    assert [(r.outcome, r.reason) for r in report.results] == [
        (Outcome.CANCELLED, "cancelled while in flight"),
        (Outcome.CANCELLED, "stopped before it finished"),
        (Outcome.CANCELLED, "stopped before it finished"),
    ]
    assert fake.calls["create"] == 1


def test_stop_during_a_retry_backoff_starts_no_retry() -> None:
    fake = FakeGateway()
    fake.fail("create", "schedule-foo-job", TransientGatewayError("down", status="UNAVAILABLE"))

    async def main() -> ApplyReport:
        made = await plan_for(fake, [desired("job")])
        return await apply_with_stop(
            fake, made, stop_after_s=0.05, initial_backoff_s=0.3, max_backoff_s=0.3, grace_s=2.0
        )

    report = run(main)
    (result,) = report.results
    assert (result.outcome, result.reason) == (Outcome.CANCELLED, "stopped before retrying")
    assert fake.calls["create"] == 1


def test_hard_cancel_leaves_no_task_running() -> None:
    fake = FakeGateway()

    async def main() -> tuple[int, bool]:
        made = await plan_for(fake, jobs(10))
        fake.delay_s = 5.0
        with anyio.move_on_after(0.1) as scope:
            await apply_plan(made, fake, options(), stop=anyio.Event())
        await anyio.lowlevel.checkpoint()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        return len(others), scope.cancelled_caught

    leftover, cancelled = run(main)
    assert cancelled and leftover == 0
    assert fake.in_flight == 0 and not fake.stored


def test_counts_and_converged_of_an_empty_plan() -> None:
    empty = Plan(operations=(), managed=0, context=PassContext(project=PROJECT))
    report = run(lambda: apply_plan(empty, FakeGateway(), options()))
    assert report.converged and report.writes == 0 and not report.stopped
    assert set(report.counts().values()) == {0}


def test_kinds_map_to_outcomes() -> None:
    fake = FakeGateway()

    async def main() -> None:
        await reconcile(fake, [desired("a"), desired("b"), desired("c")])
        made = await plan_for(fake, [])  # empty tree: guard blocks
        report = await apply_plan(made, fake, options())
        assert {r.outcome for r in report.results} == {Outcome.BLOCKED}
        assert {op.kind for op in made.operations} == {Kind.BLOCKED}

    run(main)


def test_schedule_search_attributes_resync_with_zero_writes_and_keep_others() -> None:
    fake = FakeGateway()
    team = SearchAttribute(name="Team", type=AttributeType.KEYWORD, value="payments")
    tier = SearchAttribute(name="Tier", type=AttributeType.INT, value=7)
    schedule = with_fingerprint(replace(desired("job"), search_attributes=(team,)))

    async def main() -> None:
        await reconcile(fake, [schedule])
        fake.stored[schedule.schedule_id].search_attributes = (team, tier)  # someone else's
        assert (await reconcile(fake, [schedule])).writes == 0
        edited = with_fingerprint(replace(schedule, note="edited"))
        assert (await reconcile(fake, [edited])).writes == 1

    run(main)
    assert fake.stored[schedule.schedule_id].search_attributes == (team, tier)
