"""workflow_file.load_file: one document to a FileResult, its id, its schedule, its problems."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from file_loading import FULL, codes, load_text, schedule_of, warnings
from trees import workflow_yaml

from scheduled.format.workflow_file import LoadOptions
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
    assert (schedule.action.args, schedule.action.memo_json) == ([], "{}")  # no argument
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


# -- YAML 1.2: what editors read is what scheduled reads ------------------------------------------


@pytest.mark.parametrize(
    "written", ["off", "no", "on", "yes", "0123", "2024", "010", "0o17", "1.0"]
)
def test_an_id_is_the_text_as_written_whatever_yaml_types_it(tmp_path: Path, written: str) -> None:
    result = load_text(tmp_path, f"id: {written}\nworkflow: Job\ntask_queue: jobs\n")
    assert (result.workflow_id, result.diagnostics) == (written, ())


def test_an_id_of_the_form_1_30_stays_text_and_is_judged_as_a_name(tmp_path: Path) -> None:
    # YAML 1.1 read this as the number 90 (sexagesimal); as text, it is a name with a colon.
    (error,) = load_text(tmp_path, "id: 1:30\n").diagnostics
    assert (error.code, error.line, error.column) == ("schema.pattern", 1, 5)
    assert "`id` '1:30' may use only lowercase letters" in error.message


@pytest.mark.parametrize(("written", "meant"), [("yes", "true"), ("no", "false"), ("on", "true")])
def test_a_yaml_1_1_boolean_word_where_a_boolean_is_expected_says_to_write_true_or_false(
    tmp_path: Path, written: str, meant: str
) -> None:
    text = workflow_yaml("words", every="1h") + f"  enabled: {written}\n"
    (error,) = load_text(tmp_path, text).diagnostics
    assert error.render() == (
        f"workflow.yaml:6:12: error: `schedule.enabled` must be true or false, not the text "
        f"{written!r}; workflow files are read as YAML 1.2, where {written!r} is text, not a "
        f"boolean: write true or false (here probably {meant}) (at schedule.enabled) [schema.type]"
    )


def test_a_quoted_boolean_says_to_drop_the_quotes(tmp_path: Path) -> None:
    text = workflow_yaml("quoted", every="1h") + '  pause_on_failure: "true"\n'
    (error,) = load_text(tmp_path, text).diagnostics
    assert error.message.endswith("; write true without quotes (quoted, it is text)")


@pytest.mark.parametrize("written", ["true", "True", "TRUE", "false", "False", "FALSE"])
def test_the_yaml_1_2_booleans_are_booleans(tmp_path: Path, written: str) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("flag", every="1h") + f"  enabled: {written}\n")
    assert schedule.enabled is (written.lower() == "true")


def test_input_values_are_read_as_yaml_1_2_too(tmp_path: Path) -> None:
    text = workflow_yaml("payload", every="1h") + "  input: {flag: no, mode: 010, at: 1:30}\n"
    assert schedule_of(tmp_path, text).action.input == {"flag": "no", "mode": 10, "at": "1:30"}


# -- YAML that is no workflow file ------------------------------------------------------------------


def test_a_mapping_with_a_schedule_block_but_no_id_is_an_error_not_a_stranger(
    tmp_path: Path,
) -> None:
    result = load_text(tmp_path, "workflow: Job\ntask_queue: q\nschedule:\n  every: 1h\n")
    (error,) = result.diagnostics
    assert (error.code, error.is_error, result.is_workflow) == ("schema.missing-key", True, True)


def test_a_mapping_with_a_misspelt_schedule_block_but_no_id_is_an_error(tmp_path: Path) -> None:
    result = load_text(tmp_path, "shedule:\n  every: 1h\n")
    assert sorted(codes(result)) == ["schema.missing-key", "schema.schedule-misspelt"]


def test_yaml_without_an_id_is_not_a_workflow_file(tmp_path: Path) -> None:
    result = load_text(tmp_path, "# site\nsite_name: docs\nnav: [index.md]\n")
    (warning,) = result.diagnostics
    assert warning.render() == (
        "workflow.yaml:2:1: warning: not a workflow file: it has no top-level `id`; skipped "
        "(add an `id` if it is meant to be one, or add it to `exclude` to silence this) "
        "[file.not-a-workflow]"
    )
    assert (result.valid, result.is_workflow) == (True, False)


def test_a_stream_of_documents_without_ids_is_not_a_workflow_file(tmp_path: Path) -> None:
    result = load_text(tmp_path, "kind: A\n---\nkind: B\n")
    assert (codes(result), result.valid) == (["file.not-a-workflow"], True)


def test_a_stream_in_which_one_document_has_an_id_is_the_multiple_document_error(
    tmp_path: Path,
) -> None:
    result = load_text(tmp_path, "kind: A\n---\nid: b\n")
    assert (codes(result), result.valid) == (["yaml.multiple-documents"], False)


def test_a_stream_that_yaml_cannot_read_is_an_error(tmp_path: Path) -> None:
    result = load_text(tmp_path, "kind: A\n---\nkind: [B\n")
    assert (codes(result), result.valid) == (["yaml.multiple-documents"], False)


def test_broken_yaml_without_an_id_is_an_error_since_it_may_be_a_workflow(tmp_path: Path) -> None:
    result = load_text(tmp_path, "site_name: [docs\n")
    assert (codes(result), result.valid) == (["yaml.syntax"], False)


def test_with_ids_required_yaml_without_an_id_is_an_error(tmp_path: Path) -> None:
    strict = LoadOptions(project="proj", ids_required=True)
    result = load_text(tmp_path, "site_name: docs\n", strict)
    assert (codes(result), result.valid, result.is_workflow) == (
        ["schema.missing-key"],
        False,
        True,
    )
