"""`converged` is never a lie: right after a pass wrote, the next one (in another process too)
reads what was written with describe, not from the list that lags behind in content."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from reconcile_helpers import Env, run_env

from scheduled.reconcile.journal import WINDOW_S, recently_written, with_writes

pytestmark = pytest.mark.temporal

COUNT = 500  # the case: enough for the list to lag behind most of them


def _apply_in_a_process(root: Path, project: str, address: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCHEDULED_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scheduled",
            "apply",
            str(root),
            "--project",
            project,
            "--address",
            address,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=root.parent,
        check=False,
    )


@pytest.mark.timeout(600)  # 1,500 writes and 1,000 describes on a shared 2-core machine
def test_a_revert_right_after_an_apply_by_another_process_converges_for_real(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    root = tmp_path / "tree"
    names = [f"job-{index:03d}" for index in range(COUNT)]

    async def create(env: Env) -> None:
        for name in names:
            env.write(name, cron="0 9 * * *", note="v1")
        await env.apply_and_settle()
        for name in names:  # the change, applied by the first process below
            env.write(name, cron="0 9 * * *", note="v2")

    run_env(temporal_address, project_name, root, create)
    first = _apply_in_a_process(root, project_name, temporal_address)
    assert first.returncode == 0, first.stderr

    async def revert(env: Env) -> None:
        for name in names:
            env.write(name, cron="0 9 * * *", note="v1")

    run_env(temporal_address, project_name, root, revert)
    second = _apply_in_a_process(root, project_name, temporal_address)
    assert second.returncode == 0, second.stderr  # it says converged: check that it is

    async def check(env: Env) -> None:
        notes: dict[str, str] = {}
        limiter = anyio.CapacityLimiter(16)

        async def one(name: str) -> None:
            async with limiter:
                notes[name] = (await env.describe(name)).schedule.state.note or ""

        async with anyio.create_task_group() as group:
            for name in names:
                group.start_soon(one, name)
        stale = sorted(name for name, note in notes.items() if note != "v1")
        assert stale == [], f"{len(stale)} schedules still hold the reverted-away note"

    run_env(temporal_address, project_name, root, check)


def test_the_journal_keeps_only_the_window() -> None:
    journal = with_writes({"old": 0.0, "recent": 1000.0}, ["new"], now=1000.0 + WINDOW_S - 1)
    assert set(journal) == {"recent", "new"}
    assert recently_written(journal, now=1000.0 + WINDOW_S + 1) == {"new"}
