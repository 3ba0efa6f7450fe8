"""action_fields: workflow, task queue, arguments, workflow id, memo, timeouts, retry, summary,
details, priority and policies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from file_loading import FULL, codes, load_text, schedule_of
from trees import workflow_yaml

from scheduled.format.loader import LoadOptions
from scheduled.model.desired import DesiredSchedule, OverlapPolicy, Priority, RetryPolicy


@pytest.fixture
def full(tmp_path: Path) -> DesiredSchedule:
    return schedule_of(tmp_path, FULL)


def test_workflow_and_task_queue_become_the_action(full: DesiredSchedule) -> None:
    assert (full.action.workflow_type, full.action.task_queue) == ("DailyReport", "reports")


def test_durations_become_timedeltas(full: DesiredSchedule) -> None:
    assert full.spec.jitter == timedelta(seconds=30)
    assert full.policies.catchup_window == timedelta(minutes=10)
    assert full.action.execution_timeout == timedelta(hours=1, minutes=30)
    assert full.action.run_timeout == timedelta(hours=1)
    assert full.action.task_timeout == timedelta(seconds=10)


def test_policies_are_taken_as_written(full: DesiredSchedule) -> None:
    assert full.policies.overlap is OverlapPolicy.BUFFER_ALL
    assert full.policies.pause_on_failure is True


def test_input_and_memo_are_held_as_canonical_json(full: DesiredSchedule) -> None:
    assert full.action.args_json == (
        '[{"café":"☕","format":"pdf","recipients":["sales@example.com"]}]'
    )
    assert full.action.input == {"recipients": ["sales@example.com"], "format": "pdf", "café": "☕"}
    assert full.action.memo == {"team": "reporting"}


def test_retry_becomes_a_retry_policy(full: DesiredSchedule) -> None:
    assert full.action.retry == RetryPolicy(
        maximum_attempts=3,
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        non_retryable_error_types=("BadInput",),
    )


def test_workflow_and_task_queue_default_from_the_options(tmp_path: Path) -> None:
    options = LoadOptions(project="proj", default_workflow="Generic", default_task_queue="main")
    text = workflow_yaml("defaulted", workflow=None, task_queue=None, every="1h")
    schedule = schedule_of(tmp_path, text, options)
    assert (schedule.action.workflow_type, schedule.action.task_queue) == ("Generic", "main")


def test_the_file_wins_over_the_defaults(tmp_path: Path) -> None:
    options = LoadOptions(project="proj", default_workflow="Generic", default_task_queue="main")
    schedule = schedule_of(tmp_path, workflow_yaml("own", every="1h"), options)
    assert (schedule.action.workflow_type, schedule.action.task_queue) == ("Job", "jobs")


def test_without_defaults_both_missing_names_are_reported(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("bare", workflow=None, task_queue=None, every="1h"))
    assert codes(result) == ["workflow.no-task-queue", "workflow.no-type"]
    assert result.schedule is None


def test_the_project_is_part_of_every_id(tmp_path: Path) -> None:
    schedule = schedule_of(
        tmp_path, workflow_yaml("daily", every="1h"), LoadOptions(project="shop")
    )
    assert (schedule.schedule_id, schedule.action.workflow_id) == (
        "schedule-shop-daily",
        "shop-daily",
    )


def test_overlap_allow_is_allow_all_down_to_the_fingerprint(tmp_path: Path) -> None:
    allow = schedule_of(tmp_path, workflow_yaml("o", every="1h", overlap_policy="allow"))
    allow_all = schedule_of(tmp_path, workflow_yaml("o", every="1h", overlap_policy="allow_all"))
    assert allow.policies.overlap is OverlapPolicy.ALLOW_ALL
    assert allow.fingerprint == allow_all.fingerprint


@pytest.mark.parametrize(
    ("field", "written", "value"),
    [
        ("execution_timeout", "2h45m30s", timedelta(hours=2, minutes=45, seconds=30)),
        ("run_timeout", "1.5h", timedelta(minutes=90)),
        ("task_timeout", "1500ms", timedelta(seconds=1.5)),
        ("catchup_window", "10.5s", timedelta(seconds=10.5)),
    ],
)
def test_durations_of_the_action_and_policies_take_go_forms_and_fractions(
    tmp_path: Path, field: str, written: str, value: timedelta
) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("go", every="1h", **{field: written}))
    found = schedule.policies.catchup_window if field == "catchup_window" else None
    assert (found or getattr(schedule.action, field)) == value


def test_retry_intervals_take_fractions_of_a_second(tmp_path: Path) -> None:
    retry = {"initial_interval": "500ms", "maximum_interval": "2.5s"}
    schedule = schedule_of(tmp_path, workflow_yaml("retry", every="1h", retry=retry))
    assert schedule.action.retry is not None
    assert (schedule.action.retry.initial_interval, schedule.action.retry.maximum_interval) == (
        timedelta(milliseconds=500),
        timedelta(milliseconds=2500),
    )


# -- arguments, workflow id, UI metadata, priority ----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "args"),
    [
        ({"args": [1, "two", {"three": 3}]}, [1, "two", {"three": 3}]),
        ({"args": 42}, [42]),  # a value that is no list is the one argument
        ({"args": [[1, 2]]}, [[1, 2]]),  # one list argument
        ({"args": []}, []),
        ({"input": {"a": 1}}, [{"a": 1}]),
        ({}, []),  # neither: no argument at all (not `{}`)
    ],
    ids=["several", "scalar", "one-list", "empty", "input", "neither"],
)
def test_the_arguments_are_args_or_input_or_none(
    tmp_path: Path, fields: dict[str, Any], args: list[Any]
) -> None:
    assert schedule_of(tmp_path, workflow_yaml("a", every="1h", **fields)).action.args == args


def test_args_and_input_together_are_an_error_at_args(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("a", every="1h", input={"a": 1}, args=[1]))
    (error,) = [d for d in result.diagnostics if d.is_error]
    assert (error.code, error.line, error.column) == ("schedule.args-and-input", 7, 9)
    assert "keep one" in error.message
    assert result.schedule is None


def test_an_empty_args_is_an_error_that_says_how_to_write_none(tmp_path: Path) -> None:
    text = "id: a\nworkflow: W\ntask_queue: q\nschedule:\n  every: 1h\n  args:\n"
    result = load_text(tmp_path, text)
    assert codes(result) == ["schema.type"]
    assert result.schedule is None


def test_one_argument_hashes_alike_from_input_and_from_args(tmp_path: Path) -> None:
    by_input = schedule_of(tmp_path, workflow_yaml("a", every="1h", input={"a": 1}))
    by_args = schedule_of(tmp_path, workflow_yaml("a", every="1h", args=[{"a": 1}]))
    assert by_input.fingerprint == by_args.fingerprint


def test_the_workflow_id_base_is_the_files_or_project_and_id(tmp_path: Path) -> None:
    given = schedule_of(tmp_path, workflow_yaml("a", every="1h", workflow_id="nightly-report"))
    assert given.action.workflow_id == "nightly-report"
    assert schedule_of(tmp_path, workflow_yaml("a", every="1h")).action.workflow_id == "proj-a"


def test_summary_and_details_are_taken_as_written(tmp_path: Path) -> None:
    text = workflow_yaml("a", every="1h", summary="Nightly", details="Runs **all** reports.")
    action = schedule_of(tmp_path, text).action
    assert (action.summary, action.details) == ("Nightly", "Runs **all** reports.")


def test_priority_is_held_as_temporal_gives_it_back(tmp_path: Path) -> None:
    priority = {"priority_key": 2, "fairness_key": "tenant-a", "fairness_weight": 0.1}
    action = schedule_of(tmp_path, workflow_yaml("a", every="1h", priority=priority)).action
    assert action.priority == Priority(priority_key=2, fairness_key="tenant-a", fairness_weight=0.1)


def test_a_priority_key_written_as_2_0_is_the_whole_number_the_sdk_takes(tmp_path: Path) -> None:
    text = workflow_yaml("a", every="1h", priority={"priority_key": 2.0})
    key = schedule_of(tmp_path, text).action.priority.priority_key  # type: ignore[union-attr]
    assert (key, type(key)) == (2, int)


def test_a_fairness_weight_that_is_no_finite_number_is_an_error_at_its_place(
    tmp_path: Path,
) -> None:
    text = workflow_yaml("a", every="1h") + "  priority: {fairness_weight: .nan}\n"
    result = load_text(tmp_path, text)
    (error,) = [diagnostic for diagnostic in result.diagnostics if diagnostic.is_error]
    assert (error.code, error.path, error.line) == (
        "schema.not-finite",
        "schedule.priority.fairness_weight",
        6,
    )
    assert "write a finite number" in error.message


def test_an_empty_priority_is_no_priority(tmp_path: Path) -> None:
    assert (
        schedule_of(tmp_path, workflow_yaml("a", every="1h", priority={})).action.priority is None
    )


@pytest.mark.parametrize(
    "priority",
    [{"priority_key": 0}, {"fairness_weight": 0}, {"fairness_key": ""}, {"weight": 1}],
    ids=["key-zero", "weight-zero", "empty-fairness-key", "unknown-key"],
)
def test_a_bad_priority_is_a_schema_error(tmp_path: Path, priority: dict[str, Any]) -> None:
    result = load_text(tmp_path, workflow_yaml("a", every="1h", priority=priority))
    assert result.schedule is None
    assert all(code.startswith("schema.") for code in codes(result)), codes(result)
