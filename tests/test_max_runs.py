"""`max_runs`, `trigger_immediately` and runs on request, without a server: the file format,
the fingerprint, the planner's carry-over of the server's count, the diff, the mapping to the
SDK and back, apply against the fake, and the checks of `trigger`/`backfill`."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest
import temporalio.client as tc
from fakes import FakeGateway
from file_loading import load_text, schedule_of
from options import plan_options
from temporalio.api.workflowservice.v1 import DescribeScheduleResponse
from test_apply import options, plan_for
from test_format_export import exported, hand_made, refused
from test_overview import page, snapshot
from test_plan import desired, observed, record_of

from scheduled.format.loader import FileResult, LoadOptions, LoadResult, load_tree
from scheduled.model.desired import DesiredSchedule, fingerprint_of, with_fingerprint
from scheduled.model.observed import Detail, ObservedSchedule, WriteRecord
from scheduled.reconcile import runs
from scheduled.reconcile.adopt import adopt
from scheduled.reconcile.apply import Outcome, apply_plan, write_for
from scheduled.reconcile.diff import field_changes
from scheduled.reconcile.gateway import ScheduleWrite
from scheduled.reconcile.plan import (
    Kind,
    PassContext,
    desired_state_from,
    make_plan,
    plan_schedule,
)
from scheduled.report import render_plan
from scheduled.temporal.convert import (
    DecodedAction,
    detail_from_sdk,
    sdk_schedule,
    unsupported_parts,
)
from scheduled.temporal.marker import parse_record, record_calendar

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CONTEXT = PassContext(project="foo")
HEAD = "id: job\nworkflow: Job\ntask_queue: jobs\nschedule:\n  cron: '0 9 * * *'\n"


def limited(runs_: int | None, **overrides: Any) -> DesiredSchedule:
    return with_fingerprint(dataclasses.replace(desired("job", **overrides), max_runs=runs_))


def listed(schedule: DesiredSchedule) -> ObservedSchedule:
    """Listed after scheduled wrote `schedule` (the record keeps its `max_runs`)."""
    return observed(schedule, record=record_of(schedule, max_runs=schedule.max_runs))


def held(schedule: DesiredSchedule, remaining: int | None) -> ObservedSchedule:
    """Described after scheduled wrote `schedule`, with `remaining` runs left on the server."""
    base = desired("job")
    detail = Detail(policies=base.policies, action=base.action, remaining_runs=remaining)
    return dataclasses.replace(listed(schedule), detail=detail)


# -- the file format -----------------------------------------------------------------------


def test_max_runs_and_trigger_immediately_are_read_from_the_schedule_block(
    tmp_path: Path,
) -> None:
    schedule = schedule_of(tmp_path, HEAD + "  max_runs: 3\n  trigger_immediately: true\n")
    assert (schedule.max_runs, schedule.trigger_immediately) == (3, True)


def test_without_them_there_is_no_limit_and_no_run_on_create(tmp_path: Path) -> None:
    schedule = schedule_of(tmp_path, HEAD)
    assert (schedule.max_runs, schedule.trigger_immediately) == (None, False)


@pytest.mark.parametrize("value", ["0", "-2", "2147483648"])
def test_max_runs_out_of_range_says_where_and_why_0_is_refused(tmp_path: Path, value: str) -> None:
    result = load_text(tmp_path, HEAD + f"  max_runs: {value}\n")
    (error,) = [d for d in result.diagnostics if d.is_error]
    assert (error.line, error.column, error.code) == (6, 13, "schema.range")
    assert "0 would be a schedule that never runs" in error.message
    assert "`enabled: false`" in error.message
    assert result.schedule is None


@pytest.mark.parametrize("value", ["2.5", "true", "'3'"])
def test_max_runs_must_be_a_whole_number(tmp_path: Path, value: str) -> None:
    result = load_text(tmp_path, HEAD + f"  max_runs: {value}\n")
    (error,) = [d for d in result.diagnostics if d.is_error]
    assert error.code == "schema.type" and "a whole number" in error.message


def test_trigger_immediately_must_be_a_boolean(tmp_path: Path) -> None:
    result = load_text(tmp_path, HEAD + "  trigger_immediately: yes\n")
    (error,) = [d for d in result.diagnostics if d.is_error]
    assert (error.line, error.code) == (6, "schema.type")
    assert "write true or false" in error.message


# -- the fingerprint -----------------------------------------------------------------------


def test_a_limit_is_part_of_the_fingerprint() -> None:
    assert limited(3).fingerprint != limited(4).fingerprint != limited(None).fingerprint


def test_a_file_without_a_limit_keeps_the_fingerprint_it_had() -> None:
    plain = desired("job")
    assert limited(None).fingerprint == plain.fingerprint == fingerprint_of(plain)


def test_trigger_immediately_is_no_part_of_the_fingerprint() -> None:
    schedule = limited(3)
    assert fingerprint_of(dataclasses.replace(schedule, trigger_immediately=True)) == (
        schedule.fingerprint
    )


# -- the write record ----------------------------------------------------------------------


def test_the_write_record_keeps_the_limit_it_was_written_with() -> None:
    record = WriteRecord(fingerprint="f", source="a.yaml", enabled=True, max_runs=5)
    assert parse_record(record_calendar(record).comment) == record


def test_a_record_without_a_limit_is_written_as_before() -> None:
    record = WriteRecord(fingerprint="f", source="a.yaml", enabled=True)
    assert '"max"' not in record_calendar(record).comment
    assert parse_record(record_calendar(record).comment) == record


# -- the plan ------------------------------------------------------------------------------


def test_a_new_schedule_is_created_with_the_full_count() -> None:
    made = plan_schedule(limited(5), None, CONTEXT, NOW)
    assert (made.kind, made.remaining_runs, made.carry_remaining) == (Kind.CREATE, 5, False)


def test_an_edit_of_max_runs_alone_is_an_update_that_restarts_the_count() -> None:
    before = limited(5)
    made = plan_schedule(limited(8), held(before, 2), CONTEXT, NOW)
    assert (made.kind, made.remaining_runs, made.carry_remaining) == (Kind.UPDATE, 8, False)


def test_an_unchanged_file_is_unchanged_however_far_the_server_counted_down() -> None:
    schedule = limited(5)
    for remaining in (5, 2, 0):  # 0: used up, neither drift nor healed back to 5
        assert plan_schedule(schedule, held(schedule, remaining), CONTEXT, NOW).kind is (
            Kind.UNCHANGED
        )
    assert plan_schedule(schedule, listed(schedule), CONTEXT, NOW).kind is Kind.UNCHANGED


def test_another_edit_carries_the_described_count_over_and_reads_it_again_first() -> None:
    """The plan's describe may be old by the time its update goes out (a long pass, a busy
    schedule firing meanwhile): apply reads the count once more just before."""
    before = limited(5)
    made = plan_schedule(limited(5, cron="0 10 * * *"), held(before, 2), CONTEXT, NOW)
    assert (made.kind, made.remaining_runs, made.carry_remaining) == (Kind.UPDATE, 2, True)


def test_another_edit_seen_in_the_list_asks_apply_to_read_the_count_first() -> None:
    before = limited(5)
    made = plan_schedule(limited(5, cron="0 10 * * *"), listed(before), CONTEXT, NOW)
    assert (made.kind, made.carry_remaining) == (Kind.UPDATE, True)


def test_a_used_up_schedule_stays_used_up_through_another_edit() -> None:
    before = limited(5)
    made = plan_schedule(limited(5, note="edited"), held(before, 0), CONTEXT, NOW)
    assert (made.kind, made.remaining_runs) == (Kind.UPDATE, 0)


def test_a_limit_removed_outside_scheduled_is_drift_and_restored() -> None:
    schedule = limited(5)
    made = plan_schedule(schedule, held(schedule, None), CONTEXT, NOW)
    assert made.kind is Kind.UPDATE and made.remaining_runs == 5
    assert "max_runs" in made.reasons[0]


def test_a_limit_added_outside_scheduled_is_drift_and_removed() -> None:
    schedule = limited(None)
    made = plan_schedule(schedule, held(schedule, 3), CONTEXT, NOW)
    assert made.kind is Kind.UPDATE and made.remaining_runs is None


def test_a_limit_dropped_from_the_file_writes_no_limit() -> None:
    made = plan_schedule(limited(None), held(limited(5), 2), CONTEXT, NOW)
    assert (made.kind, made.remaining_runs) == (Kind.UPDATE, None)


# -- the diff ------------------------------------------------------------------------------


def _changes(schedule: DesiredSchedule, seen: ObservedSchedule) -> dict[str, tuple[str, str]]:
    found = field_changes(schedule, seen, paused=False, note="")
    return {change.name: (change.before, change.after) for change in found}


def test_the_diff_shows_a_change_of_max_runs() -> None:
    assert _changes(limited(8), listed(limited(5)))["max_runs"] == ("5", "8")
    assert _changes(limited(None), listed(limited(5)))["max_runs"] == ("5", "(no limit)")


def test_the_diff_shows_no_change_for_runs_counted_down() -> None:
    schedule = limited(5)
    assert "max_runs" not in _changes(schedule, held(schedule, 1))


def test_the_diff_shows_a_limit_set_outside_scheduled_as_the_runs_it_has_left() -> None:
    schedule = limited(None)
    assert _changes(schedule, held(schedule, 3))["max_runs"] == ("3", "(no limit)")


# -- to the SDK and back -------------------------------------------------------------------


def _write(remaining: int | None, **overrides: Any) -> ScheduleWrite:
    schedule = limited(5)
    record = record_of(schedule, max_runs=5)
    return ScheduleWrite(
        project="p",
        schedule=schedule,
        paused=False,
        note="",
        record=record,
        remaining_runs=remaining,
        **overrides,
    )


def test_a_limit_is_sent_as_limited_actions_with_the_runs_left() -> None:
    state = sdk_schedule(_write(2)).state
    assert (state.limited_actions, state.remaining_actions) == (True, 2)
    state = sdk_schedule(_write(0)).state  # used up, carried over
    assert (state.limited_actions, state.remaining_actions) == (True, 0)
    state = sdk_schedule(_write(None)).state
    assert (state.limited_actions, state.remaining_actions) == (False, 0)


def test_a_describe_reads_the_runs_left_back() -> None:
    sent = sdk_schedule(_write(0))
    action = sent.action
    assert isinstance(action, tc.ScheduleActionStartWorkflow)
    assert detail_from_sdk(sent, action, DecodedAction()).remaining_runs == 0
    sent.state = tc.ScheduleState()
    assert detail_from_sdk(sent, action, DecodedAction()).remaining_runs is None


# -- apply against the fake ----------------------------------------------------------------


def test_a_cron_edit_keeps_the_count_the_server_has() -> None:
    fake = FakeGateway()
    sid = limited(5).schedule_id

    async def main() -> None:
        await apply_plan(await plan_for(fake, [limited(5)]), fake, options())
        fake.fire(sid, 3)
        edited = limited(5, cron="0 10 * * *")
        report = await apply_plan(await plan_for(fake, [edited]), fake, options())
        assert report.results[0].outcome is Outcome.UPDATED
        assert fake.stored[sid].remaining_runs == 2
        assert fake.calls["describe"] == 1  # read just before the update, only for the limit

    anyio.run(main)


def test_an_unchanged_tree_writes_nothing_after_the_server_counted_down() -> None:
    fake = FakeGateway()
    sid = limited(2).schedule_id

    async def main() -> None:
        await apply_plan(await plan_for(fake, [limited(2)]), fake, options())
        fake.fire(sid, 5)
        report = await apply_plan(await plan_for(fake, [limited(2)]), fake, options())
        assert (report.writes, fake.stored[sid].remaining_runs) == (0, 0)

    anyio.run(main)


def test_an_unlimited_schedule_costs_no_describe_on_update() -> None:
    fake = FakeGateway()

    async def main() -> None:
        await apply_plan(await plan_for(fake, [desired("job")]), fake, options())
        edited = desired("job", cron="0 10 * * *")
        await apply_plan(await plan_for(fake, [edited]), fake, options())
        assert (fake.calls["update"], fake.calls["describe"]) == (1, 0)

    anyio.run(main)


# -- trigger_immediately -------------------------------------------------------------------


def _trigger_on(kind: Kind, *, enabled: bool = True) -> bool:
    schedule = dataclasses.replace(desired("job", enabled=enabled), trigger_immediately=True)
    operation = plan_schedule(schedule, None, CONTEXT, NOW)
    return write_for(dataclasses.replace(operation, kind=kind), CONTEXT).trigger_immediately


def test_trigger_immediately_goes_with_the_create_only() -> None:
    assert _trigger_on(Kind.CREATE) is True
    assert _trigger_on(Kind.UPDATE) is False


def test_a_file_that_is_not_enabled_starts_nothing_on_create() -> None:
    assert _trigger_on(Kind.CREATE, enabled=False) is False


def test_the_fake_counts_one_run_for_a_create_with_trigger_immediately() -> None:
    fake = FakeGateway()
    schedule = dataclasses.replace(desired("job"), trigger_immediately=True)

    async def main() -> None:
        await apply_plan(await plan_for(fake, [schedule]), fake, options())
        await apply_plan(
            await plan_for(fake, [dataclasses.replace(schedule, note="x")]), fake, options()
        )

    anyio.run(main)
    assert fake.stored[schedule.schedule_id].manual_runs == ["trigger_immediately"]


# -- trigger and backfill: finding the schedule ----------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Any:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return load_tree(tmp_path, LoadOptions(project="foo"), now=NOW)


def test_an_unknown_id_names_the_file_id_not_the_schedule_id(tmp_path: Path) -> None:
    load = _tree(tmp_path, {"job.yaml": HEAD})
    with pytest.raises(runs.UnknownWorkflowError, match=r"no workflow file .* has id 'nope'"):
        runs.find_target(load, "foo", "nope")


def test_a_file_without_a_schedule_has_nothing_to_run(tmp_path: Path) -> None:
    load = _tree(tmp_path, {"job.yaml": "id: job\nworkflow: Job\n"})
    with pytest.raises(runs.UnknownWorkflowError, match="no `schedule:` block"):
        runs.find_target(load, "foo", "job")


def test_an_invalid_file_still_finds_its_schedule(tmp_path: Path) -> None:
    load = _tree(tmp_path, {"job.yaml": HEAD + "  max_runs: 0\n"})
    assert runs.find_target(load, "foo", "job") == ("schedule-foo-job", "job.yaml", "")


def test_a_schedule_not_in_temporal_yet_asks_for_apply(tmp_path: Path) -> None:
    load = _tree(tmp_path, {"job.yaml": HEAD})
    with pytest.raises(runs.NotInTemporalError, match="run `scheduled apply` first"):
        anyio.run(
            lambda: runs.resolve_target(load, FakeGateway(), project="foo", workflow_id="job")
        )


def test_a_schedule_of_another_project_is_refused(tmp_path: Path) -> None:
    load = _tree(tmp_path, {"job.yaml": HEAD})
    fake = FakeGateway()
    foreign = observed(desired("job"), owner=None, record=None)
    fake.foreign[foreign.schedule_id] = foreign
    with pytest.raises(runs.UnmanagedScheduleError, match="no scheduled project"):
        anyio.run(lambda: runs.resolve_target(load, fake, project="foo", workflow_id="job"))


def test_a_time_without_an_offset_is_in_the_schedule_s_zone() -> None:
    window = runs.backfill_range(
        datetime(2026, 1, 1, 9), datetime(2026, 1, 2, 9, tzinfo=UTC), "Europe/Berlin"
    )
    assert window.start == datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert window.end == datetime(2026, 1, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize("end", [datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 8)])
def test_from_must_be_before_to(end: datetime) -> None:
    with pytest.raises(runs.BadRangeError, match="must be before --to"):
        runs.backfill_range(datetime(2026, 1, 1, 9), end, "UTC")


# -- adopt ---------------------------------------------------------------------------------


def test_adopt_creates_the_schedule_with_its_full_count_and_no_run() -> None:
    fake = FakeGateway()
    schedule = dataclasses.replace(limited(5), trigger_immediately=True)
    fake.foreign[schedule.schedule_id] = observed(desired("job"), owner=None, record=None)
    load = LoadResult(
        root=Path("."),
        files=(FileResult(relative=schedule.source, workflow_id="job", schedule=schedule),),
        desired={"job": schedule},
    )
    anyio.run(lambda: adopt(load, fake, project="foo", workflow_id="job"))
    stored = fake.stored[schedule.schedule_id]
    assert (stored.remaining_runs, stored.manual_runs) == (5, [])


# -- export --------------------------------------------------------------------------------


def test_export_writes_the_runs_a_hand_made_schedule_has_left() -> None:
    schedule = hand_made()
    assert schedule.detail is not None
    limited_by_hand = dataclasses.replace(
        schedule, detail=dataclasses.replace(schedule.detail, remaining_runs=4)
    )
    assert "  max_runs: 4\n" in exported(limited_by_hand).text


def test_export_refuses_a_schedule_that_has_used_up_its_runs() -> None:
    schedule = hand_made()
    assert schedule.detail is not None
    used_up = dataclasses.replace(
        schedule, detail=dataclasses.replace(schedule.detail, remaining_runs=0)
    )
    assert "used up its runs" in refused(used_up)


# -- the daemon's status page --------------------------------------------------------------


def test_the_status_page_shows_the_limit_and_the_runs_left_when_described() -> None:
    schedule = limited(5)
    (line,) = page(snapshot((schedule, listed(schedule)))).schedules
    assert line.when == "at 09:00; at most 5 runs"  # the list does not carry the count
    (line,) = page(snapshot((schedule, held(schedule, 0)))).schedules
    assert (line.when, line.in_sync) == ("at 09:00; no runs left", True)


def test_a_limit_is_no_longer_something_a_file_cannot_say() -> None:
    described = DescribeScheduleResponse()
    described.schedule.state.limited_actions = True
    described.schedule.state.remaining_actions = 4
    assert "limit" not in " ".join(unsupported_parts(described))


# -- the README's examples -----------------------------------------------------------------


def test_the_readme_examples_of_these_fields_are_valid_files(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [
        block
        for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
        if block.startswith("id: ") and ("max_runs" in block or "trigger_immediately" in block)
    ]
    assert len(blocks) == 2
    defaults = LoadOptions(project="foo", default_workflow="W", default_task_queue="q")
    for block in blocks:
        schedule = schedule_of(tmp_path, block, defaults)
        assert schedule.max_runs == 24 or schedule.trigger_immediately


def test_the_plan_says_what_a_create_will_start() -> None:
    schedule = dataclasses.replace(limited(3), trigger_immediately=True)
    made = make_plan(
        desired_state_from([schedule], project="foo", file_count=1),
        [],
        plan_options("foo", now=NOW),
    )
    lines = render_plan(made, NOW)
    assert "      max_runs: 3 (then it stops firing)" in lines
    assert "      starts one run at once (trigger_immediately)" in lines
