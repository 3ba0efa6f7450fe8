"""Search attributes against a real dev server: what the namespace lacks is an error of that
file alone, what others set on a schedule is kept, and schedules are found by theirs.

The session server registers one custom attribute of each type (conftest.SEARCH_ATTRIBUTES).
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest
import temporalio.api.workflowservice.v1 as workflowservice
from reconcile_helpers import Env, outcomes, run_env
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.converter import encode_search_attributes

from scheduled.reconcile.apply import ApplyOptions, Outcome
from scheduled.reconcile.phases import Explain, ListAll, reconcile_pass

CRON = "0 9 * * *"
pytestmark = pytest.mark.temporal


def _values(attributes: TypedSearchAttributes) -> dict[str, Any]:
    return {pair.key.name: pair.value for pair in attributes}


@pytest.mark.parametrize("field", ["search_attributes", "workflow_search_attributes"])
def test_an_attribute_the_namespace_lacks_fails_that_file_only(
    temporal_address: str, project_name: str, tmp_path: Path, field: str
) -> None:
    async def body(env: Env) -> None:
        env.write("good", cron=CRON, **{field: {"ScheduledTeam": "payments"}})
        env.write("bad", cron=CRON, **{field: {"ScheduledTeam": "x", "NotRegistered": "x"}})
        result = await env.apply()
        done = outcomes(result)
        assert done[env.schedule_id("good")] is Outcome.CREATED
        assert done[env.schedule_id("bad")] is Outcome.FAILED
        (failed,) = [item for item in result.report.results if item.outcome is Outcome.FAILED]
        assert failed.reason.startswith("bad.yaml: the namespace has no search attribute")
        assert f"`NotRegistered` (named in `schedule.{field}`)" in failed.reason
        assert "--name NotRegistered --type Keyword" in failed.reason

    run_env(temporal_address, project_name, tmp_path, body)


def test_an_unknown_attribute_in_an_edit_leaves_the_schedule_as_it_was(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON, note="v1", search_attributes={"ScheduledTier": 1})
        env.write("other", cron=CRON, note="v1")
        await env.apply_and_settle()
        before = await env.describe("job")

        env.write("job", cron=CRON, note="v2", search_attributes={"NotRegistered": 1})
        env.write("other", cron=CRON, note="v2")
        done = outcomes(await env.apply())
        assert done[env.schedule_id("job")] is Outcome.FAILED
        assert done[env.schedule_id("other")] is Outcome.UPDATED  # the rest of the tree applies
        after = await env.describe("job")
        assert after.schedule.state.note == "v1"
        assert after.schedule.spec == before.schedule.spec
        assert _values(after.typed_search_attributes) == {"ScheduledTier": 1}

    run_env(temporal_address, project_name, tmp_path, body)


def test_a_value_of_the_wrong_type_names_the_attribute_and_its_type(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON, search_attributes={"ScheduledTier": "high"})  # text
        result = await env.apply()
        (failed,) = result.report.results
        assert failed.outcome is Outcome.FAILED
        assert failed.reason.startswith(
            "job.yaml: search attribute `ScheduledTier` (in `schedule.search_attributes`) is "
            "of type Int in the namespace"
        )

    run_env(temporal_address, project_name, tmp_path, body)


async def _attributes_become(env: Env, workflow_id: str, want: dict[str, Any]) -> None:
    """Temporal applies an update's search attributes a moment after the update (see
    observed.py): wait until a describe shows `want`, for at most 10 s."""
    with anyio.fail_after(10):
        while True:
            described = await env.describe(workflow_id)
            if _values(described.typed_search_attributes) == want:
                return
            await anyio.sleep(0.05)


async def _set_by_hand(env: Env, workflow_id: str, attributes: TypedSearchAttributes) -> None:
    """Replace a schedule's search attributes as another tool would (same schedule)."""
    described = await env.describe(workflow_id)
    request = workflowservice.UpdateScheduleRequest(
        namespace=env.client.namespace,
        schedule_id=env.schedule_id(workflow_id),
        schedule=described.raw_description.schedule,
        request_id=str(uuid.uuid4()),
    )
    encode_search_attributes(attributes, request.search_attributes)
    await env.client.workflow_service.update_schedule(request)


def test_attributes_someone_else_set_are_kept_and_never_cause_a_write(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON, note="v1", search_attributes={"ScheduledTeam": "payments"})
        await env.apply_and_settle()
        theirs = SearchAttributePair(SearchAttributeKey.for_int("ScheduledTier"), 7)
        ours = SearchAttributePair(SearchAttributeKey.for_keyword("ScheduledTeam"), "payments")
        await _set_by_hand(env, "job", TypedSearchAttributes([ours, theirs]))
        await _attributes_become(env, "job", {"ScheduledTeam": "payments", "ScheduledTier": 7})
        await env.wait_listed(
            lambda listed: any(
                attribute.name == "ScheduledTier"
                for attribute in listed[env.schedule_id("job")].search_attributes
            )
        )
        assert outcomes(await env.apply())[env.schedule_id("job")] is Outcome.UNCHANGED
        assert env.last_calls == Counter({"list": 1})

        env.write("job", cron=CRON, note="v2", search_attributes={"ScheduledTeam": "billing"})
        assert outcomes(await env.apply())[env.schedule_id("job")] is Outcome.UPDATED
        await _attributes_become(env, "job", {"ScheduledTeam": "billing", "ScheduledTier": 7})

    run_env(temporal_address, project_name, tmp_path, body)


def test_an_attribute_changed_by_hand_is_restored(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON, search_attributes={"ScheduledTeam": "payments"})
        await env.apply_and_settle()
        changed = SearchAttributePair(SearchAttributeKey.for_keyword("ScheduledTeam"), "hacked")
        await _set_by_hand(env, "job", TypedSearchAttributes([changed]))
        await _attributes_become(env, "job", {"ScheduledTeam": "hacked"})
        # Described, not listed: list content lags, and has been seen to flip back meanwhile.
        result = await reconcile_pass(
            env.load(),
            env.gateway,
            env.plan_options(),
            apply=ApplyOptions(),
            observer=ListAll(verify=True),
        )
        assert result.report is not None
        (item,) = result.report.results
        assert item.outcome is Outcome.UPDATED
        assert "search attributes in Temporal differ" in item.reason
        await _attributes_become(env, "job", {"ScheduledTeam": "payments"})

    run_env(temporal_address, project_name, tmp_path, body)


def test_schedules_are_found_by_their_search_attributes(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("pay", cron=CRON, search_attributes={"ScheduledTeam": "payments"})
        env.write("bill", cron=CRON, search_attributes={"ScheduledTeam": "billing"})
        await env.apply_and_settle()
        found = await env.gateway.list_schedules(
            env.schedule_id(""), query='ScheduledTeam = "payments"'
        )
        assert [item.schedule_id for item in found] == [env.schedule_id("pay")]

    run_env(temporal_address, project_name, tmp_path, body)


def test_workflow_search_attributes_edited_by_hand_are_drift_a_describe_sees(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON, workflow_search_attributes={"ScheduledTier": 1})
        await env.apply_and_settle()
        described = await env.describe("job")
        request = workflowservice.UpdateScheduleRequest(
            namespace=env.client.namespace,
            schedule_id=env.schedule_id("job"),
            schedule=described.raw_description.schedule,
            request_id=str(uuid.uuid4()),
        )
        fields = request.schedule.action.start_workflow.search_attributes.indexed_fields
        fields["ScheduledTier"].data = b"5"
        await env.client.workflow_service.update_schedule(request)
        verified = await reconcile_pass(
            env.load(),
            env.gateway,
            env.plan_options(),
            observer=ListAll(verify=True),  # the action is only seen by a describe
            explain=Explain.DESCRIBED,
        )
        (operation,) = verified.plan.operations
        assert [(c.name, c.before, c.after) for c in operation.changes] == [
            ("workflow_search_attributes", "ScheduledTier=5", "ScheduledTier=1")
        ]

    run_env(temporal_address, project_name, tmp_path, body)
