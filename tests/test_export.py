"""`export_tree` with the in-memory gateway: one file per hand-made schedule, never over a file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import anyio
from fakes import FakeGateway
from test_format_export import hand_made
from test_plan import desired, observed

from scheduled.format.loader import LoadOptions, LoadResult, load_tree
from scheduled.reconcile.export import ExportReport, Status, export_tree
from scheduled.reconcile.gateway import PermanentGatewayError

PROJECT = "foo"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def export(fake: FakeGateway, root: Path, *, query: str = "") -> ExportReport:
    load = load_tree(root, LoadOptions(project=PROJECT), now=NOW)

    async def main() -> ExportReport:
        return await export_tree(load, fake, project=PROJECT, now=NOW, query=query)

    return anyio.run(main)


def statuses(report: ExportReport) -> dict[str, Status]:
    return {result.schedule_id: result.status for result in report.results}


def loads(root: Path) -> LoadResult:
    return load_tree(root, LoadOptions(project=PROJECT), now=NOW)


def test_each_hand_made_schedule_gets_a_file_that_validates(tmp_path: Path) -> None:
    fake = FakeGateway()
    fake.foreign["schedule-foo-report"] = hand_made("schedule-foo-report")
    fake.foreign["nightly"] = hand_made("nightly")
    report = export(fake, tmp_path, query='TaskQueue = "reports"')
    assert statuses(report) == {"nightly": Status.WRITTEN, "schedule-foo-report": Status.WRITTEN}
    assert report.complete
    assert fake.queries == ['TaskQueue = "reports"']
    assert sorted(path.name for path in tmp_path.iterdir()) == ["nightly.yaml", "report.yaml"]
    tree = loads(tmp_path)
    assert tree.error_count == 0
    assert {schedule.schedule_id for schedule in tree.desired.values()} == {
        "schedule-foo-report",  # the same schedule: adopt takes it over in place
        "schedule-foo-nightly",  # a new id: said plainly in the report
    }
    (moved,) = [result for result in report.results if not result.in_place]
    assert moved.schedule_id == "nightly"
    assert any(note.startswith("NOT ADOPTABLE IN PLACE") for note in moved.notes)


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "report.yaml").write_text("# someone's notes, not a workflow\n")
    fake = FakeGateway()
    fake.foreign["schedule-foo-report"] = hand_made("schedule-foo-report")
    report = export(fake, tmp_path)
    (result,) = report.results
    assert (result.status, result.file) == (Status.SKIPPED, "report.yaml")
    assert "never overwritten" in result.reasons[0]
    assert (tmp_path / "report.yaml").read_text() == "# someone's notes, not a workflow\n"
    assert not report.complete


def test_exporting_twice_writes_nothing_the_second_time(tmp_path: Path) -> None:
    fake = FakeGateway()
    fake.foreign["schedule-foo-report"] = hand_made("schedule-foo-report")
    assert statuses(export(fake, tmp_path)) == {"schedule-foo-report": Status.WRITTEN}
    written = (tmp_path / "report.yaml").read_text()
    again = export(fake, tmp_path)
    assert statuses(again) == {"schedule-foo-report": Status.IN_TREE}
    assert again.results[0].file == "report.yaml" and again.complete
    assert (tmp_path / "report.yaml").read_text() == written


def test_managed_schedules_are_left_to_their_trees(tmp_path: Path) -> None:
    fake = FakeGateway()
    fake.foreign["schedule-bar-job"] = observed(desired("job", project="bar"), owner="bar")
    report = export(fake, tmp_path)
    assert statuses(report) == {"schedule-bar-job": Status.MANAGED}
    assert report.complete and list(tmp_path.iterdir()) == []
    assert fake.calls["describe"] == 0  # the list says who owns it: nothing to describe


def test_two_schedules_with_one_file_id_give_it_to_the_one_that_keeps_its_id(
    tmp_path: Path,
) -> None:
    fake = FakeGateway()
    fake.foreign["report"] = hand_made("report")
    fake.foreign["schedule-foo-report"] = hand_made("schedule-foo-report")
    report = export(fake, tmp_path)
    assert statuses(report) == {"report": Status.SKIPPED, "schedule-foo-report": Status.WRITTEN}
    assert "exported in this run" in report.results[0].reasons[0]


def test_what_cannot_be_exported_is_reported_and_the_rest_still_written(tmp_path: Path) -> None:
    fake = FakeGateway()
    fake.foreign["schedule-foo-tagged"] = hand_made(
        "schedule-foo-tagged", unsupported=("search attributes (Team)",)
    )
    fake.foreign["schedule-foo-broken"] = hand_made("schedule-foo-broken")
    fake.fail("describe", "schedule-foo-broken", PermanentGatewayError("cannot decode", status="X"))
    fake.foreign["schedule-foo-fine"] = hand_made("schedule-foo-fine")
    report = export(fake, tmp_path)
    assert statuses(report) == {
        "schedule-foo-broken": Status.REFUSED,
        "schedule-foo-fine": Status.WRITTEN,
        "schedule-foo-tagged": Status.REFUSED,
    }
    reasons = {result.schedule_id: result.reasons for result in report.of(Status.REFUSED)}
    assert reasons["schedule-foo-broken"] == ("it could not be described: cannot decode",)
    assert "search attributes (Team)" in reasons["schedule-foo-tagged"][0]
    assert not report.complete
