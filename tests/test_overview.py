"""The overview: /status and the last pass's schedules in words, input values reduced to shapes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from file_loading import schedule_of
from test_plan import PROJECT, desired, observed

from scheduled.daemon.overview import Overview, Snapshot, overview, shape_of
from scheduled.daemon.status_page import render
from scheduled.model.desired import DesiredSchedule, canonical_json, with_fingerprint
from scheduled.model.observed import RecentRun
from scheduled.reconcile.plan import PassContext

NOW = datetime(2026, 1, 14, 10, 20, tzinfo=UTC)  # a Wednesday
SECRET = "hunter2-do-not-show"


def with_input(schedule: DesiredSchedule, value: dict[str, Any]) -> DesiredSchedule:
    action = replace(schedule.action, args_json=canonical_json([value]))
    return with_fingerprint(replace(schedule, action=action))


def status(**fields: Any) -> dict[str, Any]:
    """/status as `DaemonStatus.to_json` writes it."""
    return {
        "ready": True,
        "not_ready_reason": None,
        "temporal_up": True,
        "activity": "watching",
        "revision": "abc123",
        "watcher_mode": "inotify",
        "invalid_files": {},
        "recent_passes": [],
        "uptime_s": 75.0,
        **fields,
    }


def page(snapshot: Snapshot | None, **status_fields: Any) -> Overview:
    return overview(status(**status_fields), snapshot, project=PROJECT, root="/srv/tree", now=NOW)


def snapshot(
    *pairs: tuple[DesiredSchedule | None, Any], invalid: frozenset[str] = frozenset()
) -> Snapshot:
    return Snapshot(
        context=PassContext(project=PROJECT),
        observed=tuple(seen for _, seen in pairs if seen is not None),
        desired=tuple(wanted for wanted, _ in pairs if wanted is not None),
        invalid_files=invalid,
    )


def test_input_values_are_reduced_to_their_shape() -> None:
    assert shape_of({"a": 1, "b": 2, "c": 3}) == "object with 3 keys"
    assert shape_of({"token": SECRET}) == "object with 1 key"
    assert shape_of([1, 2]) == "list of 2"
    assert shape_of("twelve chars") == "string, 12 chars"
    assert (shape_of(True), shape_of(1.5), shape_of(None)) == ("boolean", "number", "null")


def test_no_input_value_reaches_the_overview_or_the_page() -> None:
    secret_keeper = with_input(desired("deploy"), {"token": SECRET, "region": "eu", "n": [1, 2]})
    made = page(snapshot((secret_keeper, observed(secret_keeper))))
    assert made.schedules[0].input_shape == "object with 3 keys"
    assert SECRET not in repr(made)
    html = render(made)
    assert "object with 3 keys" in html
    assert SECRET not in html and "region" not in html and "eu<" not in html


def test_a_schedule_temporal_holds_as_written_is_in_sync() -> None:
    nightly = desired("nightly", cron="0 3 * * *")
    (line,) = page(snapshot((nightly, observed(nightly)))).schedules
    assert (line.workflow_id, line.source, line.in_sync, line.sync) == (
        "nightly",
        "nightly.yaml",
        True,
        "in sync",
    )
    assert (line.paused, line.when, line.timezone) == ("no", "at 03:00", "UTC")
    assert line.input_shape == ""  # no input in the file


def test_an_edit_in_temporal_is_out_of_sync_and_says_why() -> None:
    nightly = desired("nightly", note="from the file")
    (line,) = page(snapshot((nightly, observed(nightly, note="typed in the UI")))).schedules
    assert line.in_sync is False
    assert line.sync == "out of sync: the note in Temporal differs"
    assert line.note == "typed in the UI"


def test_a_schedule_whose_file_is_invalid_is_unknown_and_kept() -> None:
    broken = desired("broken")
    (line,) = page(snapshot((None, observed(broken)), invalid=frozenset({"broken.yaml"}))).schedules
    assert line.in_sync is None
    assert line.sync == "unknown: its file is invalid, the schedule is kept as it is"
    assert line.source == "broken.yaml" and line.input_shape == ""


def test_a_schedule_not_in_temporal_yet_is_listed_out_of_sync() -> None:
    new = desired("new")
    (line,) = page(snapshot((new, None))).schedules
    assert (line.workflow_id, line.in_sync, line.next_run) == ("new", False, "")
    assert line.sync == "not in Temporal as this project's: see the last passes"
    ended = desired("ended", end_at=NOW - timedelta(days=1))
    assert page(snapshot((ended, None))).schedules[0].sync == "not created: end_at is in the past"


def test_a_schedule_not_in_temporal_yet_says_its_exclusions_too(tmp_path: Path) -> None:
    text = "id: new\nworkflow: W\ntask_queue: q\nschedule:\n  cron: '0 9 * * *'\n"
    new = schedule_of(tmp_path, text + "  skip: [2026-12-25]\n")
    (line,) = page(snapshot((new, None))).schedules
    assert line.when.endswith("; skip 2026-12-25")


def test_an_operator_pause_is_shown_and_the_paused_schedule_left_out_of_the_week() -> None:
    held, running = desired("held"), desired("running", cron="0 9 * * *")
    made = page(snapshot((held, observed(held, paused=True)), (running, observed(running))))
    by_id = {line.workflow_id: line for line in made.schedules}
    assert by_id["held"].paused == "by operator" and by_id["held"].next_run == ""
    assert made.week.busiest == 1
    assert {name for day in made.week.cells for cell in day for name in cell} == {"running"}


def test_times_are_in_utc_with_the_next_run_computed_until_temporal_lists_one() -> None:
    berlin = desired("berlin")
    berlin = with_fingerprint(replace(berlin, spec=replace(berlin.spec, timezone="Europe/Berlin")))
    run = RecentRun(
        scheduled_at=datetime(2026, 1, 14, 9, 0, tzinfo=UTC),
        started_at=None,
        workflow_id="foo-berlin-2026-01-14T09:00:00Z",
        status="failed",
    )
    seen = replace(observed(berlin), recent_runs=(run,))  # just written: no next runs listed
    (line,) = page(snapshot((berlin, seen))).schedules
    # 09:00 in Berlin is 08:00 UTC; today's is past, so tomorrow's.
    assert (line.next_run, line.next_in) == ("2026-01-15 08:00:00", "in 21 h 40 min")
    assert (line.last_run, line.last_status) == ("2026-01-14 09:00:00", "failed")
    listed = replace(seen, next_runs=(NOW - timedelta(minutes=1), NOW + timedelta(minutes=5)))
    assert page(snapshot((berlin, listed))).schedules[0].next_in == "in 5 min"  # past skipped


def test_the_status_is_carried_over_and_passes_are_newest_first() -> None:
    passes = [
        {
            "kind": "full",
            "finished_at": "2026-01-14T10:00:00+00:00",
            "duration_s": 0.25,
            "files": 3,
            "converged": True,
            "counts": {"created": 3},
            "failures": [],
        },
        {"finished_at": "2026-01-14T10:05:00+00:00", "error": "Temporal said no"},
    ]
    made = page(
        None,
        ready=False,
        not_ready_reason="last pass failed: Temporal said no",
        recent_passes=passes,
        invalid_files={"b.yaml": ["b.yaml:3:7: error: bad [x]"]},
    )
    assert (made.ready, made.not_ready_reason, made.known) == (
        False,
        "last pass failed: Temporal said no",
        False,
    )
    assert [entry.kind for entry in made.passes] == ["failed", "full"]
    assert made.passes[0].problems == ("Temporal said no",)
    assert (made.passes[1].counts, made.passes[1].duration) == ("3 created", "250 ms")
    assert made.invalid_files == (("b.yaml", ("b.yaml:3:7: error: bad [x]",)),)
    assert made.uptime == "1 min 15 s"


def test_several_arguments_are_shown_as_their_shapes() -> None:
    schedule = desired("multi")
    action = replace(schedule.action, args_json=canonical_json([SECRET, {"a": 1}, [1, 2]]))
    several = with_fingerprint(replace(schedule, action=action))
    (line,) = page(snapshot((several, observed(several)))).schedules
    assert line.input_shape == "3 arguments: string, 19 chars; object with 1 key; list of 2"
    assert SECRET not in repr(line)
