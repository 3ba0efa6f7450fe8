"""Benchmark: scheduled's reconcile path vs bare Temporal SDK loops, in one run, on one server.

Starts its own `temporal server start-dev` (scheduled.devserver), then measures, at the same
concurrency on both sides:

1. cold apply of N new schedules (load_tree + reconcile_pass) vs N bare `create_schedule` calls
   (target ratio <= 1.15, and under 30 s absolute);
2. N changed schedules (edit every file, reload, reconcile) vs N raw `UpdateSchedule` RPCs
   (target ratio <= 1.3);
3. a no-op resync of N (reload + reconcile_pass, nothing changed) vs a bare `list_schedules`
   iteration over the very same ids (target ratio <= 1.5, and zero writes).

Each figure is the median of --reps repetitions (--noop-reps for phase 3), baseline and
scheduled alternating in order (B/S, S/B, ...) to spread drift. Every repetition uses fresh ids,
and each phase its own id prefix. Phases 1 and 2 are also run once at ApplyOptions' default
rate limit (informational: the main figures use --rate-limit so the limiter does not bind).

    .venv/bin/python bench/bench_reconcile.py                  # full run, N = 1000
    .venv/bin/python bench/bench_reconcile.py --count 50 --reps 1   # smoke test
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import temporalio.api.workflowservice.v1 as workflowservice
import temporalio.client as tc
import temporalio.common

from scheduled.devserver import DevServer, start_dev_server, temporal_cli
from scheduled.format.loader import LoadOptions, LoadResult, load_tree
from scheduled.format.revision import tree_revision
from scheduled.model.desired import OverlapPolicy
from scheduled.model.observed import ObservedSchedule
from scheduled.reconcile.apply import ApplyOptions
from scheduled.reconcile.gateway import ScheduleGateway, ScheduleWrite, TransientGatewayError
from scheduled.reconcile.phases import ListAll, reconcile_pass
from scheduled.reconcile.plan import PassContext, Plan, PlanOptions
from scheduled.temporal.gateway import TemporalGateway

REPO = Path(__file__).resolve().parent.parent
DEFAULT_JSON = REPO / "bench" / "out" / "reconcile.json"
RUN_ID = uuid.uuid4().hex[:6]

# -- the generated workload ----------------------------------------------------------------

# Crons and intervals that never fire during the run (no worker polls the task queues).
_ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney")
_OVERLAPS = ("skip", "buffer_one", "allow_all", "cancel_other", "buffer_all", "terminate_other")


@dataclass(frozen=True, slots=True)
class Item:
    """One workflow, as the parameters both sides build their schedule from."""

    workflow_id: str
    crons: tuple[str, ...]  # empty: an `every` schedule
    every_h: int
    offset_m: int
    zone: str
    jitter_s: int
    overlap: str
    input: dict[str, Any]
    retry_attempts: int  # 0: no retry block
    memo: dict[str, Any]
    note: str


def make_item(index: int, version: int) -> Item:
    kind = index % 5
    minute = (index * 7 + version * 13) % 60
    hour = (index + version * 5) % 24
    crons: tuple[str, ...]
    if kind == 0:
        crons = (f"{minute} {hour} * * 1-5",)
    elif kind == 1:
        crons = (f"{minute} {hour} * * MON",)
    elif kind == 2:
        crons = ()
    elif kind == 3:
        crons = (f"{minute} {hour} {index % 28 + 1} * *",)
    else:
        crons = (f"{minute} {hour} * * SAT", f"{(minute + 30) % 60} {hour} * * SUN")
    return Item(
        workflow_id=f"wf-{index:05d}",
        crons=crons,
        every_h=6 + index % 18,
        offset_m=(index + version) % 60,
        zone="UTC" if kind == 2 else _ZONES[index % len(_ZONES)],
        jitter_s=(index % 4) * 15,
        overlap=_OVERLAPS[index % len(_OVERLAPS)],
        input={"n": index, "version": version, "region": ["eu", "us"][index % 2]},
        retry_attempts=3 if index % 3 == 0 else 0,
        memo={"team": f"team-{index % 7}"} if index % 4 == 0 else {},
        note=f"bench schedule {index} v{version}",
    )


def item_yaml(item: Item, workflow_type: str, task_queue: str) -> str:
    lines = [
        f"id: {item.workflow_id}",
        f"workflow: {workflow_type}",
        f"task_queue: {task_queue}",
        "schedule:",
    ]
    if item.crons:
        lines.append(f"  cron: {json.dumps(list(item.crons))}")
    else:
        lines += [f"  every: {item.every_h}h", f"  offset: {item.offset_m}m"]
    lines.append(f"  timezone: {item.zone}")
    if item.jitter_s:
        lines.append(f"  jitter: {item.jitter_s}s")
    lines += [
        f"  overlap_policy: {item.overlap}",
        "  catchup_window: 10m",
        f"  input: {json.dumps(item.input, sort_keys=True)}",
        "  execution_timeout: 1h",
    ]
    if item.retry_attempts:
        lines.append(
            f"  retry: {{maximum_attempts: {item.retry_attempts}, initial_interval: 1s, "
            "backoff_coefficient: 2, maximum_interval: 1m}"
        )
    if item.memo:
        lines.append(f"  memo: {json.dumps(item.memo, sort_keys=True)}")
    lines.append(f"  note: {json.dumps(item.note)}")
    return "\n".join(lines) + "\n"


def write_tree(root: Path, items: list[Item], workflow_type: str, task_queue: str) -> None:
    """One file per workflow, spread over a few folders like a real repository."""
    for number, item in enumerate(items):
        folder = root / f"team-{number % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{item.workflow_id}.yaml").write_text(
            item_yaml(item, workflow_type, task_queue), encoding="utf-8"
        )


_SDK_OVERLAP = {
    "skip": tc.ScheduleOverlapPolicy.SKIP,
    "buffer_one": tc.ScheduleOverlapPolicy.BUFFER_ONE,
    "buffer_all": tc.ScheduleOverlapPolicy.BUFFER_ALL,
    "cancel_other": tc.ScheduleOverlapPolicy.CANCEL_OTHER,
    "terminate_other": tc.ScheduleOverlapPolicy.TERMINATE_OTHER,
    "allow_all": tc.ScheduleOverlapPolicy.ALLOW_ALL,
}


def sdk_schedule(item: Item, workflow_id: str, workflow_type: str, task_queue: str) -> tc.Schedule:
    """The same schedule, built the way a bare SDK user would (cron strings, server-compiled)."""
    return tc.Schedule(
        action=tc.ScheduleActionStartWorkflow(
            workflow_type,
            item.input,
            id=workflow_id,
            task_queue=task_queue,
            execution_timeout=timedelta(hours=1),
            retry_policy=temporalio.common.RetryPolicy(
                initial_interval=timedelta(seconds=1),
                backoff_coefficient=2.0,
                maximum_interval=timedelta(minutes=1),
                maximum_attempts=item.retry_attempts,
            )
            if item.retry_attempts
            else None,
            memo=item.memo or None,
        ),
        spec=tc.ScheduleSpec(
            cron_expressions=list(item.crons),
            intervals=[]
            if item.crons
            else [
                tc.ScheduleIntervalSpec(
                    every=timedelta(hours=item.every_h), offset=timedelta(minutes=item.offset_m)
                )
            ],
            jitter=timedelta(seconds=item.jitter_s) if item.jitter_s else None,
            time_zone_name=item.zone,
        ),
        policy=tc.SchedulePolicy(
            overlap=_SDK_OVERLAP[item.overlap], catchup_window=timedelta(minutes=10)
        ),
        state=tc.ScheduleState(note=item.note),
    )


# -- a counting gateway --------------------------------------------------------------------


@dataclass(slots=True)
class CountingGateway:
    """Counts and times the calls scheduled makes, so writes and describes can be asserted."""

    inner: ScheduleGateway
    calls: Counter[str] = field(default_factory=Counter)
    list_s: float = 0.0

    @property
    def writes(self) -> int:
        return self.calls["create"] + self.calls["update"] + self.calls["delete"]

    async def list_schedules(self, id_prefix: str, *, query: str = "") -> list[ObservedSchedule]:
        self.calls["list"] += 1
        started = time.perf_counter()
        try:
            return await self.inner.list_schedules(id_prefix, query=query)
        finally:
            self.list_s += time.perf_counter() - started

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        self.calls["describe"] += 1
        return await self.inner.describe(schedule_id)

    async def check_health(self) -> None:
        await self.inner.check_health()

    async def run_status(self, workflow_id: str) -> str:
        self.calls["run_status"] += 1
        return await self.inner.run_status(workflow_id)

    async def read_journal(self, project: str) -> dict[str, float]:
        self.calls["journal_read"] += 1
        return await self.inner.read_journal(project)

    async def write_journal(self, project: str, journal: Mapping[str, float]) -> None:
        self.calls["journal_write"] += 1
        await self.inner.write_journal(project, journal)

    async def create(self, write: ScheduleWrite) -> None:
        self.calls["create"] += 1
        await self.inner.create(write)

    async def update(self, write: ScheduleWrite) -> None:
        self.calls["update"] += 1
        await self.inner.update(write)

    async def delete(self, schedule_id: str) -> None:
        self.calls["delete"] += 1
        await self.inner.delete(schedule_id)

    async def trigger(self, schedule_id: str, *, overlap: OverlapPolicy | None = None) -> None:
        self.calls["trigger"] += 1
        await self.inner.trigger(schedule_id, overlap=overlap)

    async def backfill(
        self,
        schedule_id: str,
        *,
        start: datetime,
        end: datetime,
        overlap: OverlapPolicy | None = None,
    ) -> None:
        self.calls["backfill"] += 1
        await self.inner.backfill(schedule_id, start=start, end=end, overlap=overlap)


# -- the two sides -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    count: int
    concurrency: int
    rate_limit: float
    reps: int
    noop_reps: int
    workdir: Path
    profile: bool
    skip_default_rate: bool
    only: frozenset[int] = frozenset({1, 2, 3, 4, 5})


@dataclass(slots=True)
class ScheduledRun:
    """One scheduled measurement, with where its time went."""

    total_s: float
    load_s: float
    list_s: float
    plan_s: float
    apply_s: float
    load_cpu_s: float  # process CPU of the load: wall >> CPU means the machine was contended
    cpu_s: float  # process CPU of the whole pass (all threads, incl. the SDK's core)
    calls: dict[str, int]
    outcomes: dict[str, int]


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: value for key, value in counts.items() if value}


async def scheduled_pass(
    root: Path,
    project: str,
    client: tc.Client,
    config: Config,
    *,
    rate_limit: float,
    profile_label: str = "",
    verify: bool = False,
) -> ScheduledRun:
    """What `scheduled apply ROOT` does: load the tree fresh, then one reconcile pass."""
    gateway = CountingGateway(TemporalGateway(client))
    profiler = cProfile.Profile() if profile_label else None
    marks: dict[str, float] = {}

    def on_plan(plan: Plan) -> None:
        marks["planned"] = time.perf_counter()

    if profiler is not None:
        profiler.enable()
    started, cpu_started = time.perf_counter(), time.process_time()
    revision = tree_revision(root)
    load_marks: dict[str, float] = {}

    def load() -> LoadResult:
        # As `scheduled apply` does it: read in a worker thread while Temporal lists.
        load_marks["start"], load_marks["cpu"] = time.perf_counter(), time.thread_time()
        loaded = load_tree(root, LoadOptions(project=project), now=datetime.now(UTC))
        load_marks["end"], load_marks["cpu_end"] = time.perf_counter(), time.thread_time()
        return loaded

    result = await reconcile_pass(
        load,
        gateway,
        PlanOptions(context=PassContext(project=project, revision=revision), now=datetime.now(UTC)),
        apply=ApplyOptions(concurrency=config.concurrency, rate_limit=rate_limit),
        observer=ListAll(verify=verify, concurrency=config.concurrency, rate_limit=rate_limit),
        on_plan=on_plan,
    )
    finished, cpu_finished = time.perf_counter(), time.process_time()
    assert result.report is not None
    if profiler is not None:
        profiler.disable()
        print_profile(profiler, profile_label)
    loaded = result.load
    if loaded.error_count:
        raise SystemExit(f"{project}: {loaded.error_count} invalid files: {loaded.diagnostics[:3]}")
    planned = marks["planned"]
    observed_at = started + max(load_marks["end"] - started, gateway.list_s)
    return ScheduledRun(
        total_s=finished - started,
        load_s=load_marks["end"] - load_marks["start"],  # overlaps the list
        list_s=gateway.list_s,
        plan_s=planned - observed_at,
        apply_s=finished - planned,
        load_cpu_s=load_marks["cpu_end"] - load_marks["cpu"],
        cpu_s=cpu_finished - cpu_started,
        calls=dict(gateway.calls),
        outcomes=_nonzero(result.report.counts()),
    )


def print_profile(profiler: cProfile.Profile, label: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(25)
    print(f"\n--- cProfile: {label} (top 25, cumulative) ---")
    print(out.getvalue())


async def bounded(
    calls: list[Callable[[], Awaitable[object]]], concurrency: int
) -> tuple[float, int]:
    """Run calls in one task group under a CapacityLimiter; elapsed seconds and failures."""
    limiter = anyio.CapacityLimiter(concurrency)
    failures = 0

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        nonlocal failures
        async with limiter:
            try:
                await call()
            except Exception as error:
                failures += 1
                if failures <= 3:
                    print(f"  baseline call failed: {error!r}", file=sys.stderr)

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for call in calls:
            group.start_soon(one, call)
    return time.perf_counter() - started, failures


def _baseline_names(prefix: str, item: Item) -> tuple[str, str]:
    return f"{prefix}{item.workflow_id}", f"{prefix.removeprefix('schedule-')}{item.workflow_id}"


async def baseline_create(
    client: tc.Client, prefix: str, items: list[Item], config: Config
) -> tuple[float, int]:
    def call(item: Item) -> Callable[[], Awaitable[object]]:
        schedule_id, workflow_id = _baseline_names(prefix, item)
        return lambda: client.create_schedule(
            schedule_id, sdk_schedule(item, workflow_id, "BenchWorkflow", "bench")
        )

    return await bounded([call(item) for item in items], config.concurrency)


async def baseline_update(
    client: tc.Client, prefix: str, items: list[Item], config: Config
) -> tuple[float, int]:
    """One raw UpdateSchedule RPC per schedule, the complete schedule built fresh each time."""

    def call(item: Item) -> Callable[[], Awaitable[object]]:
        schedule_id, workflow_id = _baseline_names(prefix, item)

        async def update() -> object:
            proto = await sdk_schedule(item, workflow_id, "BenchWorkflow", "bench")._to_proto(
                client
            )
            return await client.workflow_service.update_schedule(
                workflowservice.UpdateScheduleRequest(
                    namespace=client.namespace,
                    schedule_id=schedule_id,
                    schedule=proto,
                    identity=client.identity,
                    request_id=str(uuid.uuid4()),
                )
            )

        return update

    return await bounded([call(item) for item in items], config.concurrency)


async def baseline_list(client: tc.Client, prefix: str) -> tuple[float, int]:
    started = time.perf_counter()
    seen = 0
    async for entry in await client.list_schedules(
        f'ScheduleId STARTS_WITH "{prefix}"', page_size=1000
    ):
        if entry.id.startswith(prefix):
            seen += 1
    return time.perf_counter() - started, seen


async def wait_visible(client: tc.Client, prefix: str, count: int, limit_s: float = 120.0) -> None:
    """List is eventually consistent: let a setup become visible before timing on top of it."""
    deadline = time.monotonic() + limit_s
    while True:
        _, seen = await baseline_list(client, prefix)
        if seen >= count:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"only {seen} of {count} schedules under {prefix} became visible")
        await anyio.sleep(0.5)


# -- phases --------------------------------------------------------------------------------


@dataclass(slots=True)
class Phase:
    name: str
    target_ratio: float
    target_abs_s: float | None = None
    scheduled: list[ScheduledRun] = field(default_factory=list)
    baseline_s: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scheduled_s(self) -> float:
        return statistics.median(run.total_s for run in self.scheduled)

    @property
    def base_s(self) -> float:
        return statistics.median(self.baseline_s)

    @property
    def ratio(self) -> float:
        return self.scheduled_s / self.base_s

    def median_of(self, name: str) -> float:
        return statistics.median(float(getattr(run, name)) for run in self.scheduled)

    @property
    def passed(self) -> bool:
        ok = self.ratio <= self.target_ratio
        if self.target_abs_s is not None:
            ok = ok and self.scheduled_s < self.target_abs_s
        if self.name[0] in "345":
            ok = ok and all(
                run.calls.get("create", 0) + run.calls.get("update", 0) + run.calls.get("delete", 0)
                == 0
                for run in self.scheduled
            )
        return ok

    def target(self) -> str:
        text = f"<= {self.target_ratio:g}"
        if self.target_abs_s is not None:
            text += f", < {self.target_abs_s:g} s"
        if self.name[0] in "345":
            text += ", 0 writes"
        return text


def _tag(phase: str, rep: int | str, side: str) -> str:
    """A project name / id prefix no other phase, repetition or side shares."""
    return f"b{RUN_ID}-{phase}-{side}{rep}"


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _fresh_tree(config: Config, name: str, items: list[Item]) -> Path:
    root = config.workdir / name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    write_tree(root, items, "BenchWorkflow", "bench")
    return root


def _check(run: ScheduledRun, expected: str, count: int, what: str) -> None:
    got = run.outcomes.get(expected, 0)
    if got != count:
        print(f"  WARNING {what}: expected {count} {expected}, got {run.outcomes}", flush=True)


async def phase_cold(client: tc.Client, config: Config, phase: Phase) -> None:
    items = [make_item(i, 1) for i in range(config.count)]
    for rep in range(config.reps):
        order = ("base", "sched") if rep % 2 == 0 else ("sched", "base")
        for side in order:
            if side == "base":
                prefix = f"schedule-{_tag('cold', rep, 'base')}-"
                elapsed, failures = await baseline_create(client, prefix, items, config)
                phase.baseline_s.append(elapsed)
                _log(f"1 cold rep {rep}: baseline create {elapsed:.2f} s ({failures} failed)")
            else:
                project = _tag("cold", rep, "s")
                root = _fresh_tree(config, project, items)
                label = "cold apply" if config.profile and rep == 0 else ""
                run = await scheduled_pass(
                    root,
                    project,
                    client,
                    config,
                    rate_limit=config.rate_limit,
                    profile_label=label,
                )
                _check(run, "created", config.count, "cold apply")
                phase.scheduled.append(run)
                _log(f"1 cold rep {rep}: scheduled {_describe(run)}")


async def phase_change(client: tc.Client, config: Config, phase: Phase) -> None:
    before = [make_item(i, 1) for i in range(config.count)]
    after = [make_item(i, 2) for i in range(config.count)]
    for rep in range(config.reps):
        order = ("base", "sched") if rep % 2 == 0 else ("sched", "base")
        for side in order:
            if side == "base":
                prefix = f"schedule-{_tag('chg', rep, 'base')}-"
                await baseline_create(client, prefix, before, config)  # setup, not timed
                elapsed, failures = await baseline_update(client, prefix, after, config)
                phase.baseline_s.append(elapsed)
                _log(f"2 change rep {rep}: baseline raw update {elapsed:.2f} s ({failures} failed)")
            else:
                project = _tag("chg", rep, "s")
                label = "change apply" if config.profile and rep == 0 else ""
                run = await _changed_pass(
                    client,
                    config,
                    project,
                    before,
                    after,
                    rate_limit=config.rate_limit,
                    profile_label=label,
                )
                phase.scheduled.append(run)
                _log(f"2 change rep {rep}: scheduled {_describe(run)}")


async def _changed_pass(
    client: tc.Client,
    config: Config,
    project: str,
    before: list[Item],
    after: list[Item],
    *,
    rate_limit: float,
    profile_label: str = "",
) -> ScheduledRun:
    root = _fresh_tree(config, project, before)
    setup = await scheduled_pass(root, project, client, config, rate_limit=config.rate_limit)
    _check(setup, "created", config.count, "change setup")
    await wait_visible(client, f"schedule-{project}-", config.count)
    # An edit minutes after the last apply (the journal's window has passed): what this phase
    # has always measured. The cost of reading recent writes is phase 4's.
    await _empty_journal(client, project)
    write_tree(root, after, "BenchWorkflow", "bench")  # edit every file (input, cron, note...)
    run = await scheduled_pass(
        root, project, client, config, rate_limit=rate_limit, profile_label=profile_label
    )
    _check(run, "updated", config.count, "change apply")
    return run


async def _empty_journal(client: tc.Client, project: str) -> None:
    """Empty the project's journal and wait until it reads back empty."""
    gateway = TemporalGateway(client)
    for _ in range(100):  # right after 1,000 writes the server may time out: try again
        try:
            await gateway.write_journal(project, {})
            if not await gateway.read_journal(project):
                return
        except TransientGatewayError as error:
            _log(f"  emptying the journal: {error}; again")
        await anyio.sleep(0.5)
    raise RuntimeError("the emptied journal still reads back full after 50 s")


async def phase_noop(client: tc.Client, config: Config, phase: Phase) -> None:
    """Both sides read the very same schedules: the baseline lists scheduled's own ids, so entry
    size (memo, write record) is no confound and the difference is scheduled's own work."""
    items = [make_item(i, 1) for i in range(config.count)]
    project = _tag("noop", "", "s")
    prefix = f"schedule-{project}-"
    root = _fresh_tree(config, project, items)
    setup = await scheduled_pass(root, project, client, config, rate_limit=config.rate_limit)
    _check(setup, "created", config.count, "no-op setup")
    await wait_visible(client, prefix, config.count)
    # "No recent writes": what a resync minutes after the last write sees (the journal's
    # window has passed), without waiting that long.
    await _empty_journal(client, project)
    for rep in range(config.noop_reps):
        order = ("base", "sched") if rep % 2 == 0 else ("sched", "base")
        for side in order:
            if side == "base":
                elapsed, seen = await baseline_list(client, prefix)
                phase.baseline_s.append(elapsed)
                _log(f"3 no-op rep {rep}: baseline list {elapsed:.2f} s ({seen} listed)")
            else:
                label = "no-op resync" if config.profile and rep == 0 else ""
                run = await scheduled_pass(
                    root, project, client, config, rate_limit=config.rate_limit, profile_label=label
                )
                _check(run, "unchanged", config.count, "no-op resync")
                phase.scheduled.append(run)
                _log(f"3 no-op rep {rep}: scheduled {_describe(run)}")


async def baseline_describe(client: tc.Client, schedule_ids: list[str], config: Config) -> float:
    calls = [
        (lambda schedule_id=schedule_id: client.get_schedule_handle(schedule_id).describe())
        for schedule_id in schedule_ids
    ]
    elapsed, failures = await bounded(calls, config.concurrency)  # type: ignore[arg-type]
    assert failures == 0
    return elapsed


async def phase_describing(
    client: tc.Client, config: Config, phase: Phase, *, recent: bool
) -> None:
    """A no-op pass that must describe every schedule: right after an apply (the journal holds
    them all: `recent`), or a deep verification. Baseline: a bare describe loop of the same ids
    at the same concurrency."""
    items = [make_item(i, 1) for i in range(config.count)]
    project = _tag("recent" if recent else "verify", "", "s")
    prefix = f"schedule-{project}-"
    ids = [prefix + item.workflow_id for item in items]
    root = _fresh_tree(config, project, items)
    setup = await scheduled_pass(root, project, client, config, rate_limit=config.rate_limit)
    _check(setup, "created", config.count, "setup")
    await wait_visible(client, prefix, config.count)
    gateway = TemporalGateway(client)
    for rep in range(config.noop_reps):
        order = ("base", "sched") if rep % 2 == 0 else ("sched", "base")
        for side in order:
            if side == "base":
                elapsed = await baseline_describe(client, ids, config)
                phase.baseline_s.append(elapsed)
                _log(f"{phase.name} rep {rep}: baseline describe loop {elapsed:.2f} s")
                continue
            # As if every schedule had just been written (recent), or as if none had (verify).
            now = time.time()
            await gateway.write_journal(project, {i: now for i in ids} if recent else {})
            run = await scheduled_pass(
                root, project, client, config, rate_limit=config.rate_limit, verify=not recent
            )
            _check(run, "unchanged", config.count, phase.name)
            phase.scheduled.append(run)
            _log(f"{phase.name} rep {rep}: scheduled {_describe(run)}")


async def default_rate_runs(client: tc.Client, config: Config, phases: list[Phase]) -> None:
    """Phases 1 and 2 once more at ApplyOptions' default rate limit (what users get)."""
    default_rate = ApplyOptions().rate_limit
    items = [make_item(i, 1) for i in range(config.count)]
    project = _tag("cold", "d", "s")
    root = _fresh_tree(config, project, items)
    run = await scheduled_pass(root, project, client, config, rate_limit=default_rate)
    _check(run, "created", config.count, "cold apply (default rate)")
    phases[0].extra["default_rate"] = {"rate_limit": default_rate, **asdict(run)}
    _log(f"1 cold, default rate_limit {default_rate:g}/s: scheduled {_describe(run)}")
    after = [make_item(i, 2) for i in range(config.count)]
    run = await _changed_pass(
        client, config, _tag("chg", "d", "s"), items, after, rate_limit=default_rate
    )
    phases[1].extra["default_rate"] = {"rate_limit": default_rate, **asdict(run)}
    _log(f"2 change, default rate_limit {default_rate:g}/s: scheduled {_describe(run)}")


def _describe(run: ScheduledRun) -> str:
    return (
        f"{run.total_s:.2f} s (load {run.load_s:.2f} [cpu {run.load_cpu_s:.2f}], "
        f"list {run.list_s:.2f}, "
        f"plan {run.plan_s:.2f}, apply {run.apply_s:.2f}) calls {run.calls} "
        f"outcomes {run.outcomes}"
    )


# -- report --------------------------------------------------------------------------------


def machine_line() -> str:
    try:
        version = subprocess.run(
            [temporal_cli(), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        version = f"unknown ({error})"
    return (
        f"nproc {os.cpu_count()}, Python {platform.python_version()}, {version}, "
        f"temporalio {temporalio_version()}, {platform.platform()}"
    )


def code_line() -> str:
    """Which scheduled was measured: HEAD plus how many package files differ from it."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(REPO), *args],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    dirty = [line for line in git("status", "--porcelain", "scheduled").splitlines() if line]
    return f"scheduled at {git('rev-parse', '--short', 'HEAD') or 'unknown'}" + (
        f" + {len(dirty)} uncommitted file(s) in scheduled/" if dirty else ""
    )


def temporalio_version() -> str:
    from importlib.metadata import version

    return version("temporalio")


def render(phases: list[Phase], config: Config) -> str:
    header = (
        f"{'phase':<34} {'scheduled s':>11} {'baseline s':>10} {'ratio':>6}  "
        f"{'target':<24} {'result':<6}"
    )
    lines = [header, "-" * len(header)]
    for phase in phases:
        lines.append(
            f"{phase.name:<34} {phase.scheduled_s:>11.2f} {phase.base_s:>10.2f} "
            f"{phase.ratio:>6.2f}  {phase.target():<24} {'PASS' if phase.passed else 'FAIL':<6}"
        )
    for phase in phases:
        extra = phase.extra.get("default_rate")
        if extra:
            ratio = extra["total_s"] / phase.base_s
            name = f"{phase.name.split(' (')[0]} @ rate {extra['rate_limit']:g}/s"
            lines.append(
                f"{name:<34} {extra['total_s']:>11.2f} {phase.base_s:>10.2f} {ratio:>6.2f}  "
                f"{'(info, default rate)':<24} {'pass' if ratio <= phase.target_ratio else 'over':<6}"
            )
    lines += [
        "",
        "where scheduled's time goes (medians, s):",
        f"{'phase':<34} {'load':>6} {'(cpu)':>6} {'list':>6} {'plan':>6} {'apply':>6} "
        f"{'cpu':>6}  calls (last rep)",
    ]
    for phase in phases:
        lines.append(
            f"{phase.name:<34} {phase.median_of('load_s'):>6.2f} "
            f"{phase.median_of('load_cpu_s'):>6.2f} {phase.median_of('list_s'):>6.2f} "
            f"{phase.median_of('plan_s'):>6.2f} {phase.median_of('apply_s'):>6.2f} "
            f"{phase.median_of('cpu_s'):>6.2f}  "
            f"{phase.scheduled[-1].calls}"
        )
    noop = next((phase.scheduled for phase in phases if phase.name.startswith("3 ")), [])
    lines.append("")
    lines.append(
        "no-op resync writes (create+update+delete) per repetition: "
        + ", ".join(
            str(r.calls.get("create", 0) + r.calls.get("update", 0) + r.calls.get("delete", 0))
            for r in noop
        )
    )
    lines.append(
        f"N = {config.count}, concurrency {config.concurrency}, rate_limit {config.rate_limit:g}/s, "
        f"reps {config.reps} (no-op {config.noop_reps}), medians; order alternates per rep"
    )
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------


async def run_all(server: DevServer, config: Config) -> list[Phase]:
    client = await tc.Client.connect(server.address, namespace="default")
    phases = [
        Phase("1 cold apply (create)", 1.15, 30.0),
        Phase("2 changed (update)", 1.3),
        Phase("3 no-op resync (list)", 1.3),
        Phase("4 no-op after apply (journal)", 1.3),
        Phase("5 deep verify (describe all)", 1.3),
    ]
    # Warm the server and the client's connection before anything is timed.
    warm = [make_item(i, 1) for i in range(min(50, config.count))]
    await baseline_create(client, f"schedule-{_tag('warm', '', 'base')}-", warm, config)
    _log("warm-up done")
    runs: list[Callable[[], Awaitable[None]]] = [
        partial(phase_cold, client, config, phases[0]),
        partial(phase_change, client, config, phases[1]),
        partial(phase_noop, client, config, phases[2]),
        partial(phase_describing, client, config, phases[3], recent=True),
        partial(phase_describing, client, config, phases[4], recent=False),
    ]
    for number, run in enumerate(runs, start=1):
        if number in config.only:
            await run()
    if not config.skip_default_rate:
        await default_rate_runs(client, config, phases)
    return [phase for number, phase in enumerate(phases, start=1) if number in config.only]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="schedules per phase")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=1000.0,
        help="ApplyOptions.rate_limit for the main figures (high: not binding)",
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions of phases 1 and 2")
    parser.add_argument("--noop-reps", type=int, default=5, help="repetitions of phase 3")
    parser.add_argument(
        "--skip-default-rate",
        action="store_true",
        help="skip the extra runs at ApplyOptions' default rate limit",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the first scheduled measurement of each phase",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help=f"write results here (default {DEFAULT_JSON.relative_to(REPO)})",
    )
    parser.add_argument("--no-json", action="store_true")
    parser.add_argument(
        "--phases",
        default="1,2,3,4,5",
        help="which phases to run, e.g. 3 or 1,3 (a re-run of a figure the machine disturbed)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as temp:
        workdir = Path(temp)
        config = Config(
            count=args.count,
            concurrency=args.concurrency,
            rate_limit=args.rate_limit,
            reps=max(1, args.reps),
            noop_reps=max(1, args.noop_reps),
            workdir=workdir / "trees",
            profile=args.profile,
            skip_default_rate=args.skip_default_rate,
            only=frozenset(int(part) for part in args.phases.split(",") if part.strip()),
        )
        machine, code = machine_line(), code_line()
        _log(f"machine: {machine}")
        _log(f"code: {code}")
        server = start_dev_server(workdir / "temporal")
        _log(f"dev server up at {server.address}")
        started = time.perf_counter()
        try:
            phases = anyio.run(run_all, server, config)
        finally:
            server.stop()
        wall = time.perf_counter() - started
    table = render(phases, config)
    print("\n" + table)
    print(f"\nmachine: {machine}")
    print(f"code: {code}")
    print(f"bench wall time {wall:.0f} s")
    if not args.no_json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "code": code,
                    "run_id": RUN_ID,
                    "when": datetime.now(UTC).isoformat(),
                    "config": {k: str(v) for k, v in asdict(config).items()},
                    "phases": [
                        {
                            "name": phase.name,
                            "scheduled_s": phase.scheduled_s,
                            "baseline_s": phase.base_s,
                            "ratio": phase.ratio,
                            "target": phase.target(),
                            "passed": phase.passed,
                            "scheduled_runs": [asdict(run) for run in phase.scheduled],
                            "baseline_runs_s": phase.baseline_s,
                            **phase.extra,
                        }
                        for phase in phases
                    ],
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        print(f"wrote {args.json}")
    return 0 if all(phase.passed for phase in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
