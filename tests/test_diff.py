"""The diff: field-by-field changes of an update, compared as Temporal holds each field."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from test_plan import calendar, desired, observed, only, plan

from scheduled.model.calendar import Interval
from scheduled.model.desired import (
    Action,
    AttributeType,
    DesiredSchedule,
    OverlapPolicy,
    Policies,
    Priority,
    RetryPolicy,
    SearchAttribute,
    Spec,
)
from scheduled.model.observed import Detail, ObservedSchedule
from scheduled.reconcile.diff import field_changes, skip_in_words, spec_in_words, with_changes


def test_a_planned_update_is_explained_as_the_fields_that_changed() -> None:
    old, new = desired(cron="0 9 * * *"), desired(cron="0 10 * * *")
    (operation,) = with_changes(plan([new], [observed(old)])).operations
    assert [change.name for change in operation.changes] == ["when"]


def test_only_updates_are_explained() -> None:
    schedule = desired()
    explained = with_changes(plan([schedule], [observed(schedule)]))
    assert only(explained).changes == ()


def test_spec_in_words_lists_calendars_then_intervals() -> None:
    both = Spec(
        calendars=(calendar("0 9 * * *"),), intervals=(Interval(every=timedelta(minutes=15)),)
    )
    assert spec_in_words(both).endswith("; every 15m")
    assert spec_in_words(Spec()) == "(never)"


def _described(
    schedule: DesiredSchedule, *, action: Action | None = None, policies: Policies | None = None
) -> ObservedSchedule:
    return replace(
        observed(schedule),
        detail=Detail(policies=policies or schedule.policies, action=action or schedule.action),
    )


def test_server_filled_retry_defaults_are_not_a_change() -> None:
    schedule = desired(retry=RetryPolicy(maximum_attempts=3))
    server = RetryPolicy(
        maximum_attempts=3,
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=100),
    )
    seen = _described(schedule, action=replace(schedule.action, retry=server))
    assert field_changes(schedule, seen, paused=False, note="") == []


def test_unlimited_attempts_read_back_as_none_are_not_a_change() -> None:
    schedule = desired(retry=RetryPolicy(maximum_attempts=0))
    server = RetryPolicy(
        maximum_attempts=None,
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=100),
    )
    seen = _described(schedule, action=replace(schedule.action, retry=server))
    assert field_changes(schedule, seen, paused=False, note="") == []


def test_a_real_retry_change_is_shown() -> None:
    schedule = desired(retry=RetryPolicy(maximum_attempts=5))
    before = replace(schedule.action, retry=RetryPolicy(maximum_attempts=3))
    (change,) = field_changes(schedule, _described(schedule, action=before), paused=False, note="")
    assert change.name == "retry"
    assert "maximum_attempts=3" in change.before and "maximum_attempts=5" in change.after


def test_server_default_catchup_window_is_not_a_change() -> None:
    schedule = desired()
    seen = _described(schedule, policies=Policies(catchup_window=timedelta(days=365)))
    assert field_changes(schedule, seen, paused=False, note="") == []


def test_catchup_window_below_the_server_minimum_is_not_a_change() -> None:
    schedule = desired(catchup_window=timedelta(seconds=3))
    seen = _described(schedule, policies=Policies(catchup_window=timedelta(seconds=10)))
    assert field_changes(schedule, seen, paused=False, note="") == []


def test_field_changes_shows_each_described_field() -> None:
    schedule = desired()
    before_action = replace(
        schedule.action,
        task_queue="old",
        args_json='[{"a":1}]',
        memo_json='{"m":1}',
        run_timeout=timedelta(minutes=5),
    )
    before_policies = Policies(
        overlap=OverlapPolicy.ALLOW_ALL, pause_on_failure=True, catchup_window=timedelta(minutes=1)
    )
    seen = replace(
        observed(schedule, paused=True, note="x"),
        detail=Detail(policies=before_policies, action=before_action),
    )
    changes = {
        change.name: (change.before, change.after)
        for change in field_changes(schedule, seen, paused=False, note="")
    }
    assert changes == {
        "paused": ("yes", "no"),
        "note": ("x", '""'),
        "task_queue": ("old", "jobs"),
        "run_timeout": ("5m", "(none)"),
        "input": ('{"a":1}', "(none)"),
        "memo": ('{"m":1}', "{}"),
        "overlap_policy": ("allow_all", "skip"),
        "catchup_window": ("1m", "365d"),
        "pause_on_failure": ("yes", "no"),
    }


def test_when_lists_calendars_and_intervals_apart() -> None:
    schedule = desired()
    both = Spec(
        calendars=(calendar("0 9 * * *"),), intervals=(Interval(every=timedelta(minutes=15)),)
    )
    (change,) = field_changes(schedule, observed(schedule, spec=both), paused=False, note="")
    assert change.name == "when"
    assert change.before.endswith("; every 15m")


def test_comment_only_change_is_shown_as_cron() -> None:
    schedule = desired(cron="0 9 * * *")
    other_comment = Spec(calendars=(replace(calendar("0 9 * * *"), comment="0 9 * * * # old"),))
    changes = field_changes(schedule, observed(schedule, spec=other_comment), paused=False, note="")
    assert [(c.name, c.before, c.after) for c in changes] == [
        ("cron", "0 9 * * * # old", "0 9 * * *")
    ]


def test_the_new_action_fields_are_shown_in_words() -> None:
    schedule = desired()
    after = replace(
        schedule.action,
        args_json='[1,"two"]',
        summary="Nightly",
        details="All of it",
        priority=Priority(priority_key=2, fairness_key="tenant-a", fairness_weight=0.5),
        search_attributes=(
            SearchAttribute(name="Tags", type=AttributeType.KEYWORD_LIST, value=("a", "b")),
            SearchAttribute(name="Tier", type=AttributeType.INT, value=1),
        ),
    )
    wanted = replace(schedule, action=after)
    seen = replace(
        observed(schedule),
        detail=Detail(policies=schedule.policies, action=schedule.action),
    )
    changes = {
        change.name: (change.before, change.after)
        for change in field_changes(wanted, seen, paused=False, note="")
    }
    assert changes == {
        "args": ("[]", '[1,"two"]'),
        "summary": ('""', "Nightly"),
        "details": ('""', "All of it"),
        "priority": ("(default)", "priority_key=2 fairness_key=tenant-a fairness_weight=0.5"),
        "workflow_search_attributes": ('""', "Tags=[a, b], Tier=1"),
    }


def test_one_argument_on_both_sides_is_shown_as_input() -> None:
    schedule = desired()
    before = replace(schedule.action, args_json='[{"a":1}]')
    seen = replace(observed(schedule), detail=Detail(policies=schedule.policies, action=before))
    (change,) = field_changes(
        replace(schedule, action=replace(before, args_json='[{"a":2}]')),
        seen,
        paused=False,
        note="",
    )
    assert (change.name, change.before, change.after) == ("input", '{"a":1}', '{"a":2}')


def test_schedule_search_attributes_are_shown_from_the_list_alone() -> None:
    team = SearchAttribute(name="Team", type=AttributeType.KEYWORD, value="payments")
    tier = SearchAttribute(name="Tier", type=AttributeType.INT, value=7)  # set by someone else
    schedule = replace(desired(), search_attributes=(team,))
    listed = replace(observed(schedule), search_attributes=(replace(team, value="x"), tier))
    (change,) = field_changes(schedule, listed, paused=False, note="")
    assert (change.name, change.before, change.after) == (
        "search_attributes",
        "Team=x",
        "Team=payments",
    )


def test_an_exclusion_change_is_shown_as_skip_in_the_files_words() -> None:
    schedule = desired()
    christmas = replace(calendar("0 0 25 12 *"), comment="2026-12-25")
    weekends = replace(calendar("0 0 * * 0,6"), comment="* * * * 0,6")
    with_skip = replace(schedule, spec=replace(schedule.spec, skip=(christmas, weekends)))
    before = observed(schedule, spec=replace(schedule.spec, skip=(christmas,)))
    changes = field_changes(with_skip, before, paused=False, note="")
    assert [(c.name, c.before, c.after) for c in changes] == [
        ("skip", "2026-12-25", "2026-12-25; * * * * 0,6")
    ]


def test_the_calendars_of_one_range_are_one_skip_entry_in_words() -> None:
    split = tuple(
        replace(calendar(cron), comment="2026-12-30 to 2027-01-02")
        for cron in ("0 0 30-31 12 *", "0 0 1-2 1 *")
    )
    assert skip_in_words(Spec(skip=split)) == "2026-12-30 to 2027-01-02"
    assert skip_in_words(Spec()) == "(none)"
