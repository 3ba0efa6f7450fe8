"""Rendering: the fire-time preview, the schedule rows and the plans people read."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from test_plan import calendar, desired, observed, plan

from scheduled.format.diagnostics import Diagnostic, Severity
from scheduled.format.loader import FileResult, LoadResult
from scheduled.model.calendar import Range
from scheduled.model.desired import Spec
from scheduled.reconcile.adopt import WHAT_ADOPTING_LOSES, AdoptionPlan, Candidate, Refusal
from scheduled.reconcile.diff import with_changes
from scheduled.reconcile.export import ExportReport, ExportResult
from scheduled.reconcile.export import Status as ExportStatus
from scheduled.reconcile.plan import FieldChange
from scheduled.report import render_adoption_plan, render_export, render_plan_markdown, upcoming


def test_the_preview_includes_a_fire_exactly_at_start_at() -> None:
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    spec = Spec(calendars=(calendar("0 9 * * *"),), start_at=start)
    assert upcoming(spec, datetime(2027, 1, 1, tzinfo=UTC), count=2) == [
        start,
        datetime(2027, 3, 2, 9, 0, tzinfo=UTC),
    ]


def test_the_preview_starts_now_once_start_at_is_past() -> None:
    spec = Spec(calendars=(calendar("0 9 * * *"),), start_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert upcoming(spec, datetime(2027, 1, 1, 12, tzinfo=UTC), count=1) == [
        datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    ]


def test_the_preview_leaves_out_the_skipped_days() -> None:
    christmas = replace(calendar("* * 25 12 *"), second=(Range(0, 59),))
    spec = Spec(calendars=(calendar("0 9 * * *"),), skip=(christmas,))
    assert upcoming(spec, datetime(2027, 12, 24, 12, tzinfo=UTC), count=2) == [
        datetime(2027, 12, 26, 9, 0, tzinfo=UTC),
        datetime(2027, 12, 27, 9, 0, tzinfo=UTC),
    ]


GOLDEN = Path(__file__).parent / "golden"


def markdown_of_a_plan_with_every_kind() -> str:
    now = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    edited, before = desired("edited", cron="0 10 * * *", note="two"), desired("edited", note="one")
    gone = desired("gone")
    made = with_changes(
        plan(
            [desired("new"), edited, desired("same")],
            [observed(before), observed(desired("same")), observed(gone)],
            revision="abc123def456",
            commit_time=1,
        )
    )
    broken = Diagnostic(
        file="team/broken.yaml",
        line=5,
        column=12,
        severity=Severity.ERROR,
        code="cron.invalid",
        message="cron '0 25 * * *': hour 25 is out of range 0-23",
    )
    load = LoadResult(
        root=Path("tree"), files=(FileResult(relative="team/broken.yaml", diagnostics=(broken,)),)
    )
    return render_plan_markdown(made, load, now, path_of=lambda name: f"tree/{name}")


def test_the_markdown_plan_is_the_pull_request_comment_people_read() -> None:
    # To accept a deliberate change: SCHEDULED_UPDATE_GOLDEN=1 pytest tests/test_report.py
    text = markdown_of_a_plan_with_every_kind()
    golden = GOLDEN / "plan.md"
    if os.environ.get("SCHEDULED_UPDATE_GOLDEN"):
        golden.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == golden.read_text(encoding="utf-8")


def test_markdown_escapes_what_a_file_could_smuggle_into_a_comment() -> None:
    load = LoadResult(
        root=Path("tree"),
        files=(
            FileResult(
                relative="x.yaml",
                diagnostics=(
                    Diagnostic(
                        file="x.yaml",
                        line=1,
                        column=1,
                        severity=Severity.ERROR,
                        code="c",
                        message="<img src=x onerror=alert(1)>",
                    ),
                ),
            ),
        ),
    )
    text = render_plan_markdown(plan([], []), load, datetime(2027, 1, 1, tzinfo=UTC))
    assert "<img" not in text and "&lt;img" in text


def test_an_export_report_marks_files_adopt_cannot_take_over_in_place() -> None:
    report = ExportReport(
        results=(
            ExportResult(
                schedule_id="nightly",
                status=ExportStatus.WRITTEN,
                file="nightly.yaml",
                in_place=False,
            ),
            ExportResult(schedule_id="schedule-foo-a", status=ExportStatus.WRITTEN, file="a.yaml"),
            ExportResult(schedule_id="tagged", status=ExportStatus.REFUSED, reasons=("why",)),
        )
    )
    lines = render_export(report, path_of=lambda relative: f"out/{relative}")
    assert lines[:4] == [
        "! written   nightly  (out/nightly.yaml)",
        "+ written   schedule-foo-a  (out/a.yaml)",
        "x refused   tagged",
        "      why",
    ]
    assert lines[4] == (
        "export: 2 written, 0 already in the tree, 0 managed by a project, 1 refused, 0 skipped"
    )
    assert lines[5].startswith("warning: 1 written file(s) name a schedule whose id is not")


def test_an_adoption_plan_shows_changes_losses_and_refusals() -> None:
    schedule = desired("job")
    plan_ = AdoptionPlan(
        project="foo",
        candidates=(
            Candidate(
                schedule=schedule,
                current=observed(schedule, owner=None),
                changes=(FieldChange(name="workflow_id", before="hand", after="foo-job"),),
                lost=("search attributes (Team)",),
            ),
        ),
        refused=(
            Refusal(
                schedule_id="schedule-foo-x", source="x.yaml", reason="it belongs to project 'bar'"
            ),
        ),
        managed=2,
        unmatched=("schedule-foo-stray",),
    )
    assert render_adoption_plan(plan_, path_of=str) == [
        "~ adopt     schedule-foo-job  (job.yaml)",
        "      workflow_id: hand → foo-job",
        "      lost: search attributes (Team)",
        "x refused   schedule-foo-x  (x.yaml): it belongs to project 'bar'",
        "? no file   schedule-foo-stray: unmarked, and no file has its id (`scheduled export` "
        "writes one)",
        "adopt --all: 1 to adopt, 1 refused, 2 already managed by project foo, 1 without a file",
        WHAT_ADOPTING_LOSES,
    ]
