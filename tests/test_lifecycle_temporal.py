"""`max_runs` and `trigger_immediately` against the real dev server (the session's
`temporal_server`): what Temporal holds is read back with temporalio directly.

The server counts a limit down only for the runs it starts on its own: a schedule that fires
every second (allow_all, since no worker ever finishes a run) is what counts down here.
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest
import temporalio.client as tc
from reconcile_helpers import CountingGateway, Env, names, outcomes, run_env

from scheduled.reconcile.apply import ApplyOptions, Outcome
from scheduled.reconcile.phases import ListAll, reconcile_pass

pytestmark = pytest.mark.temporal

CRON = "0 9 * * *"


async def remaining_runs(env: Env, workflow_id: str) -> int | None:
    state = (await env.describe(workflow_id)).schedule.state
    return state.remaining_actions if state.limited_actions else None


async def counted_down_to(env: Env, workflow_id: str, at_most: int, within_s: float = 15) -> int:
    """Wait until the server has counted the schedule down to `at_most` runs left."""
    deadline = time.monotonic() + within_s
    while True:
        left = await remaining_runs(env, workflow_id)
        assert left is not None
        if left <= at_most:
            return left
        assert time.monotonic() < deadline, f"still {left} runs left after {within_s} s"
        await anyio.sleep(0.2)


async def manual_runs(env: Env, workflow_id: str) -> int:
    """Runs in the schedule's recent actions (describe is current, the visibility list lags)."""
    return len((await env.describe(workflow_id)).info.recent_actions)


def test_max_runs_reaches_temporal_as_a_limit(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON, max_runs=3)
        await env.apply_and_settle()
        state = (await env.describe("job")).schedule.state
        assert (state.limited_actions, state.remaining_actions) == (True, 3)

    run_env(temporal_address, project_name, tmp_path, body)


def test_a_change_of_max_runs_alone_is_an_update_that_restarts_the_count(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON, max_runs=3)
        await env.apply_and_settle()
        env.write("job", cron=CRON, max_runs=7)
        made = await env.plan(detail=True)
        (update,) = made.operations
        assert names(update.changes) == {"max_runs"}
        assert [(c.before, c.after) for c in update.changes] == [("3", "7")]
        result = await env.apply()
        assert outcomes(result)[env.schedule_id("job")] is Outcome.UPDATED
        assert await remaining_runs(env, "job") == 7
        await env.settled()

    run_env(temporal_address, project_name, tmp_path, body)


def test_an_unchanged_tree_writes_nothing_after_the_server_counted_down(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", every="1s", overlap_policy="allow_all", max_runs=3)
        await env.apply_and_settle()
        assert await counted_down_to(env, "job", 1) <= 1
        await env.apply()
        assert env.last_calls["update"] == 0  # from the list alone
        await env.forget_recent_writes()
        verifying = CountingGateway(env.gateway)  # every schedule described: the count seen
        await reconcile_pass(
            env.load(),
            verifying,
            env.plan_options(),
            apply=ApplyOptions(),
            observer=ListAll(verify=True),
        )
        assert (verifying.calls["describe"], verifying.writes) == (1, 0)
        await env.terminate_started("job")

    run_env(temporal_address, project_name, tmp_path, body)


def test_a_used_up_schedule_is_neither_drift_nor_healed(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", every="1s", overlap_policy="allow_all", max_runs=2)
        await env.apply_and_settle()
        assert await counted_down_to(env, "job", 0) == 0
        listed = await env.plan()
        described = await env.plan(detail=True)
        assert not listed.has_changes and not described.has_changes
        await env.apply()
        assert env.last_calls["update"] == 0
        assert await remaining_runs(env, "job") == 0
        await env.terminate_started("job")

    run_env(temporal_address, project_name, tmp_path, body)


def test_a_cron_edit_keeps_the_count_the_server_has(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", every="1s", overlap_policy="allow_all", max_runs=50)
        await env.apply_and_settle()
        await counted_down_to(env, "job", 48)
        await env.handle("job").pause(note="frozen for the test")  # no more firing: a fixed count
        left = await remaining_runs(env, "job")
        assert left is not None and left <= 48

        env.write("job", every="1h", overlap_policy="allow_all", max_runs=50)
        result = await env.apply()
        assert outcomes(result)[env.schedule_id("job")] is Outcome.UPDATED
        assert env.last_calls["describe"] == 1  # the count, read just before the update
        state = (await env.describe("job")).schedule.state
        assert (state.limited_actions, state.remaining_actions, state.paused) == (True, left, True)
        await env.terminate_started("job")

    run_env(temporal_address, project_name, tmp_path, body)


def test_a_used_up_schedule_stays_used_up_through_an_edit(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", every="1s", overlap_policy="allow_all", max_runs=1)
        await env.apply_and_settle()
        await counted_down_to(env, "job", 0)
        env.write("job", every="1h", overlap_policy="allow_all", max_runs=1, note="edited")
        await env.apply()
        assert await remaining_runs(env, "job") == 0
        assert (await env.describe("job")).info.next_action_times == []
        await env.settled()
        await env.terminate_started("job")

    run_env(temporal_address, project_name, tmp_path, body)


def test_trigger_immediately_starts_one_run_on_create_and_none_on_update(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON, trigger_immediately=True)
        await env.apply_and_settle()
        assert len(await env.started_workflows("job", at_least=1)) == 1
        assert await manual_runs(env, "job") == 1

        env.write("job", cron="0 10 * * *", trigger_immediately=True)
        result = await env.apply()
        assert outcomes(result)[env.schedule_id("job")] is Outcome.UPDATED
        await env.settled()
        await anyio.sleep(1)  # a run started by the update would show by now
        assert await manual_runs(env, "job") == 1
        assert len(await env.started_workflows("job")) == 1
        await env.terminate_started("job")

    run_env(temporal_address, project_name, tmp_path, body)


def test_adding_trigger_immediately_to_an_existing_file_writes_nothing(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON)
        await env.apply_and_settle()
        env.write("job", cron=CRON, trigger_immediately=True)
        await env.apply()
        assert env.last_calls["update"] == 0
        assert await manual_runs(env, "job") == 0

    run_env(temporal_address, project_name, tmp_path, body)


def test_a_paused_file_starts_nothing_on_create(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON, trigger_immediately=True, enabled=False)
        await env.apply_and_settle()
        await anyio.sleep(1)
        description: tc.ScheduleDescription = await env.describe("job")
        assert description.schedule.state.paused and description.info.recent_actions == []

    run_env(temporal_address, project_name, tmp_path, body)
