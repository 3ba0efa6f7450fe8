"""Adopt with the in-memory gateway: take over an unmarked schedule by re-creating it."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from fakes import FakeGateway
from test_plan import desired, observed

from scheduled.format.diagnostics import Diagnostic, Severity
from scheduled.format.loader import FileResult, LoadResult
from scheduled.model.desired import DesiredSchedule
from scheduled.reconcile.adopt import Adopted, AdoptError, adopt
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
