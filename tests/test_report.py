"""Rendering: the fire-time preview, the schedule rows and the plans people read."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from test_plan import calendar, desired, observed, plan

from scheduled.format.diagnostics import Diagnostic, Severity
from scheduled.format.loader import FileResult, LoadResult
from scheduled.model.desired import Spec
from scheduled.reconcile.diff import with_changes
from scheduled.report import render_plan_markdown, upcoming


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
