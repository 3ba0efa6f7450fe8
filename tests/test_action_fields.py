"""action_fields: workflow, task queue, input, memo, timeouts, retry and policies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from file_loading import FULL, codes, load_text, schedule_of
from trees import workflow_yaml

from scheduled.format.loader import LoadOptions
from scheduled.model.desired import DesiredSchedule, OverlapPolicy, RetryPolicy


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
