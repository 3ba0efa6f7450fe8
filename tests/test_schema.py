"""The JSON Schema's checks as sentences, and the checks the schema alone cannot express."""

from __future__ import annotations

import pytest

from scheduled.format.schema import check_document, workflow_schema

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


def test_overlap_allow_is_accepted_as_the_synonym_of_allow_all() -> None:
    assert check_document({**GOOD, "schedule": {"every": "1h", "overlap_policy": "allow"}}) == []


def test_every_overlap_policy_has_an_editor_description() -> None:
    overlap = workflow_schema()["$defs"]["schedule"]["properties"]["overlap_policy"]
    assert len(overlap["enumDescriptions"]) == len(overlap["enum"])
    assert overlap["enum"][-1] == "allow"
    assert "allow_all" in overlap["enumDescriptions"][-1]


def test_an_id_that_yaml_types_as_a_number_is_accepted_by_the_schema_as_editors_see_it() -> None:
    # yaml-language-server reads `id: 0123` as the number 123; scheduled takes its text.
    assert check_document({**GOOD, "id": 123}) == []
    (problem,) = check_document({**GOOD, "id": -1})
    assert problem.code == "schema.range"


def test_the_keys_of_the_seed_platforms_files_validate() -> None:
    document = {
        "id": "hello-scheduler",
        "description": "says hello",
        "tasks": [{"id": "hello", "tool": "echo"}],
        "tools": {"echo": {"kind": "shell"}},
        "schemas": {"input": {"type": "object"}},
        "schedule": {
            "cron": "0,15,30,45 * * * * *",
            "timezone": "UTC",
            "enabled": True,
            "overlap_policy": "allow",
            "jitter": "5m",
        },
    }
    assert check_document(document) == []
