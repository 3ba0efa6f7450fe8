"""The one reconcile pass with the in-memory gateway: its phases, their overlap, and what each
caller's parameters change (observer, explain, apply or not)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from fakes import FakeGateway
from options import plan_options
from test_apply import plan_for, run
from test_plan import desired
from trees import workflow_yaml, write_workflow

from scheduled.format.loader import LoadOptions, LoadResult, load_tree
from scheduled.reconcile.apply import ApplyOptions, Outcome, apply_plan
from scheduled.reconcile.diff import with_changes
from scheduled.reconcile.gateway import TransientGatewayError
from scheduled.reconcile.phases import (
    JOURNAL_READ_ATTEMPTS,
    PassResult,
    reconcile_pass,
    with_detail,
)

PROJECT = "proj"


def _tree(root: Path) -> Path:
    write_workflow(root, "a.yaml", workflow_yaml("a", cron="0 9 * * *"))
    write_workflow(root, "b.yaml", workflow_yaml("b", every="15m"))
    return root


def _pass(load: Callable[[], LoadResult], gateway: FakeGateway) -> PassResult:
    async def run() -> PassResult:
        return await reconcile_pass(load, gateway, plan_options(PROJECT), apply=ApplyOptions())

    return anyio.run(run)


def test_a_load_function_runs_in_a_worker_thread_and_its_result_is_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    threads: list[str] = []

    def load() -> LoadResult:
        threads.append(threading.current_thread().name)
        return load_tree(root, LoadOptions(project=PROJECT))

    result = _pass(load, FakeGateway())
    assert threads and threads[0] != threading.main_thread().name
    assert set(result.load.desired) == {"a", "b"}
    outcomes = {r.workflow_id: r.outcome for r in result.report.results}
    assert outcomes == {"a": Outcome.CREATED, "b": Outcome.CREATED}


def test_a_failing_list_is_raised_as_itself_not_as_an_exception_group(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    gateway = FakeGateway()
    gateway.fail("list", "", TransientGatewayError("down", status="UNAVAILABLE"))
    with pytest.raises(TransientGatewayError):
        _pass(lambda: load_tree(root, LoadOptions(project=PROJECT)), gateway)
    assert gateway.writes == 0


def test_with_detail_adds_described_changes_and_keeps_the_list_view_on_failure() -> None:
    fake = FakeGateway()

    async def main() -> None:
        await apply_plan(await plan_for(fake, [desired("a"), desired("b")]), fake, ApplyOptions())
        made = await plan_for(fake, [desired("a", note="new"), desired("b", note="new")])
        fake.fail("describe", "schedule-foo-b", TransientGatewayError("down", status="UNAVAILABLE"))
        detailed = with_changes(await with_detail(made, fake))
        a, b = detailed.operations
        assert a.observed is not None and a.observed.detail is not None
        assert [change.name for change in a.changes] == ["note"]
        assert b.observed is not None and b.observed.detail is None  # list view kept

    run(main)


def test_without_a_journal_every_managed_schedule_is_described(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    gateway = FakeGateway()
    _pass(lambda: load_tree(root, LoadOptions(project=PROJECT)), gateway)
    gateway.journals.clear()  # as if nothing was written lately
    gateway.calls.clear()
    _pass(lambda: load_tree(root, LoadOptions(project=PROJECT)), gateway)
    assert gateway.calls["describe"] == 0
    down = TransientGatewayError("busy", status="DEADLINE_EXCEEDED")
    gateway.fail("journal_read", PROJECT, *[down] * JOURNAL_READ_ATTEMPTS)
    result = _pass(lambda: load_tree(root, LoadOptions(project=PROJECT)), gateway)
    assert gateway.calls["describe"] == 2  # the journal could not be read: trust no list entry
    assert result.report is not None and result.report.converged
