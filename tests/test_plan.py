"""The planner: pure desired + observed → operations. One behaviour per test, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from options import plan_options

from scheduled.format.cron import compile_cron
from scheduled.model.calendar import Calendar, Interval
from scheduled.model.desired import (
    Action,
    AttributeType,
    DesiredSchedule,
    Policies,
    Priority,
    RetryPolicy,
    SearchAttribute,
    Spec,
    schedule_id_for,
    with_fingerprint,
)
from scheduled.model.observed import Detail, ObservedSchedule, WriteRecord
from scheduled.reconcile.plan import (
    HELD_GONE,
    HELD_VANISHED,
    Kind,
    PassContext,
    Plan,
    desired_state_from,
    detail_drift,
    make_plan,
    plan_schedule,
    revisions_to_order,
    spec_matches,
)

PROJECT = "foo"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def calendar(cron: str) -> Calendar:
    compiled = compile_cron(cron).calendar
    assert compiled is not None
    return replace(compiled, comment=cron)


def desired(
    workflow_id: str = "job",
    *,
    cron: str = "0 9 * * *",
    enabled: bool = True,
    note: str = "",
    source: str | None = None,
    workflow_type: str = "Job",
    end_at: datetime | None = None,
    calendars: tuple[Calendar, ...] | None = None,
    project: str = PROJECT,
    retry: RetryPolicy | None = None,
    catchup_window: timedelta | None = None,
) -> DesiredSchedule:
    return with_fingerprint(
        DesiredSchedule(
            workflow_id=workflow_id,
            schedule_id=schedule_id_for(project, workflow_id),
            source=source or f"{workflow_id}.yaml",
            spec=Spec(calendars=calendars or (calendar(cron),), end_at=end_at),
            policies=Policies(catchup_window=catchup_window),
            action=Action(
                workflow_type=workflow_type,
                task_queue="jobs",
                workflow_id=f"{project}-{workflow_id}",
                retry=retry,
            ),
            enabled=enabled,
            note=note,
        )
    )


def record_of(schedule: DesiredSchedule, **overrides: Any) -> WriteRecord:
    fields: dict[str, Any] = {
        "fingerprint": schedule.fingerprint,
        "source": schedule.source,
        "enabled": schedule.enabled,
    }
    return WriteRecord(**{**fields, **overrides})


def observed(
    schedule: DesiredSchedule,
    *,
    owner: str | None = PROJECT,
    record: WriteRecord | str | None = "written",
    paused: bool | None = None,
    note: str | None = None,
    spec: Spec | None = None,
    workflow_type: str | None = None,
) -> ObservedSchedule:
    """What Temporal lists after scheduled wrote `schedule` (then changed by the overrides)."""
    return ObservedSchedule(
        schedule_id=schedule.schedule_id,
        owner=owner,
        record=record_of(schedule) if isinstance(record, str) else record,
        spec=spec or schedule.spec,
        workflow_type=workflow_type or schedule.action.workflow_type,
        paused=schedule.paused if paused is None else paused,
        note=schedule.note if note is None else note,
    )


def plan(
    schedules: list[DesiredSchedule],
    seen: list[ObservedSchedule],
    *,
    state: dict[str, Any] | None = None,
    **options: Any,
) -> Plan:
    desired_state = desired_state_from(
        schedules, project=PROJECT, **{"file_count": max(1, len(schedules)), **(state or {})}
    )
    return make_plan(desired_state, seen, plan_options(PROJECT, now=NOW, **options))


def kinds(made: Plan) -> dict[str, Kind]:
    return {operation.workflow_id: operation.kind for operation in made.operations}


def only(made: Plan) -> Any:
    (operation,) = made.operations
    return operation


# -- create ---------------------------------------------------------------------------------


def test_new_file_is_created_with_the_file_state() -> None:
    operation = only(plan([desired(enabled=False, note="later")], []))
    assert (operation.kind, operation.paused, operation.note) == (Kind.CREATE, True, "later")


def test_end_at_in_the_past_is_not_created() -> None:
    operation = only(plan([desired(end_at=NOW - timedelta(days=1))], []))
    assert operation.kind is Kind.SKIP
    assert "end_at is in the past" in operation.reasons[0]


def test_end_at_in_the_future_is_created() -> None:
    assert only(plan([desired(end_at=NOW + timedelta(days=1))], [])).kind is Kind.CREATE


def test_existing_schedule_with_end_at_in_the_past_is_still_updated() -> None:
    schedule = desired(end_at=NOW - timedelta(days=1))
    stale = observed(schedule, record=record_of(schedule, fingerprint="old"))
    assert only(plan([schedule], [stale])).kind is Kind.UPDATE


# -- unchanged and updates ------------------------------------------------------------------


def test_unchanged_when_record_and_listed_state_match() -> None:
    schedule = desired()
    operation = only(plan([schedule], [observed(schedule)]))
    assert (operation.kind, operation.reasons, operation.changes) == (Kind.UNCHANGED, (), ())


def test_file_change_is_an_update_without_blaming_temporal() -> None:
    old, new = desired(cron="0 9 * * *"), desired(cron="0 10 * * *")
    operation = only(plan([new], [observed(old)]))
    assert operation.kind is Kind.UPDATE
    assert operation.reasons == ("the file changed",)
    assert operation.changes == ()  # explaining is the diff's job, not the planner's


def test_spec_edited_in_temporal_is_an_update_that_says_so() -> None:
    schedule = desired()
    edited = observed(schedule, spec=Spec(calendars=(calendar("0 17 * * *"),)))
    operation = only(plan([schedule], [edited]))
    assert operation.kind is Kind.UPDATE
    assert "edited outside scheduled" in operation.reasons[0]


def test_workflow_type_edited_in_temporal_is_an_update() -> None:
    schedule = desired()
    operation = only(plan([schedule], [observed(schedule, workflow_type="Other")]))
    assert operation.kind is Kind.UPDATE
    assert "workflow type" in operation.reasons[0]


def test_note_edited_in_temporal_is_restored() -> None:
    schedule = desired(note="from git")
    operation = only(plan([schedule], [observed(schedule, note="typed in the UI")]))
    assert (operation.kind, operation.note) == (Kind.UPDATE, "from git")


TEAM = SearchAttribute(name="Team", type=AttributeType.KEYWORD, value="payments")
TIER = SearchAttribute(name="Tier", type=AttributeType.INT, value=1)


def with_attributes(schedule: DesiredSchedule, *found: SearchAttribute) -> DesiredSchedule:
    return with_fingerprint(replace(schedule, search_attributes=found))


def test_a_search_attribute_edited_in_temporal_is_restored() -> None:
    schedule = with_attributes(desired(), TEAM)
    edited = replace(observed(schedule), search_attributes=(replace(TEAM, value="hacked"),))
    operation = only(plan([schedule], [edited]))
    assert operation.kind is Kind.UPDATE
    assert "search attributes in Temporal differ" in operation.reasons[0]


def test_a_search_attribute_listed_with_the_namespaces_type_is_no_change() -> None:
    schedule = with_attributes(desired(), replace(TEAM, type=AttributeType.TEXT))
    listed = replace(observed(schedule), search_attributes=(TEAM,))  # Keyword vs Text
    assert only(plan([schedule], [listed])).kind is Kind.UNCHANGED


def test_search_attributes_someone_else_set_are_no_change() -> None:
    schedule = with_attributes(desired(), TEAM)
    listed = replace(observed(schedule), search_attributes=(TEAM, TIER))
    assert only(plan([schedule], [listed])).kind is Kind.UNCHANGED


def test_a_search_attribute_scheduled_set_and_the_file_dropped_is_a_change() -> None:
    schedule = desired()
    record = record_of(schedule, search_attribute_names=("Team",))
    listed = replace(observed(schedule, record=record), search_attributes=(TEAM,))
    assert only(plan([schedule], [listed])).kind is Kind.UPDATE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", "edited"),
        ("details", "edited"),
        ("priority", Priority(priority_key=1)),
        ("search_attributes", (TEAM,)),
        ("args_json", "[1]"),
        ("workflow_id", "edited"),
    ],
)
def test_an_action_field_edited_in_temporal_is_drift(field: str, value: Any) -> None:
    schedule = desired()
    held = replace(schedule.action, **{field: value})
    name = {"args_json": "args", "search_attributes": "workflow_search_attributes"}.get(field)
    assert detail_drift(schedule, Detail(policies=schedule.policies, action=held)) == [
        name or field
    ]


def test_missing_write_record_is_an_update() -> None:
    schedule = desired()
    operation = only(plan([schedule], [observed(schedule, record=None)]))
    assert operation.kind is Kind.UPDATE
    assert "no write record" in operation.reasons[0]


def test_moved_file_is_an_update_that_records_the_new_source() -> None:
    schedule = desired(source="new/job.yaml")
    moved = observed(schedule, record=record_of(schedule, source="old/job.yaml"))
    operation = only(plan([schedule], [moved]))
    assert operation.kind is Kind.UPDATE
    assert operation.reasons == ("the file moved from old/job.yaml",)


def test_list_cut_to_ten_calendars_still_matches() -> None:
    many = tuple(calendar(f"0 {hour} * * *") for hour in range(12))
    schedule = desired(calendars=many)
    listed = observed(schedule, spec=replace(schedule.spec, calendars=many[:10]))
    assert only(plan([schedule], [listed])).kind is Kind.UNCHANGED


def test_exclusions_removed_in_temporal_are_an_update_that_says_so() -> None:
    schedule = desired()
    schedule = replace(schedule, spec=replace(schedule.spec, skip=(calendar("0 12 * * *"),)))
    stripped = observed(schedule, spec=replace(schedule.spec, skip=()))
    operation = only(plan([schedule], [stripped]))
    assert operation.kind is Kind.UPDATE
    assert "edited outside scheduled" in operation.reasons[0]


def test_a_list_showing_nine_exclusions_beside_the_write_record_still_matches() -> None:
    many = tuple(calendar(f"0 {hour} * * *") for hour in range(12))
    schedule = desired()
    schedule = replace(schedule, spec=replace(schedule.spec, skip=many))
    listed = observed(schedule, spec=replace(schedule.spec, skip=many[:9]))
    assert only(plan([schedule], [listed])).kind is Kind.UNCHANGED


def test_spec_matches_compares_structures_not_cron_text() -> None:
    nine = Spec(calendars=(calendar("0 9 * * *"),), cron_text=("0 9 * * *",))
    assert spec_matches(nine, replace(nine, cron_text=()))
    assert not spec_matches(nine, replace(nine, jitter=timedelta(seconds=1)))
    assert not spec_matches(nine, replace(nine, intervals=(Interval(every=timedelta(hours=1)),)))


def test_newer_revision_applied_elsewhere_is_not_overwritten() -> None:
    old, new = desired(cron="0 9 * * *"), desired(cron="0 10 * * *")
    ahead = observed(new, record=record_of(new, commit_time=200, revision="abc123"))
    operation = only(plan([old], [ahead], commit_time=100))
    assert operation.kind is Kind.BLOCKED
    assert "abc123" in operation.reasons[0]


def test_older_revision_does_not_delete_a_schedule_a_newer_one_created() -> None:
    added_later = desired("added-later")
    ahead = observed(added_later, record=record_of(added_later, commit_time=200))
    made = plan([desired("a")], [observed(desired("a")), ahead], commit_time=100)
    assert kinds(made)["added-later"] is Kind.BLOCKED


def test_older_revision_does_not_recreate_what_a_newer_one_deleted() -> None:
    kept = desired("kept")
    ahead = observed(kept, record=record_of(kept, commit_time=200))
    made = plan([kept, desired("deleted-later")], [ahead], commit_time=100)
    assert kinds(made) == {"kept": Kind.UNCHANGED, "deleted-later": Kind.BLOCKED}
    assert "behind" in made.guard_message


def test_a_descendant_commit_is_newer_even_with_an_older_commit_time() -> None:
    old, new = desired(cron="0 9 * * *"), desired(cron="0 10 * * *")
    ahead = observed(new, record=record_of(new, commit_time=50, revision="child"))
    made = plan(
        [old], [ahead], revision="parent", commit_time=100, newer_by_ancestry={"child": True}
    )
    assert only(made).kind is Kind.BLOCKED


def test_an_ancestor_commit_is_older_even_with_a_newer_commit_time() -> None:
    # A revert committed with an old author date, or a clock that ran ahead: ancestry decides.
    old, new = desired(cron="0 9 * * *"), desired(cron="0 10 * * *")
    behind = observed(old, record=record_of(old, commit_time=200, revision="parent"))
    made = plan(
        [new], [behind], revision="child", commit_time=100, newer_by_ancestry={"parent": False}
    )
    assert only(made).kind is Kind.UPDATE


def test_revisions_git_cannot_order_fall_back_to_commit_time() -> None:
    old, new = desired(cron="0 9 * * *"), desired(cron="0 10 * * *")
    ahead = observed(new, record=record_of(new, commit_time=200, revision="unknown"))
    made = plan([old], [ahead], revision="ours", commit_time=100, newer_by_ancestry={})
    assert only(made).kind is Kind.BLOCKED


def test_only_other_revisions_of_the_project_are_given_to_git_to_order() -> None:
    mine, theirs, same = desired("mine"), desired("theirs"), desired("same")
    seen = [
        observed(mine, record=record_of(mine, commit_time=1, revision="r1")),
        observed(same, record=record_of(same, commit_time=1, revision="ours")),
        replace(
            observed(theirs, record=record_of(theirs, commit_time=1, revision="r2")), owner="x"
        ),
    ]
    context = plan_options(PROJECT, revision="ours", commit_time=5).context
    assert revisions_to_order(seen, context) == {"r1"}


def test_tree_without_a_revision_is_never_held_back_by_one() -> None:
    old, new = desired(cron="0 9 * * *"), desired(cron="0 10 * * *")
    ahead = observed(new, record=record_of(new, commit_time=200))
    assert only(plan([old], [ahead], commit_time=0)).kind is Kind.UPDATE


def test_same_content_under_a_newer_revision_is_unchanged() -> None:
    schedule = desired()
    ahead = observed(schedule, record=record_of(schedule, commit_time=200))
    assert only(plan([schedule], [ahead], commit_time=100)).kind is Kind.UNCHANGED


# -- ownership ------------------------------------------------------------------------------


def test_unmarked_schedule_with_our_id_is_a_conflict() -> None:
    schedule = desired()
    operation = only(plan([schedule], [observed(schedule, owner=None, record=None)]))
    assert operation.kind is Kind.CONFLICT
    assert "scheduled adopt" in operation.reasons[0]


def test_schedule_of_another_project_with_our_id_is_a_conflict() -> None:
    schedule = desired("bar-x")
    theirs = observed(schedule, owner="foo-bar")
    operation = only(plan([schedule], [theirs]))
    assert operation.kind is Kind.CONFLICT
    assert "'foo-bar'" in operation.reasons[0]


def test_schedules_of_a_project_sharing_our_prefix_are_not_managed_nor_deleted() -> None:
    theirs = observed(desired("x", project="foo-bar"), owner="foo-bar")
    made = plan([desired("mine")], [theirs])
    assert made.managed == 0
    assert kinds(made) == {"mine": Kind.CREATE}


def test_unmarked_schedule_without_a_file_is_not_deleted() -> None:
    stray = observed(desired("stray"), owner=None, record=None)
    assert plan([desired("mine")], [stray]).of_kind(Kind.DELETE) == []


def test_schedules_outside_our_prefix_are_ignored() -> None:
    elsewhere = observed(desired("x", project="other"), owner=PROJECT)
    made = plan([], [elsewhere])
    assert (made.operations, made.managed) == ((), 0)


# -- operator pause -------------------------------------------------------------------------


def test_operator_pause_is_kept() -> None:
    schedule = desired(note="from git")
    paused = observed(schedule, paused=True, note="incident 42")
    operation = only(plan([schedule], [paused]))
    assert (operation.kind, operation.paused, operation.note) == (
        Kind.UNCHANGED,
        True,
        "incident 42",
    )
    assert operation.reasons == ("paused by an operator; kept",)


def test_operator_pause_is_kept_when_another_field_changes() -> None:
    old, new = desired(cron="0 9 * * *"), desired(cron="0 10 * * *")
    operation = only(plan([new], [observed(old, paused=True, note="ops")]))
    assert (operation.kind, operation.paused, operation.note) == (Kind.UPDATE, True, "ops")


def test_operator_unpause_of_a_disabled_file_is_kept() -> None:
    schedule = desired(enabled=False)
    operation = only(plan([schedule], [observed(schedule, paused=False)]))
    assert (operation.kind, operation.paused) == (Kind.UNCHANGED, False)
    assert operation.reasons == ()


def test_file_changing_enabled_wins_over_the_operator() -> None:
    was_enabled = desired(enabled=True)
    now_disabled = desired(enabled=False, note="off in git")
    operation = only(plan([now_disabled], [observed(was_enabled, paused=True, note="ops")]))
    assert (operation.kind, operation.paused, operation.note) == (Kind.UPDATE, True, "off in git")


def test_file_enabling_again_unpauses() -> None:
    was_disabled = desired(enabled=False)
    operation = only(plan([desired(enabled=True)], [observed(was_disabled)]))
    assert (operation.kind, operation.paused) == (Kind.UPDATE, False)
    assert "unpause" in operation.reasons


def test_override_operator_pause_unpauses() -> None:
    schedule = desired(note="from git")
    paused = observed(schedule, paused=True, note="ops")
    operation = only(plan([schedule], [paused], respect_operator_pause=False))
    assert (operation.kind, operation.paused, operation.note) == (Kind.UPDATE, False, "from git")


# -- orphans and the prune guard ------------------------------------------------------------


def _managed(*workflow_ids: str) -> list[ObservedSchedule]:
    return [observed(desired(workflow_id)) for workflow_id in workflow_ids]


def test_schedule_whose_file_is_gone_is_deleted() -> None:
    made = plan([desired("a"), desired("b")], _managed("a", "b", "c"))
    assert kinds(made) == {"a": Kind.UNCHANGED, "b": Kind.UNCHANGED, "c": Kind.DELETE}


def test_the_daemon_holds_the_deletion_of_a_gone_file_for_a_second_look() -> None:
    made = plan([desired("a")], _managed("a", "b"), hold_vanished_blocks=True)
    assert kinds(made)["b"] is Kind.SKIP
    assert made.operations[1].reasons == (HELD_GONE,)


def test_the_daemon_holds_a_file_without_its_block_apart_from_a_gone_one() -> None:
    made = plan(
        [desired("a")],
        _managed("a", "b"),
        state={"present_sources": ["a.yaml", "b.yaml"]},
        hold_vanished_blocks=True,
    )
    assert made.operations[1].reasons == (HELD_VANISHED,)


def test_a_gone_file_confirmed_by_a_second_look_is_deleted() -> None:
    made = plan(
        [desired("a")],
        _managed("a", "b"),
        hold_vanished_blocks=True,
        confirmed_vanished=frozenset({"b.yaml"}),
    )
    assert kinds(made)["b"] is Kind.DELETE


def test_no_prune_skips_deletions() -> None:
    made = plan([desired("a")], _managed("a", "b"), prune=False)
    assert kinds(made)["b"] is Kind.SKIP


def test_schedule_of_an_unreadable_file_is_kept() -> None:
    made = plan([], _managed("a", "b"), state={"invalid_sources": ["a.yaml"]})
    assert kinds(made)["a"] is Kind.SKIP
    assert "invalid" in made.operations[0].reasons[0]


def test_schedule_whose_invalid_file_names_its_id_is_kept() -> None:
    made = plan([desired("b")], _managed("a", "b"), state={"claimed_workflow_ids": ["a"]})
    assert kinds(made)["a"] is Kind.SKIP


def test_schedules_of_files_in_an_unreadable_folder_are_kept() -> None:
    made = plan(
        [desired("a")],
        [
            observed(desired("a")),
            *[observed(desired(name, source=f"sub/{name}.yaml")) for name in ("b", "c")],
        ],
        state={"invalid_sources": ["sub/"]},
    )
    assert kinds(made) == {"a": Kind.UNCHANGED, "b": Kind.SKIP, "c": Kind.SKIP}


def test_schedule_of_a_file_the_globs_leave_out_is_kept_while_the_file_exists() -> None:
    made = plan([desired("a")], _managed("a", "b"), state={"excluded_sources": ["b.yaml"]})
    assert kinds(made) == {"a": Kind.UNCHANGED, "b": Kind.SKIP}
    assert "the include/exclude globs leave it out" in made.operations[1].reasons[0]


def test_schedules_of_files_in_an_excluded_unreadable_folder_are_kept() -> None:
    seen = [observed(desired(name, source=f"private/{name}.yaml")) for name in ("b", "c")]
    made = plan(
        [desired("a")], [observed(desired("a")), *seen], state={"excluded_sources": ["private/"]}
    )
    assert kinds(made) == {"a": Kind.UNCHANGED, "b": Kind.SKIP, "c": Kind.SKIP}


def test_schedule_of_a_file_that_lost_its_id_is_kept_while_the_file_exists() -> None:
    made = plan([desired("a")], _managed("a", "b"), state={"not_workflow_sources": ["b.yaml"]})
    assert kinds(made)["b"] is Kind.SKIP
    assert "no longer a workflow file" in made.operations[1].reasons[0]


def test_globs_that_leave_out_most_files_delete_nothing_and_need_no_override() -> None:
    left_out = [f"{name}.yaml" for name in "bcdefg"]
    made = plan(
        [desired("a")], _managed(*"abcdefg"), state={"excluded_sources": left_out}, prune=True
    )
    assert [op.kind for op in made.operations] == [Kind.UNCHANGED] + [Kind.SKIP] * 6
    assert made.guard_message == ""


def test_files_left_out_by_the_globs_and_then_removed_meet_the_prune_guard() -> None:
    made = plan([desired("a")], _managed(*"abcdefg"), state={"excluded_sources": []})
    assert set(kinds(made).values()) == {Kind.UNCHANGED, Kind.BLOCKED}
    assert "6 of the 7" in made.guard_message


def test_a_changed_set_that_empties_the_tree_deletes_nothing_even_when_allowed() -> None:
    made = plan(
        [],
        _managed("a", "b"),
        state={"file_count": 0, "scope": ["a.yaml", "b.yaml"]},
        allow_mass_delete=True,
    )
    assert set(kinds(made).values()) == {Kind.BLOCKED}


def test_deletions_earlier_in_the_window_count_toward_the_guard() -> None:
    # 2 of 6 managed now, after 2 deleted earlier: 4 of the 8 there were is not more than half
    kept = [desired(name) for name in "abcd"]
    seen = [*_managed(*"abcd"), *_managed("e", "f")]
    assert set(kinds(plan(kept, seen, recently_deleted=2)).values()) >= {Kind.DELETE}
    made = plan(kept, seen, recently_deleted=3)  # 5 of 9
    assert {kinds(made)["e"], kinds(made)["f"]} == {Kind.BLOCKED}
    assert "3 of them deleted in the last resync interval" in made.guard_message


def test_empty_tree_deletes_nothing() -> None:
    desired_state = desired_state_from([], project=PROJECT, file_count=0)
    made = make_plan(desired_state, _managed("a"), plan_options(PROJECT, now=NOW))
    assert kinds(made) == {"a": Kind.BLOCKED}
    assert "no workflow files" in made.guard_message


def test_unreadable_tree_deletes_nothing_even_when_allowed() -> None:
    made = plan([], _managed("a"), state={"readable": False}, allow_mass_delete=True)
    assert kinds(made) == {"a": Kind.BLOCKED}
    assert "cannot be read" in made.guard_message


def test_deleting_more_than_half_is_refused() -> None:
    made = plan([desired("a")], _managed("a", "b", "c"))
    assert kinds(made) == {"a": Kind.UNCHANGED, "b": Kind.BLOCKED, "c": Kind.BLOCKED}
    assert "2 of the 3" in made.guard_message and "--allow-mass-delete" in made.guard_message


def test_deleting_exactly_half_is_allowed() -> None:
    made = plan([desired("a")], _managed("a", "b"))
    assert kinds(made)["b"] is Kind.DELETE
    assert made.guard_message == ""


def test_allow_mass_delete_lets_it_through() -> None:
    made = plan([desired("a")], _managed("a", "b", "c"), allow_mass_delete=True)
    assert made.of_kind(Kind.DELETE) == [made.operations[1], made.operations[2]]


def test_max_delete_fraction_is_configurable() -> None:
    made = plan([desired(x) for x in "abc"], _managed("a", "b", "c", "d"), max_delete_fraction=0.2)
    assert kinds(made)["d"] is Kind.BLOCKED


# -- scope (a daemon's changed files) -------------------------------------------------------


def test_scope_plans_only_the_changed_files() -> None:
    made = plan(
        [desired("a"), desired("b")],
        [],
        state={"scope": ["a.yaml", "gone.yaml"]},
    )
    assert kinds(made) == {"a": Kind.CREATE}


def test_scope_leaves_orphans_of_other_files_alone() -> None:
    made = plan([desired("a")], _managed("a", "other"), state={"scope": ["a.yaml"]})
    assert kinds(made) == {"a": Kind.UNCHANGED}


def test_scope_deletes_the_schedule_of_a_removed_file_in_scope() -> None:
    made = plan([desired("a")], _managed("a", "gone"), state={"scope": ["gone.yaml"]})
    assert kinds(made) == {"gone": Kind.DELETE}


def test_scope_deletes_a_schedule_a_removed_file_held_under_another_files_record() -> None:
    # A broken a.yaml kept "x"; renamed to b.yaml (still broken, still naming x), then deleted:
    # the record names a.yaml, but b.yaml named x in the last load, so its deletion frees x.
    x = desired("x", source="a.yaml")
    made = plan(
        [desired("a2")],
        [observed(x), *_managed("a2")],
        state={"scope": ["b.yaml"], "scope_ids": [x.schedule_id]},
    )
    assert kinds(made) == {"x": Kind.DELETE}


# -- the plan as a whole --------------------------------------------------------------------


def test_operations_are_sorted_by_schedule_id_and_counted() -> None:
    made = plan([desired("b"), desired("a")], _managed("a", "z"), allow_mass_delete=True)
    assert [operation.workflow_id for operation in made.operations] == ["a", "b", "z"]
    counts = made.counts()
    assert (counts["create"], counts["unchanged"], counts["delete"]) == (1, 1, 1)
    assert made.has_changes


def test_plan_without_writes_has_no_changes() -> None:
    assert not plan([desired("a")], _managed("a")).has_changes


def test_plan_schedule_alone_matches_make_plan() -> None:
    schedule = desired()
    assert plan_schedule(schedule, None, PassContext(project=PROJECT), NOW).kind is Kind.CREATE
