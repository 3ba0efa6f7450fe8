"""Loading one workflow file for the tests of workflow_file, spec_fields, action_fields, lints."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from trees import write_workflow

from scheduled.format.diagnostics import Diagnostic
from scheduled.format.tree import FoundFile
from scheduled.format.workflow_file import FileResult, LoadOptions, load_file
from scheduled.model.desired import DesiredSchedule

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = LoadOptions(project="proj")


def load_text(
    tmp_path: Path, text: str, options: LoadOptions = OPTIONS, now: datetime = NOW
) -> FileResult:
    """Load this one file, written as workflow.yaml; its FileResult."""
    path = write_workflow(tmp_path, "workflow.yaml", text)
    return load_file(FoundFile("workflow.yaml", path), options, now=now)


def schedule_of(tmp_path: Path, text: str, options: LoadOptions = OPTIONS) -> DesiredSchedule:
    result = load_text(tmp_path, text, options)
    errors = [d.render() for d in result.diagnostics if d.is_error]
    assert result.schedule is not None, errors
    return result.schedule


def codes(result: FileResult) -> list[str]:
    return [diagnostic.code for diagnostic in result.diagnostics]


def warnings(result: FileResult) -> list[Diagnostic]:
    return [diagnostic for diagnostic in result.diagnostics if not diagnostic.is_error]


FULL = """\
id: daily-report
workflow: DailyReport
task_queue: reports
owner: the reporting team        # any other top-level key belongs to the workflow itself
schedule:
  cron: "0 9 * * 1-5"
  timezone: America/New_York
  enabled: false
  jitter: 30s
  overlap_policy: buffer_all
  catchup_window: 10m
  pause_on_failure: true
  start_at: 2026-01-01T00:00:00Z
  end_at: 2027-01-01
  input: {recipients: [sales@example.com], format: pdf, café: ☕}
  execution_timeout: 1h30m
  run_timeout: 1h
  task_timeout: 10s
  retry:
    maximum_attempts: 3
    initial_interval: 1s
    backoff_coefficient: 2
    maximum_interval: 1m
    non_retryable_error_types: [BadInput]
  memo: {team: reporting}
  note: "Weekday sales summary"
"""
