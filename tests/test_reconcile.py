"""One pass through reconcile_pass with the in-memory gateway: the phases and their overlap."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from fakes import FakeGateway
from trees import workflow_yaml, write_workflow

from scheduled.apply import ApplyOptions, Outcome
from scheduled.gateway import TransientGatewayError
from scheduled.loader import LoadOptions, LoadResult, load_tree
from scheduled.plan import PlanOptions
from scheduled.reconcile import PassResult, reconcile_pass

PROJECT = "proj"


def _tree(root: Path) -> Path:
    write_workflow(root, "a.yaml", workflow_yaml("a", cron="0 9 * * *"))
    write_workflow(root, "b.yaml", workflow_yaml("b", every="15m"))
    return root


def _pass(load: Callable[[], LoadResult], gateway: FakeGateway) -> PassResult:
    async def run() -> PassResult:
        return await reconcile_pass(
            load,
            gateway,
            plan_options=PlanOptions(project=PROJECT, now=datetime.now(UTC)),
            apply_options=ApplyOptions(project=PROJECT),
        )

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
