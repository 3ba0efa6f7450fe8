"""One reconcile pass in clear phases: load → observe → plan → apply → report.

Shared by the one-shot commands (`plan`, `apply`) and the daemon, so both make the same
decisions. Each phase is a call into the module that owns it; this module only sequences them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import anyio

from scheduled.apply import ApplyOptions, ApplyReport, Result, apply_plan
from scheduled.gateway import ScheduleGateway
from scheduled.loader import LoadResult
from scheduled.model import schedule_id_prefix
from scheduled.observed import ObservedSchedule
from scheduled.plan import DesiredState, Plan, PlanOptions, desired_state_from, make_plan


@dataclass(frozen=True, slots=True)
class Revision:
    """Which version of the tree is applied: a git commit, or a git-sync link target."""

    name: str = ""
    generation: int = 0  # commit time (seconds); orders revisions between replicas


def tree_revision(root: Path) -> Revision:
    """The git commit (and its time) when root is a checkout, else the link target's name."""
    try:
        output = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%H %ct"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        output = None
    if output is not None and output.returncode == 0 and output.stdout.strip():
        commit, _, seconds = output.stdout.strip().partition(" ")
        return Revision(commit[:12], int(seconds) if seconds.isdigit() else 0)
    if root.is_symlink():
        return Revision(root.resolve().name)
    return Revision()


def desired_state(load: LoadResult, project: str, scope: Iterable[str] | None = None) -> DesiredState:
    return desired_state_from(
        load.desired.values(),
        invalid_sources=load.invalid_files,
        claimed_workflow_ids=load.claimed_ids,
        project=project,
        readable=load.readable,
        file_count=len(load.files),
        scope=scope,
    )


async def observe(gateway: ScheduleGateway, project: str) -> list[ObservedSchedule]:
    return await gateway.list_schedules(schedule_id_prefix(project))


@dataclass(frozen=True, slots=True, kw_only=True)
class PassResult:
    plan: Plan
    report: ApplyReport


async def reconcile_pass(
    load: LoadResult,
    gateway: ScheduleGateway,
    *,
    plan_options: PlanOptions,
    apply_options: ApplyOptions,
    scope: Iterable[str] | None = None,
    stop: anyio.Event | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> PassResult:
    """Observe Temporal, plan against the loaded tree, apply. Gateway errors of the list call
    propagate (nothing can be decided without it); per-schedule errors are in the report."""
    observed = await observe(gateway, plan_options.project)
    plan = make_plan(desired_state(load, plan_options.project, scope), observed, plan_options)
    if on_plan is not None:
        on_plan(plan)
    report = await apply_plan(plan, gateway, apply_options, stop=stop, on_result=on_result)
    return PassResult(plan=plan, report=report)


def now_utc() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
