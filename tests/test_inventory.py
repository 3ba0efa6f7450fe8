"""The inventory between passes: pure functions, no daemon and no gateway needed."""

from __future__ import annotations

from options import plan_options
from test_plan import desired, observed, record_of

from scheduled.format.loader import FileResult
from scheduled.reconcile.apply import ApplyReport, OperationResult, Outcome
from scheduled.reconcile.inventory import (
    Inventory,
    after_writes,
    files_known_after,
    files_sharing_ids,
    ids_for_files,
    with_described,
)
from scheduled.reconcile.plan import Kind, desired_state_from, make_plan

PROJECT = "foo"


def result(schedule_id: str, outcome: Outcome) -> OperationResult:
    return OperationResult(
        schedule_id=schedule_id, workflow_id="", source="", kind=Kind.UPDATE, outcome=outcome
    )


def test_ids_for_files_come_from_the_files_now_before_and_the_recorded_sources() -> None:
    moved = desired("moved", source="old.yaml")
    inventory = Inventory.of([observed(moved, record=record_of(moved, source="old.yaml"))])
    now = [FileResult(relative="a.yaml", workflow_id="a"), FileResult(relative="x.yaml")]
    before = [FileResult(relative="b.yaml", workflow_id="renamed-away")]
    ids = ids_for_files(
        frozenset({"a.yaml", "b.yaml", "old.yaml"}), PROJECT, inventory, now, before
    )
    assert ids == {"schedule-foo-a", "schedule-foo-renamed-away", "schedule-foo-moved"}


def test_described_schedules_replace_their_entries_and_missing_ones_leave() -> None:
    a, b = desired("a"), desired("b")
    inventory = Inventory.of([observed(a), observed(b)])
    fresh = observed(a, note="edited by hand")
    after = with_described(inventory, ["schedule-foo-a", "schedule-foo-b"], {a.schedule_id: fresh})
    assert after.schedules == {a.schedule_id: fresh}
    assert inventory.managed(PROJECT) == 2  # the old value is untouched


def test_writes_are_remembered_as_what_they_leave_in_temporal() -> None:
    kept, created, deleted = desired("kept"), desired("created"), desired("deleted")
    inventory = Inventory.of([observed(kept), observed(deleted)])
    state = desired_state_from([kept, created], project=PROJECT, file_count=2)
    plan = make_plan(state, inventory.schedules.values(), plan_options(PROJECT, commit_time=7))
    report = ApplyReport(
        results=(
            result(created.schedule_id, Outcome.CREATED),
            result(deleted.schedule_id, Outcome.DELETED),
            result(kept.schedule_id, Outcome.UNCHANGED),
        ),
        elapsed_s=0.0,
    )
    after = after_writes(inventory, plan, report)
    assert set(after.schedules) == {kept.schedule_id, created.schedule_id}
    written = after.schedules[created.schedule_id]
    assert written.owner == PROJECT and written.record is not None
    assert (written.record.fingerprint, written.record.commit_time) == (created.fingerprint, 7)
    assert after.managed(PROJECT) == 2


def test_a_failed_write_changes_nothing_in_the_inventory() -> None:
    schedule = desired("job")
    state = desired_state_from([schedule], project=PROJECT, file_count=1)
    plan = make_plan(state, [], plan_options(PROJECT))
    report = ApplyReport(results=(result(schedule.schedule_id, Outcome.FAILED),), elapsed_s=0.0)
    assert after_writes(Inventory(), plan, report).schedules == {}


def test_files_that_share_an_id_with_a_changed_file_change_with_it() -> None:
    before = [
        FileResult(relative="a.yaml", workflow_id="x"),
        FileResult(relative="b.yaml", workflow_id="x"),
        FileResult(relative="c.yaml", workflow_id="y"),
    ]
    assert files_sharing_ids(frozenset({"b.yaml"}), before) == {"a.yaml", "b.yaml"}
    assert files_sharing_ids(frozenset({"new.yaml"}), before) == {"new.yaml"}


def test_a_gone_file_is_remembered_until_a_changed_set_holds_it() -> None:
    a, b = (
        FileResult(relative="a.yaml", workflow_id="x"),
        FileResult(relative="b.yaml", workflow_id="x"),
    )
    known = files_known_after({}, [a, b], None)
    # A pass for another file read the tree after b.yaml went: b.yaml's id is still known.
    known = files_known_after(known, [a], frozenset({"c.yaml"}))
    assert files_sharing_ids(frozenset({"b.yaml"}), known.values()) == {"a.yaml", "b.yaml"}
    # The pass for b.yaml itself (or a full one) forgets it.
    assert set(files_known_after(known, [a], frozenset({"b.yaml"}))) == {"a.yaml"}
    assert set(files_known_after(known, [a], None)) == {"a.yaml"}
