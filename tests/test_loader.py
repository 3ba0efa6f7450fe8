"""load_tree: every field of the format into a DesiredSchedule, every cron form, every warning."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from trees import workflow_yaml, write_workflow

from scheduled.format.diagnostics import Diagnostic
from scheduled.format.loader import (
    FileCache,
    FileResult,
    LoadOptions,
    LoadResult,
    derive_project_name,
    load_tree,
)
from scheduled.model.calendar import Calendar, Interval, Range
from scheduled.model.desired import DesiredSchedule, OverlapPolicy, RetryPolicy

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = LoadOptions(project="proj")
EXAMPLES = Path(__file__).resolve().parent.parent / "config" / "examples" / "workflows"

ALL = Range(0, 59)
EVERY_HOUR = (Range(0, 23),)
EVERY_DAY = (Range(1, 31),)
EVERY_MONTH = (Range(1, 12),)
EVERY_WEEKDAY = (Range(0, 6),)


def load_text(
    tmp_path: Path, text: str, options: LoadOptions = OPTIONS, now: datetime = NOW
) -> FileResult:
    """Load a tree holding just this one file; its FileResult."""
    write_workflow(tmp_path, "workflow.yaml", text)
    (result,) = load_tree(tmp_path, options, now=now).files
    return result


def schedule_of(tmp_path: Path, text: str, options: LoadOptions = OPTIONS) -> DesiredSchedule:
    result = load_text(tmp_path, text, options)
    errors = [d.render() for d in result.diagnostics if d.is_error]
    assert result.schedule is not None, errors
    return result.schedule


def codes(result: FileResult) -> list[str]:
    return [diagnostic.code for diagnostic in result.diagnostics]


def warnings(result: FileResult) -> list[Diagnostic]:
    return [diagnostic for diagnostic in result.diagnostics if not diagnostic.is_error]


# -- every field --------------------------------------------------------------------------------

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


@pytest.fixture
def full(tmp_path: Path) -> DesiredSchedule:
    return schedule_of(tmp_path, FULL)


def test_the_id_names_the_schedule_and_the_workflows_it_starts(full: DesiredSchedule) -> None:
    assert full.workflow_id == "daily-report"
    assert full.schedule_id == "schedule-proj-daily-report"
    assert full.action.workflow_id == "proj-daily-report"
    assert full.source == "workflow.yaml"


def test_workflow_and_task_queue_become_the_action(full: DesiredSchedule) -> None:
    assert (full.action.workflow_type, full.action.task_queue) == ("DailyReport", "reports")


def test_cron_becomes_a_calendar_that_carries_the_cron_text(full: DesiredSchedule) -> None:
    assert full.spec.calendars == (
        Calendar(hour=(Range(9),), day_of_week=(Range(1, 5),), comment="0 9 * * 1-5"),
    )
    assert full.spec.cron_text == ("0 9 * * 1-5",)
    assert full.spec.intervals == ()


def test_timezone_enabled_and_note_are_taken_as_written(full: DesiredSchedule) -> None:
    assert full.spec.timezone == "America/New_York"
    assert full.enabled is False
    assert full.paused is True
    assert full.note == "Weekday sales summary"


def test_durations_become_timedeltas(full: DesiredSchedule) -> None:
    assert full.spec.jitter == timedelta(seconds=30)
    assert full.policies.catchup_window == timedelta(minutes=10)
    assert full.action.execution_timeout == timedelta(hours=1, minutes=30)
    assert full.action.run_timeout == timedelta(hours=1)
    assert full.action.task_timeout == timedelta(seconds=10)


def test_policies_are_taken_as_written(full: DesiredSchedule) -> None:
    assert full.policies.overlap is OverlapPolicy.BUFFER_ALL
    assert full.policies.pause_on_failure is True


def test_start_at_and_end_at_become_utc_and_a_bare_date_is_midnight_in_the_zone(
    full: DesiredSchedule,
) -> None:
    assert full.spec.start_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert full.spec.end_at == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)  # New York midnight


def test_input_and_memo_are_held_as_canonical_json(full: DesiredSchedule) -> None:
    assert full.action.input_json == (
        '{"café":"☕","format":"pdf","recipients":["sales@example.com"]}'
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


def test_every_becomes_an_interval_and_offset_shifts_it(tmp_path: Path) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("interval", every="1h30m", offset="5m"))
    assert schedule.spec.intervals == (
        Interval(timedelta(hours=1, minutes=30), timedelta(minutes=5)),
    )
    assert schedule.spec.calendars == ()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), ("1d2h3m4s", 93784)],
)
def test_durations_accept_every_unit(tmp_path: Path, text: str, seconds: int) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("duration", every="1d", jitter=text))
    assert schedule.spec.jitter == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-06-01T09:30:00Z", datetime(2026, 6, 1, 9, 30, tzinfo=UTC)),
        ("2026-06-01T09:30:00+02:00", datetime(2026, 6, 1, 7, 30, tzinfo=UTC)),
        ("2026-06-01 09:30", datetime(2026, 6, 1, 7, 30, tzinfo=UTC)),  # in Europe/Berlin
        ("2026-06-01", datetime(2026, 5, 31, 22, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_without_an_offset_are_read_in_the_schedules_zone(
    tmp_path: Path, written: str, expected: datetime
) -> None:
    text = workflow_yaml("stamp", every="1h", timezone="Europe/Berlin", start_at=written)
    assert schedule_of(tmp_path, text).spec.start_at == expected


def test_a_file_without_a_schedule_block_is_valid_and_has_no_schedule(tmp_path: Path) -> None:
    result = load_text(tmp_path, "id: ad-hoc\ndescription: run by hand\n")
    assert (result.valid, result.schedule, result.workflow_id) == (True, None, "ad-hoc")
    assert result.diagnostics == ()


def test_keys_outside_the_schedule_block_are_the_workflows_own(tmp_path: Path) -> None:
    text = workflow_yaml("own-keys", every="1h") + "steps:\n  - run: make\nversion: 3\n"
    assert load_text(tmp_path, text).diagnostics == ()


# -- defaults from the options ------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("folder", "project"),
    [
        ("workflows", "workflows"),
        ("My Workflows", "my-workflows"),
        ("_x_", "x"),
        ("---", "scheduled"),
    ],
)
def test_the_default_project_is_the_root_folders_name_made_valid(
    tmp_path: Path, folder: str, project: str
) -> None:
    (tmp_path / folder).mkdir()
    assert derive_project_name(tmp_path / folder) == project


# -- every cron form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "calendar"),
    [
        ("0 9 * * 1-5", Calendar(hour=(Range(9),), day_of_week=(Range(1, 5),))),
        ("*/15 * * * *", Calendar(minute=(Range(0, 59, 15),), hour=EVERY_HOUR)),
        (
            "30 2 1,15 * *",
            Calendar(minute=(Range(30),), hour=(Range(2),), day_of_month=(Range(1), Range(15))),
        ),
        (
            "0 12 * JAN-MAR MON",
            Calendar(hour=(Range(12),), month=(Range(1, 3),), day_of_week=(Range(1),)),
        ),
        ("0 0 12 * * FRI", Calendar(hour=(Range(12),), day_of_week=(Range(5),))),  # seconds first
        ("15 0 12 * * *", Calendar(second=(Range(15),), hour=(Range(12),))),
        (
            "30 0 6 1 1 * 2030",
            Calendar(
                second=(Range(30),),
                hour=(Range(6),),
                day_of_month=(Range(1),),
                month=(Range(1),),
                year=(Range(2030),),
            ),
        ),
        ("@hourly", Calendar(hour=EVERY_HOUR)),
        ("@daily", Calendar()),
        ("@midnight", Calendar()),
        ("@weekly", Calendar(day_of_week=(Range(0),))),
        ("@monthly", Calendar(day_of_month=(Range(1),))),
        ("@yearly", Calendar(day_of_month=(Range(1),), month=(Range(1),))),
        ("@annually", Calendar(day_of_month=(Range(1),), month=(Range(1),))),
        (
            "0 9 * * MON-FRI # weekdays",
            Calendar(hour=(Range(9),), day_of_week=(Range(1, 5),), comment="weekdays"),
        ),
    ],
)
def test_each_cron_form_compiles_to_its_calendar(
    tmp_path: Path, cron: str, calendar: Calendar
) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("cron", cron=cron, jitter="1m"))
    (compiled,) = schedule.spec.calendars
    assert compiled == Calendar(
        second=calendar.second,
        minute=calendar.minute,
        hour=calendar.hour,
        day_of_month=calendar.day_of_month,
        month=calendar.month,
        year=calendar.year,
        day_of_week=calendar.day_of_week,
        comment=cron,
    )


@pytest.mark.parametrize(
    ("cron", "interval"),
    [
        ("@every 15m", Interval(timedelta(minutes=15))),
        ("@every 1h/5m", Interval(timedelta(hours=1), timedelta(minutes=5))),
    ],
)
def test_an_every_cron_becomes_an_interval(tmp_path: Path, cron: str, interval: Interval) -> None:
    schedule = schedule_of(tmp_path, workflow_yaml("every-cron", cron=cron))
    assert (schedule.spec.calendars, schedule.spec.intervals) == ((), (interval,))


def test_a_list_of_crons_gives_one_calendar_each_in_order(tmp_path: Path) -> None:
    text = workflow_yaml("list", cron=["30 7 * * MON", "0 0 12 * * FRI", "@every 6h"], jitter="1m")
    schedule = schedule_of(tmp_path, text)
    assert [calendar.comment for calendar in schedule.spec.calendars] == [
        "30 7 * * MON",
        "0 0 12 * * FRI",
    ]
    assert schedule.spec.intervals == (Interval(timedelta(hours=6)),)
    assert schedule.spec.cron_text == ("30 7 * * MON", "0 0 12 * * FRI", "@every 6h")


def test_a_cron_tz_prefix_sets_the_schedules_zone(tmp_path: Path) -> None:
    schedule = schedule_of(
        tmp_path, workflow_yaml("tz", cron="CRON_TZ=Asia/Tokyo 0 9 * * *", jitter="1m")
    )
    assert schedule.spec.timezone == "Asia/Tokyo"


def test_a_cron_tz_prefix_that_agrees_with_timezone_is_fine(tmp_path: Path) -> None:
    text = workflow_yaml(
        "tz", cron="CRON_TZ=Asia/Tokyo 0 9 * * *", timezone="Asia/Tokyo", jitter="1m"
    )
    assert schedule_of(tmp_path, text).spec.timezone == "Asia/Tokyo"


def test_a_cron_longer_than_temporals_comment_limit_is_refused_before_temporal_does(
    tmp_path: Path,
) -> None:
    cron = "0 9 * * * # " + "x" * 189  # 201 bytes: the calendar's comment would be too long
    result = load_text(tmp_path, workflow_yaml("long", cron=cron, jitter="1m"))
    assert codes(result) == ["cron.too-long"]
    at_limit = load_text(tmp_path, workflow_yaml("long", cron=cron[:-1], jitter="1m"))
    assert at_limit.valid


def test_a_rare_but_real_date_is_not_called_never_firing(tmp_path: Path) -> None:
    # February 29 falls on a Monday in 2044 only: far beyond any look-ahead window.
    result = load_text(tmp_path, workflow_yaml("leap-monday", cron="0 0 29 2 1", jitter="1m"))
    assert "cron.never-fires" not in codes(result)
    assert result.schedule is not None


def test_a_cron_whose_only_year_has_passed_never_fires(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("past", cron="0 0 9 1 1 * 2020", jitter="1m"))
    assert codes(result) == ["cron.never-fires"]


def test_a_cron_error_in_a_list_names_the_item_and_the_others_still_compile(tmp_path: Path) -> None:
    text = workflow_yaml("list", cron=["0 9 * * *", "0 99 * * *", "0 9 31 2 *"], jitter="1m")
    result = load_text(tmp_path, text)
    assert [(d.code, d.path) for d in result.diagnostics if d.is_error] == [
        ("cron.invalid", "schedule.cron[1]"),
        ("cron.never-fires", "schedule.cron[2]"),
    ]


# -- every warning ------------------------------------------------------------------------------


def test_day_of_month_and_day_of_week_together_warn_that_temporal_ands_them(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("both", cron="0 9 1 * MON", jitter="1m"))
    (warning,) = warnings(result)
    assert warning.code == "cron.warning"
    assert "Temporal runs only on days that match both" in warning.message
    assert result.schedule is not None


def test_a_fire_time_in_the_spring_forward_gap_warns(tmp_path: Path) -> None:
    text = workflow_yaml("gap", cron="30 2 * * *", timezone="America/New_York", jitter="1m")
    result = load_text(tmp_path, text)
    found = [w for w in warnings(result) if w.code == "schedule.dst"]
    assert found
    assert "02:30, which does not exist on 2026-03-08 in America/New_York" in found[0].message
    assert result.schedule is not None


def test_a_fire_time_in_the_fall_back_repeat_warns(tmp_path: Path) -> None:
    text = workflow_yaml("repeat", cron="30 1 * * *", timezone="America/New_York", jitter="1m")
    messages = [w.message for w in warnings(load_text(tmp_path, text)) if w.code == "schedule.dst"]
    assert any("01:30, which happens twice on 2026-11-01" in message for message in messages)


def test_a_fire_time_away_from_dst_changes_does_not_warn(tmp_path: Path) -> None:
    text = workflow_yaml("calm", cron="0 9 * * *", timezone="America/New_York", jitter="1m")
    assert load_text(tmp_path, text).diagnostics == ()


def test_the_same_time_in_utc_never_warns_about_dst(tmp_path: Path) -> None:
    assert (
        load_text(tmp_path, workflow_yaml("utc", cron="30 2 * * *", jitter="1m")).diagnostics == ()
    )


def test_a_top_of_the_hour_cron_without_jitter_warns(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("herd", cron="0 9 * * *"))
    (warning,) = warnings(result)
    assert warning.code == "schedule.no-jitter"
    assert "add e.g. `jitter: 30s`" in warning.message
    assert result.schedule is not None


@pytest.mark.parametrize(
    "fields", [{"cron": "0 9 * * *", "jitter": "30s"}, {"cron": "17 9 * * *"}, {"every": "1h"}]
)
def test_jitter_an_odd_minute_or_an_interval_do_not_warn(
    tmp_path: Path, fields: dict[str, str]
) -> None:
    assert load_text(tmp_path, workflow_yaml("calm", **fields)).diagnostics == ()


def test_an_end_at_in_the_past_warns(tmp_path: Path) -> None:
    text = workflow_yaml("ended", every="1h", end_at="2026-02-01T00:00:00Z")
    result = load_text(tmp_path, text)
    (warning,) = warnings(result)
    assert warning.code == "schedule.end-in-past"
    assert "will never fire again" in warning.message
    assert result.schedule is not None


def test_warnings_are_located_at_the_value_they_are_about(tmp_path: Path) -> None:
    text = workflow_yaml("where", cron=["17 9 * * *", "0 9 1 * MON"], jitter="1m")
    (warning,) = warnings(load_text(tmp_path, text))
    assert (warning.line, warning.column, warning.path) == (5, 25, "schedule.cron[1]")


# -- a file's problems, all of them ------------------------------------------------------------


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


def test_an_invalid_file_still_names_its_id_so_its_schedule_is_left_alone(tmp_path: Path) -> None:
    write_workflow(tmp_path, "broken.yaml", workflow_yaml("broken", cron="0 25 * * *"))
    write_workflow(tmp_path, "fine.yaml", workflow_yaml("fine", every="1h"))
    result = load_tree(tmp_path, OPTIONS, now=NOW)
    assert result.claimed_workflow_ids == {"broken"}
    assert result.invalid_files == {"broken.yaml"}
    assert list(result.desired) == ["fine"]
    assert (result.error_count, result.warning_count) == (1, 0)


def test_the_same_id_in_two_files_is_reported_in_both_and_applied_in_neither(
    tmp_path: Path,
) -> None:
    write_workflow(tmp_path, "a/daily.yaml", workflow_yaml("daily", every="1h"))
    write_workflow(tmp_path, "b/daily.yaml", workflow_yaml("daily", every="2h"))
    result = load_tree(tmp_path, OPTIONS, now=NOW)
    assert [(d.file, d.code) for d in result.diagnostics] == [
        ("a/daily.yaml", "tree.duplicate-id"),
        ("b/daily.yaml", "tree.duplicate-id"),
    ]
    assert "also used by b/daily.yaml" in result.diagnostics[0].message
    assert result.desired == {}
    assert result.claimed_workflow_ids == {"daily"}


def test_diagnostics_of_a_tree_are_sorted_by_file_line_and_column(tmp_path: Path) -> None:
    for name in ["z.yaml", "a.yaml", "m/b.yaml"]:
        write_workflow(tmp_path, name, "id: BAD\nschedule: {cron: '0 9 * * *', every: 1h}\n")
    found = load_tree(tmp_path, OPTIONS, now=NOW).diagnostics
    keys = [(d.file, d.line, d.column, d.code) for d in found]
    assert keys == sorted(keys)


def test_the_result_is_keyed_by_workflow_id(tmp_path: Path) -> None:
    write_workflow(tmp_path, "one.yaml", workflow_yaml("first", every="1h"))
    write_workflow(tmp_path, "two.yaml", workflow_yaml("second", every="1h"))
    result = load_tree(tmp_path, OPTIONS, now=NOW)
    assert sorted(result.desired) == ["first", "second"]
    assert result.desired["second"].source == "two.yaml"


def test_a_bug_while_checking_one_file_costs_only_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_compiler(text: str) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("scheduled.format.loader.compile_cron", broken_compiler)
    write_workflow(tmp_path, "crashes.yaml", workflow_yaml("crashes", cron="1 2 3 4 5 # unique"))
    write_workflow(tmp_path, "fine.yaml", workflow_yaml("fine", every="1h"))

    result = load_tree(tmp_path, OPTIONS, now=NOW)

    (diagnostic,) = result.diagnostics
    assert (diagnostic.file, diagnostic.code) == ("crashes.yaml", "internal.error")
    assert "RuntimeError: simulated bug" in diagnostic.message
    assert list(result.desired) == ["fine"]
    assert result.claimed_workflow_ids == {"crashes"}


# -- the cache ----------------------------------------------------------------------------------


def test_the_cache_rereads_only_files_that_changed(tmp_path: Path) -> None:
    cache = FileCache()
    write_workflow(tmp_path, "same.yaml", workflow_yaml("same", every="1h"))
    changing = write_workflow(tmp_path, "changing.yaml", workflow_yaml("changing", every="1h"))
    first = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)

    changing.write_text(workflow_yaml("changing", every="90m"))
    second = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)

    same_first = next(r for r in first.files if r.relative == "same.yaml")
    same_second = next(r for r in second.files if r.relative == "same.yaml")
    assert same_second is same_first
    assert second.desired["changing"].spec.intervals == (Interval(timedelta(minutes=90)),)


def test_the_cache_forgets_files_that_are_gone(tmp_path: Path) -> None:
    cache = FileCache()
    gone = write_workflow(tmp_path, "gone.yaml", workflow_yaml("gone", every="1h"))
    load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)
    gone.unlink()
    assert load_tree(tmp_path, OPTIONS, now=NOW, cache=cache).files == ()


# -- the examples ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def examples() -> LoadResult:
    return load_tree(EXAMPLES, LoadOptions(project="examples"), now=NOW)


def test_the_examples_validate_clean_with_no_warnings(examples: LoadResult) -> None:
    assert [d.render() for d in examples.diagnostics] == []


def test_every_example_with_a_schedule_block_yields_a_schedule(examples: LoadResult) -> None:
    assert sorted(examples.desired) == [
        "cache-warmer",
        "daily-report",
        "quarterly-cleanup",
        "weekly-digest",
    ]
    assert {result.workflow_id for result in examples.files} >= {"ad-hoc-export"}


def test_the_examples_show_what_they_say(examples: LoadResult) -> None:
    assert examples.desired["quarterly-cleanup"].paused
    assert examples.desired["weekly-digest"].spec.calendars[1].second == (Range(0),)
    assert examples.desired["cache-warmer"].action.input == {"regions": ["eu", "us"]}
    assert json.loads(examples.desired["daily-report"].action.input_json)["format"] == "pdf"


def test_the_default_project_is_the_root_link_name_not_its_target(tmp_path: Path) -> None:
    # git-sync: /git/current -> /git/.worktrees/<commit>; the project must not change per commit.
    target = tmp_path / ".worktrees" / "3f2a9c1d"
    target.mkdir(parents=True)
    (tmp_path / "current").symlink_to(target)
    assert derive_project_name(tmp_path / "current") == "current"


def test_a_root_that_is_a_symlink_loop_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    result = load_tree(loop, LoadOptions(project="p"))
    assert not result.readable
    assert "loops back" in result.root_problem
