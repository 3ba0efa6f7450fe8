"""What a started workflow sees, from a real temporalio worker: the file's arguments (several,
one scalar, or none for a workflow that takes none), its workflow id base, its search
attributes and memo; and, over a backfill, no run on a day the file skips.

The tree is applied by scheduled, each schedule is triggered with the SDK, and each workflow
reports what it got as its result. The test imports temporalio directly: the worker is the
subject here, not scheduled's gateway.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
import temporalio.client as tc
from reconcile_helpers import Env, outcomes, run_env
from temporalio import workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from scheduled.devserver import DevServer
from scheduled.reconcile.apply import Outcome

pytestmark = pytest.mark.temporal


def _seen(*args: Any) -> dict[str, Any]:
    """What a workflow reports: its id, arguments, search attributes and memo."""
    info = workflow.info()
    return {
        "workflow_id": info.workflow_id,
        "args": list(args),
        "search_attributes": {
            pair.key.name: pair.value.isoformat()
            if isinstance(pair.value, datetime)
            else pair.value
            for pair in info.typed_search_attributes
            if not pair.key.name.startswith("Temporal")  # the server's own (scheduled by, ...)
        },
        "memo": dict(workflow.memo()),
    }


@workflow.defn(name="SeesSeveral")
class SeesSeveral:
    @workflow.run
    async def run(self, count: int, name: str, options: dict[str, Any]) -> dict[str, Any]:
        return _seen(count, name, options)


@workflow.defn(name="SeesOne")
class SeesOne:
    @workflow.run
    async def run(self, value: int) -> dict[str, Any]:
        return _seen(value)


@workflow.defn(name="SeesNone")
class SeesNone:
    @workflow.run
    async def run(self) -> dict[str, Any]:  # takes no argument: `{}` would not fit
        return _seen()


ATTRIBUTES: dict[str, Any] = {
    "ScheduledTeam": "payments",
    "ScheduledNotes": {"type": "text", "value": "nightly numbers"},
    "ScheduledTier": 2,
    "ScheduledScore": 0.5,
    "ScheduledCritical": True,
    "ScheduledDue": {"type": "datetime", "value": "2026-06-01T07:30:00Z"},
    "ScheduledTags": ["eu", "nightly"],
}
SEEN_ATTRIBUTES = {
    "ScheduledTeam": "payments",
    "ScheduledNotes": "nightly numbers",
    "ScheduledTier": 2,
    "ScheduledScore": 0.5,
    "ScheduledCritical": True,
    "ScheduledDue": datetime(2026, 6, 1, 7, 30, tzinfo=UTC).isoformat(),
    "ScheduledTags": ["eu", "nightly"],
}


async def _run_triggered(env: Env, workflow_id: str) -> dict[str, Any]:
    """Trigger the schedule, wait for the run it starts, and return that run's result."""
    handle = env.handle(workflow_id)
    await handle.trigger()
    with anyio.fail_after(20):
        while True:
            actions = (await handle.describe()).info.recent_actions
            if actions:
                break
            await anyio.sleep(0.05)
    action = actions[-1].action
    assert isinstance(action, tc.ScheduleActionExecutionStartWorkflow)
    result: dict[str, Any] = await env.client.get_workflow_handle(action.workflow_id).result()
    return result


@pytest.fixture(scope="module")
def seen(temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Apply a tree of three files to a worker's task queue; what each run saw, by file id."""
    project = f"worker-{uuid.uuid4().hex[:8]}"
    queue = f"{project}-queue"
    found: dict[str, Any] = {}

    async def body(env: Env) -> None:
        env.write(
            "several",
            workflow="SeesSeveral",
            task_queue=queue,
            cron="0 9 1 1 *",
            args=[3, "three", {"deep": [1, 2]}],
            workflow_id="reports-several",
            workflow_search_attributes=ATTRIBUTES,
            memo={"owner": "team-a", "cost": 3},
        )
        env.write("one", workflow="SeesOne", task_queue=queue, cron="0 9 1 1 *", args=42, memo={})
        env.write("none", workflow="SeesNone", task_queue=queue, cron="0 9 1 1 *")
        result = await env.apply()
        assert set(outcomes(result).values()) == {Outcome.CREATED}
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[SeesSeveral, SeesOne, SeesNone],
            workflow_runner=UnsandboxedWorkflowRunner(),  # plain functions; the test is fast
        ):
            for name in ("several", "one", "none"):
                found[name] = await _run_triggered(env, name)
        found["project"] = project

    run_env(temporal_server.address, project, tmp_path_factory.mktemp("worker"), body)
    return found


def test_a_workflow_gets_each_of_several_arguments(seen: dict[str, Any]) -> None:
    assert seen["several"]["args"] == [3, "three", {"deep": [1, 2]}]


def test_a_scalar_args_is_the_one_argument(seen: dict[str, Any]) -> None:
    assert seen["one"]["args"] == [42]


def test_a_file_without_arguments_starts_a_workflow_that_takes_none(seen: dict[str, Any]) -> None:
    assert seen["none"]["args"] == []


def test_the_workflow_id_starts_with_the_files_base(seen: dict[str, Any]) -> None:
    assert seen["several"]["workflow_id"].startswith("reports-several-")


def test_the_default_workflow_id_base_is_project_and_id(seen: dict[str, Any]) -> None:
    assert seen["one"]["workflow_id"].startswith(f"{seen['project']}-one-")


def test_the_workflow_sees_its_typed_search_attributes(seen: dict[str, Any]) -> None:
    assert seen["several"]["search_attributes"] == SEEN_ATTRIBUTES
    assert seen["one"]["search_attributes"] == {}


def test_the_workflow_sees_the_files_memo(seen: dict[str, Any]) -> None:
    assert seen["several"]["memo"] == {"owner": "team-a", "cost": 3}
    assert seen["one"]["memo"] == {}


def test_a_worker_runs_no_workflow_on_a_skipped_day_of_a_backfill(
    temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """09:00 in Berlin is 08:00 UTC in November; 2026-11-03 is skipped there. The runs the
    worker completes carry their nominal fire time in their workflow id."""
    project = f"worker-{uuid.uuid4().hex[:8]}"
    queue = f"{project}-queue"
    completed: list[str] = []

    async def body(env: Env) -> None:
        env.write(
            "holiday",
            workflow="SeesNone",
            task_queue=queue,
            cron="0 9 * * *",
            timezone="Europe/Berlin",
            skip=["2026-11-03"],
            overlap_policy="allow_all",
        )
        assert set(outcomes(await env.apply()).values()) == {Outcome.CREATED}
        query = f'WorkflowId STARTS_WITH "{project}-holiday-" AND ExecutionStatus = "Completed"'
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[SeesNone],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            await env.handle("holiday").backfill(
                tc.ScheduleBackfill(
                    start_at=datetime(2026, 11, 1, tzinfo=UTC),
                    end_at=datetime(2026, 11, 6, tzinfo=UTC),
                    overlap=tc.ScheduleOverlapPolicy.ALLOW_ALL,
                )
            )
            ids: list[str] = []
            with anyio.fail_after(30):
                while True:  # the scheduler starts them; visibility lags behind their completion
                    actions = (await env.describe("holiday")).info.num_actions
                    ids = [run.id async for run in env.client.list_workflows(query)]
                    if actions >= 4 and len(ids) >= actions:
                        break
                    await anyio.sleep(0.1)
            for workflow_id in ids:
                seen = await env.client.get_workflow_handle(workflow_id).result()
                completed.append(seen["workflow_id"].removeprefix(f"{project}-holiday-"))
            await anyio.sleep(0.5)  # a fifth run, had the skip not held, has started by now
            assert (await env.describe("holiday")).info.num_actions == 4

    run_env(temporal_server.address, project, tmp_path_factory.mktemp("holiday"), body)

    assert sorted(completed) == [f"2026-11-0{day}T08:00:00Z" for day in (1, 2, 4, 5)]
