"""The JSON Schema's checks as sentences, and the checks the schema alone cannot express."""

from __future__ import annotations

import pytest

from scheduled.format.schema import check_document

GOOD = {"id": "job", "workflow": "W", "task_queue": "q"}


@pytest.mark.parametrize("key", ["shedule", "Schedule", "schedules", "scheudle", "SCHEDULE"])
def test_a_key_one_typo_from_schedule_is_an_error_that_says_so(key: str) -> None:
    (problem,) = check_document({**GOOD, key: {"cron": "0 9 * * *"}})
    assert (problem.path, problem.code, problem.at_key) == (
        (key,),
        "schema.schedule-misspelt",
        True,
    )
    assert "did you mean `schedule`" in problem.message


@pytest.mark.parametrize("key", ["tasks", "schemas", "scale", "sched"])
def test_other_top_level_keys_belong_to_the_workflow_definition(key: str) -> None:
    assert check_document({**GOOD, key: {}}) == []


def test_a_near_miss_beside_a_real_schedule_block_is_left_alone() -> None:
    document = {**GOOD, "schedule": {"cron": "0 9 * * *"}, "schedules": []}
    assert check_document(document) == []
