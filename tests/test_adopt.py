"""Adopt with the in-memory gateway: take over an unmarked schedule by re-creating it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from fakes import FakeGateway
from test_format_export import hand_made
from test_plan import desired, observed

from scheduled.format.diagnostics import Diagnostic, Severity
from scheduled.format.loader import FileResult, LoadResult
from scheduled.model.desired import DesiredSchedule
from scheduled.reconcile.adopt import (
    Adopted,
    AdoptError,
    AdoptionPlan,
    adopt,
    adopt_planned,
    plan_adoption,
)
from scheduled.reconcile.gateway import PermanentGatewayError
from scheduled.temporal.marker import ownership_memo

PROJECT = "foo"
run = anyio.run


def _loaded(
    *schedules: DesiredSchedule, invalid: dict[str, str | None] | None = None
) -> LoadResult:
    files = [
        FileResult(relative=s.source, workflow_id=s.workflow_id, schedule=s) for s in schedules
    ]
    error = Diagnostic(file="x", line=1, column=1, severity=Severity.ERROR, code="c", message="m")
    files += [
        FileResult(relative=name, workflow_id=workflow_id, diagnostics=(error,))
        for name, workflow_id in (invalid or {}).items()
    ]
    return LoadResult(
        root=Path("."), files=tuple(files), desired={s.workflow_id: s for s in schedules}
    )


def test_adopt_recreates_an_unmarked_schedule_with_the_marker() -> None:
    fake = FakeGateway()
    fake.foreign["schedule-foo-job"] = observed(desired("job"), owner=None, record=None)

    async def main() -> Adopted:
        return await adopt(_loaded(desired("job")), fake, project=PROJECT, workflow_id="job")

    adopted = run(main)
    assert (adopted.schedule_id, adopted.already_managed) == ("schedule-foo-job", False)
    assert "schedule-foo-job" not in fake.foreign
    assert fake.stored["schedule-foo-job"].memo == ownership_memo(PROJECT)
    assert (fake.calls["delete"], fake.calls["create"]) == (1, 1)


def test_adopt_that_cannot_create_again_says_how_to_recover() -> None:
    fake = FakeGateway()
    fake.foreign["schedule-foo-job"] = observed(desired("job"), owner=None, record=None)
    fake.fail(
        "create", "schedule-foo-job", PermanentGatewayError("denied", status="PERMISSION_DENIED")
    )

    async def main() -> None:
        await adopt(_loaded(desired("job")), fake, project=PROJECT, workflow_id="job")

    with pytest.raises(AdoptError, match="was deleted but could not be created again"):
        run(main)


@pytest.mark.parametrize(
    ("load", "message"),
    [
        (_loaded(), "no valid workflow file"),
        (_loaded(invalid={"job.yaml": "job"}), "is invalid"),
    ],
)
def test_adopt_needs_a_valid_file(load: LoadResult, message: str) -> None:
    async def main() -> None:
        await adopt(load, FakeGateway(), project=PROJECT, workflow_id="job")

    with pytest.raises(AdoptError, match=message):
        run(main)


# -- adopt --all ---------------------------------------------------------------------------


def _plan(fake: FakeGateway, load: LoadResult) -> AdoptionPlan:
    async def main() -> AdoptionPlan:
        return await plan_adoption(load, fake, project=PROJECT)

    return run(main)


def _carry_out(fake: FakeGateway, plan: AdoptionPlan, stop: anyio.Event | None = None) -> Any:
    async def main() -> Any:
        return await adopt_planned(plan, fake, stop=stop)

    return run(main)


def test_the_plan_names_what_is_adopted_refused_and_left_alone() -> None:
    fake = FakeGateway()
    handmade = hand_made("schedule-foo-job", note="by hand", paused=True)
    fake.foreign["schedule-foo-job"] = handmade
    fake.foreign["schedule-foo-theirs"] = observed(desired("theirs"), owner="bar")
    fake.foreign["schedule-foo-broken"] = observed(desired("broken"), owner=None, record=None)
    fake.foreign["schedule-foo-stray"] = observed(desired("stray"), owner=None, record=None)
    fake.foreign["schedule-foo-bar-x"] = observed(desired("x", project="foo-bar"), owner="foo-bar")
    load = _loaded(desired("job"), desired("theirs"), invalid={"broken.yaml": "broken"})
    plan = _plan(fake, load)
    (candidate,) = plan.candidates
    assert candidate.schedule.schedule_id == "schedule-foo-job"
    changes = {change.name: (change.before, change.after) for change in candidate.changes}
    assert changes["paused"] == ("yes", "no") and changes["note"] == ("by hand", '""')
    assert changes["workflow_id"] == ("foo-report", "foo-job")
    assert [(refusal.schedule_id, refusal.reason) for refusal in plan.refused] == [
        ("schedule-foo-broken", "its file is invalid; fix it first"),
        ("schedule-foo-theirs", "it belongs to project 'bar'"),
    ]
    assert plan.unmatched == ("schedule-foo-stray",)  # another project's is not even named
    assert fake.writes == 0  # a plan writes nothing


def test_what_the_re_create_drops_is_listed_as_lost() -> None:
    fake = FakeGateway()
    fake.foreign["schedule-foo-job"] = hand_made(
        "schedule-foo-job", unsupported=("search attributes (Team)",)
    )
    (candidate,) = _plan(fake, _loaded(desired("job"))).candidates
    assert candidate.lost == ("search attributes (Team)",)


def test_adopt_all_re_creates_every_candidate_and_journals_the_writes() -> None:
    fake = FakeGateway()
    for workflow_id in ("a", "b"):
        fake.foreign[f"schedule-foo-{workflow_id}"] = hand_made(f"schedule-foo-{workflow_id}")
    plan = _plan(fake, _loaded(desired("a"), desired("b")))
    report = _carry_out(fake, plan)
    assert [result.schedule_id for result in report.adopted] == ["schedule-foo-a", "schedule-foo-b"]
    assert report.failed == [] and report.journal_error == ""
    assert {key: stored.memo for key, stored in fake.stored.items()} == {
        "schedule-foo-a": ownership_memo(PROJECT),
        "schedule-foo-b": ownership_memo(PROJECT),
    }
    assert set(fake.journals[PROJECT]) == {"schedule-foo-a", "schedule-foo-b"}
    again = _plan(fake, _loaded(desired("a"), desired("b")))
    assert (again.candidates, again.managed) == ((), 2)


def test_one_failed_adoption_does_not_stop_the_others() -> None:
    fake = FakeGateway()
    for workflow_id in ("a", "b"):
        fake.foreign[f"schedule-foo-{workflow_id}"] = hand_made(f"schedule-foo-{workflow_id}")
    fake.fail("create", "schedule-foo-a", PermanentGatewayError("denied", status="DENIED"))
    report = _carry_out(fake, _plan(fake, _loaded(desired("a"), desired("b"))))
    (failed,) = report.failed
    assert failed.schedule_id == "schedule-foo-a"
    assert "was deleted but could not be created again" in failed.error
    assert [result.schedule_id for result in report.adopted] == ["schedule-foo-b"]


def test_a_stop_before_the_start_adopts_nothing() -> None:
    fake = FakeGateway()
    fake.foreign["schedule-foo-a"] = hand_made("schedule-foo-a")
    plan = _plan(fake, _loaded(desired("a")))
    stop = anyio.Event()
    stop.set()
    report = _carry_out(fake, plan, stop)
    assert report.stopped and report.adopted == [] and fake.writes == 0
