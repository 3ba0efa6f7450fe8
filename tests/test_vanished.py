"""Held files: a vanished `schedule:` block or a gone file is deleted only when a second look
sees the same file, or the same absence."""

from __future__ import annotations

import os
from pathlib import Path

from scheduled.daemon.vanished import HeldFiles
from scheduled.reconcile.plan import HELD_GONE, HELD_VANISHED, Kind, Operation, PassContext, Plan


def plan_holding(*sources: str, reason: str = HELD_VANISHED) -> Plan:
    return Plan(
        operations=tuple(
            Operation(
                kind=Kind.SKIP,
                schedule_id=f"p:{source}",
                workflow_id=source,
                source=source,
                reasons=(reason,),
            )
            for source in sources
        ),
        managed=len(sources),
        context=PassContext(project="p"),
    )


def write(root: Path, name: str, text: str, mtime_ns: int = 1_000_000_000) -> None:
    (root / name).write_text(text)
    os.utime(root / name, ns=(mtime_ns, mtime_ns))


def test_a_newly_held_file_is_looked_at_again(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "id: a\n")
    held = HeldFiles(tmp_path)
    assert held.after_pass(plan_holding("a.yaml"), frozenset()) == {"a.yaml"}


def test_an_unchanged_held_file_is_confirmed(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "id: a\n")
    held = HeldFiles(tmp_path)
    held.after_pass(plan_holding("a.yaml"), frozenset())
    assert held.unchanged() == {"a.yaml"}


def test_a_held_file_written_again_is_not_confirmed(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "id: a\n")
    held = HeldFiles(tmp_path)
    held.after_pass(plan_holding("a.yaml"), frozenset())
    write(tmp_path, "a.yaml", "id: a\nschedule:\n", mtime_ns=2_000_000_000)
    assert held.unchanged() == frozenset()


def test_a_held_file_still_held_but_changed_gets_another_look(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "id: a\n")
    held = HeldFiles(tmp_path)
    held.after_pass(plan_holding("a.yaml"), frozenset())
    write(tmp_path, "a.yaml", "id: a \n", mtime_ns=2_000_000_000)
    assert held.after_pass(plan_holding("a.yaml"), frozenset()) == {"a.yaml"}


def test_a_held_file_seen_again_unchanged_needs_no_further_look(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "id: a\n")
    held = HeldFiles(tmp_path)
    held.after_pass(plan_holding("a.yaml"), frozenset())
    assert held.after_pass(plan_holding("a.yaml"), frozenset()) == frozenset()


def test_a_file_no_longer_held_is_forgotten(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "id: a\n")
    held = HeldFiles(tmp_path)
    held.after_pass(plan_holding("a.yaml"), frozenset())
    held.after_pass(plan_holding(), frozenset())  # its block came back
    assert held.unchanged() == frozenset()


def test_a_confirmed_file_is_forgotten(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "id: a\n")
    held = HeldFiles(tmp_path)
    held.after_pass(plan_holding("a.yaml"), frozenset())
    held.after_pass(plan_holding(), frozenset({"a.yaml"}))  # deleted
    assert held.unchanged() == frozenset()


def test_a_gone_file_still_gone_a_quiet_period_later_is_confirmed(tmp_path: Path) -> None:
    held = HeldFiles(tmp_path)
    assert held.after_pass(plan_holding("a.yaml", reason=HELD_GONE), frozenset()) == {"a.yaml"}
    assert held.unchanged() == {"a.yaml"}


def test_a_gone_file_that_is_back_is_not_confirmed(tmp_path: Path) -> None:
    held = HeldFiles(tmp_path)
    held.after_pass(plan_holding("a.yaml", reason=HELD_GONE), frozenset())
    write(tmp_path, "a.yaml", "id: a\nschedule:\n")  # the second half of a move or checkout
    assert held.unchanged() == frozenset()
