"""workflow_file.load_file: one document to a FileResult, its id, its schedule, its problems."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from file_loading import FULL, codes, load_text, schedule_of, warnings
from trees import workflow_yaml

from scheduled.model.desired import DesiredSchedule, OverlapPolicy


@pytest.fixture
def full(tmp_path: Path) -> DesiredSchedule:
    return schedule_of(tmp_path, FULL)


def test_the_id_names_the_schedule_and_the_workflows_it_starts(full: DesiredSchedule) -> None:
    assert full.workflow_id == "daily-report"
    assert full.schedule_id == "schedule-proj-daily-report"
    assert full.action.workflow_id == "proj-daily-report"
    assert full.source == "workflow.yaml"


def test_timezone_enabled_and_note_are_taken_as_written(full: DesiredSchedule) -> None:
    assert full.spec.timezone == "America/New_York"
    assert full.enabled is False
    assert full.paused is True
    assert full.note == "Weekday sales summary"


def test_a_minimal_schedule_gets_the_documented_defaults(tmp_path: Path) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("minimal", every="15m"))
    assert schedule.spec.timezone == "UTC"
    assert schedule.spec.jitter == timedelta(0)
    assert (schedule.spec.start_at, schedule.spec.end_at) == (None, None)
    assert schedule.enabled is True
    assert schedule.note == ""
    assert schedule.policies.overlap is OverlapPolicy.SKIP
    assert schedule.policies.catchup_window is None
    assert schedule.policies.pause_on_failure is False
    assert (schedule.action.input_json, schedule.action.memo_json) == ("{}", "{}")
    assert schedule.action.retry is None
    assert schedule.action.execution_timeout is None


def test_a_file_without_a_schedule_block_is_valid_and_has_no_schedule(tmp_path: Path) -> None:
    result = load_text(tmp_path, "id: ad-hoc\ndescription: run by hand\n")
    assert (result.valid, result.schedule, result.workflow_id) == (True, None, "ad-hoc")
    assert result.diagnostics == ()


def test_keys_outside_the_schedule_block_are_the_workflows_own(tmp_path: Path) -> None:
    text = workflow_yaml("own-keys", every="1h") + "steps:\n  - run: make\nversion: 3\n"
    assert load_text(tmp_path, text).diagnostics == ()


def test_every_problem_of_a_file_is_reported_not_just_the_first(tmp_path: Path) -> None:
    text = (
        "id: many-problems\nworkflow: Job\ntask_queue: jobs\nschedule:\n"
        "  cron: '0 25 * * *'\n  timezone: Mars/Olympus\n  jiter: 30s\n"
        "  overlap_policy: never\n  retry: {maximum_attempts: -1}\n"
    )
    result = load_text(tmp_path, text)
    assert sorted(codes(result)) == [
        "cron.invalid",
        "schedule.timezone",
        "schema.enum",
        "schema.range",
        "schema.unknown-key",
    ]
    assert [d.line for d in result.diagnostics] == sorted(d.line for d in result.diagnostics)


def test_warnings_are_located_at_the_value_they_are_about(tmp_path: Path) -> None:
    text = workflow_yaml("where", cron=["17 9 * * *", "0 9 1 * MON"], jitter="1m")
    (warning,) = warnings(load_text(tmp_path, text))
    assert (warning.line, warning.column, warning.path) == (5, 25, "schedule.cron[1]")


def test_a_file_yaml_cannot_read_still_names_its_id(tmp_path: Path) -> None:
    result = load_text(tmp_path, 'id: "nightly" # the report\nschedule: [unclosed\n')
    assert (result.workflow_id, result.id_position, result.schedule) == ("nightly", (1, 5), None)


@pytest.mark.parametrize(
    "text",
    ["schedule: [unclosed\n", "id: a\nid: b\n[\n", "meta:\n  id: nested\n[\n", "id:\n[\n"],
    ids=["no id line", "two id lines", "not top level", "empty"],
)
def test_a_file_yaml_cannot_read_names_no_id_unless_one_line_says_it(
    tmp_path: Path, text: str
) -> None:
    assert load_text(tmp_path, text).workflow_id is None
