"""The reconciler against a real Temporal dev server (the session's `temporal_server`).

What Temporal holds is read back with temporalio directly (`handle.describe()`), never only
through our own gateway. `list` is eventually consistent even on the dev server, so a test waits
for it (`Env.settled`, `Env.wait_listed`) before it counts the calls of the next pass.

The per-field cases share one lifecycle (create, no-op, update, no-op, delete) run once for the
module, in its own project, and each named test checks one field at one step of it.
Tests marked `temporal` use the server; the gateway's pure helpers are tested at the end.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
import temporalio.client as tc
from reconcile_helpers import (
    CountingGateway,
    Env,
    calendar_times,
    fire_hours,
    names,
    outcomes,
    run_env,
)
from temporalio.common import TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode
from trees import workflow_yaml

from scheduled.devserver import DevServer
from scheduled.format.globs import FileSelection
from scheduled.model.calendar import Range
from scheduled.model.desired import schedule_id_prefix
from scheduled.model.observed import Revision, record_for
from scheduled.reconcile.apply import Outcome, write_for
from scheduled.reconcile.diff import field_changes
from scheduled.reconcile.gateway import (
    PermanentGatewayError,
    ScheduleNotFoundError,
    ScheduleWrite,
)
from scheduled.reconcile.phases import PassResult
from scheduled.reconcile.plan import FieldChange, Kind, Operation, PassContext
from scheduled.temporal.marker import MEMO_KEY, parse_record

CRON = "0 9 * * *"  # every case gets it unless it sets its own cron or `every`
OVERLAPS = ["skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"]


# -- the per-field lifecycle ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Seen:
    """A schedule as Temporal describes it, with the workflow input and memo decoded."""

    description: tc.ScheduleDescription
    input: Any
    memo: dict[str, Any]
    args: list[Any] = dataclasses.field(default_factory=list)
    summary: str | None = None
    details: str | None = None

    @property
    def schedule(self) -> tc.Schedule:
        return self.description.schedule

    @property
    def action(self) -> tc.ScheduleActionStartWorkflow:
        action = self.description.schedule.action
        assert isinstance(action, tc.ScheduleActionStartWorkflow)
        return action


@dataclasses.dataclass(frozen=True)
class FieldCase:
    name: str
    before: dict[str, Any]  # workflow_yaml keywords of the first version of the file
    after: dict[str, Any]  # ... and of the edited one
    probe: Callable[[Seen], Any]  # reads the field from what Temporal holds
    expect_before: Any
    expect_after: Any
    diff: frozenset[str]  # the field names `plan` shows for the edit, nothing else

    @property
    def workflow_id(self) -> str:
        return "f-" + self.name.replace("_", "-")


def _intervals(seen: Seen) -> list[tuple[timedelta, timedelta]]:
    return [(i.every, i.offset) for i in seen.schedule.spec.intervals]


def _exclusions(seen: Seen) -> list[tuple[Any, ...]]:
    """The file's exclude calendars (after the write record), as comment and (start, end) of
    year, month, day of month, hour and second."""
    record, *calendars = seen.schedule.spec.skip
    assert parse_record(record.comment or "") is not None
    return [
        (
            calendar.comment,
            *(
                [(r.start, r.end) for r in getattr(calendar, name)]
                for name in ("year", "month", "day_of_month", "hour", "second")
            ),
        )
        for calendar in calendars
    ]


def _retry(seen: Seen) -> tuple[Any, ...] | None:
    policy = seen.action.retry_policy
    if policy is None:
        return None
    return (
        policy.initial_interval,
        policy.backoff_coefficient,
        policy.maximum_interval,
        policy.maximum_attempts,
        tuple(policy.non_retryable_error_types or ()),
    )


def _overlap_case(index: int) -> FieldCase:
    before, after = OVERLAPS[index], OVERLAPS[(index + 1) % len(OVERLAPS)]
    return FieldCase(
        name=f"overlap_{before}",
        before={"overlap_policy": before},
        after={"overlap_policy": after},
        probe=lambda seen: seen.schedule.policy.overlap,
        expect_before=tc.ScheduleOverlapPolicy[before.upper()],
        expect_after=tc.ScheduleOverlapPolicy[after.upper()],
        diff=frozenset({"overlap_policy"}),
    )


# One of each type (conftest.SEARCH_ATTRIBUTES): inferred from the value, or stated.
ALL_ATTRIBUTES: dict[str, Any] = {
    "ScheduledTeam": "payments",
    "ScheduledNotes": {"type": "text", "value": "runs the nightly numbers"},
    "ScheduledTier": 2,
    "ScheduledScore": 0.75,
    "ScheduledCritical": True,
    "ScheduledDue": {"type": "datetime", "value": "2026-06-01T09:30:00+02:00"},
    "ScheduledTags": ["eu", "nightly"],
}
ALL_ATTRIBUTE_VALUES: dict[str, Any] = {
    "ScheduledTeam": "payments",
    "ScheduledNotes": "runs the nightly numbers",
    "ScheduledTier": 2,
    "ScheduledScore": 0.75,
    "ScheduledCritical": True,
    "ScheduledDue": datetime(2026, 6, 1, 7, 30, tzinfo=UTC),
    "ScheduledTags": ["eu", "nightly"],
}


def _attribute_values(attributes: TypedSearchAttributes) -> dict[str, Any]:
    return {pair.key.name: pair.value for pair in attributes}


S, M, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)
MS = timedelta(milliseconds=1)
CASES = [
    FieldCase(
        "cron",
        {"cron": "0 9 * * *"},
        {"cron": "30 17 * * *"},
        calendar_times,
        [(9, 0)],
        [(17, 30)],
        frozenset({"when"}),
    ),
    FieldCase(
        "cron_list",
        {"cron": ["0 9 * * MON", "0 12 * * FRI"]},
        {"cron": ["0 9 * * MON"]},
        calendar_times,
        [(9, 0), (12, 0)],
        [(9, 0)],
        frozenset({"when"}),
    ),
    FieldCase(
        "every_offset",
        {"every": "15m", "offset": "2m"},
        {"every": "1h", "offset": "5m"},
        _intervals,
        [(15 * M, 2 * M)],
        [(H, 5 * M)],
        frozenset({"when"}),
    ),
    FieldCase(
        "every_list",
        {"every": ["1h", {"every": "90m", "offset": "10m"}]},
        {"every": ["1h", {"every": "90m", "offset": "20m"}, "7h"]},
        _intervals,
        [(H, None), (90 * M, 10 * M)],
        [(H, None), (90 * M, 20 * M), (7 * H, None)],
        frozenset({"when"}),
    ),
    FieldCase(
        "cron_and_every",
        {"cron": "0 9 * * *", "every": "5h"},
        {"cron": "0 9 * * *", "every": {"every": "5h", "offset": "30m"}},
        lambda seen: (calendar_times(seen), _intervals(seen)),
        ([(9, 0)], [(5 * H, None)]),
        ([(9, 0)], [(5 * H, 30 * M)]),
        frozenset({"when"}),
    ),
    FieldCase(
        "skip",
        {"skip": ["2030-12-25", {"from": "2030-12-30", "to": "2031-01-02"}, "* 12 * * 6,0"]},
        {"skip": ["2030-12-24", "* 12 * * 6,0"]},
        _exclusions,
        [
            ("2030-12-25", [(2030, 2030)], [(12, 12)], [(25, 25)], [(0, 23)], [(0, 59)]),
            *(
                ("2030-12-30 to 2031-01-02", [(y, y)], [(m, m)], [days], [(0, 23)], [(0, 59)])
                for y, m, days in ((2030, 12, (30, 31)), (2031, 1, (1, 2)))
            ),
            ("* 12 * * 6,0", [], [(1, 12)], [(1, 31)], [(12, 12)], [(0, 59)]),
        ],
        [
            ("2030-12-24", [(2030, 2030)], [(12, 12)], [(24, 24)], [(0, 23)], [(0, 59)]),
            ("* 12 * * 6,0", [], [(1, 12)], [(1, 31)], [(12, 12)], [(0, 59)]),
        ],
        frozenset({"skip"}),
    ),
    FieldCase(
        "skip_beyond_the_list",  # a list shows the write record and 9 exclusions, no more
        {"skip": [f"2030-01-{day:02d}" for day in range(1, 13)]},
        {"skip": [f"2030-01-{day:02d}" for day in range(1, 14)]},
        lambda seen: [calendar[0] for calendar in _exclusions(seen)],
        [f"2030-01-{day:02d}" for day in range(1, 13)],
        [f"2030-01-{day:02d}" for day in range(1, 14)],
        frozenset({"skip"}),
    ),
    FieldCase(
        "skip_added",
        {},
        {"skip": "2030-07-04"},
        _exclusions,
        [],
        [("2030-07-04", [(2030, 2030)], [(7, 7)], [(4, 4)], [(0, 23)], [(0, 59)])],
        frozenset({"skip"}),
    ),
    FieldCase(
        "skip_removed",
        {"skip": ["0 9 * * 1"]},
        {},
        _exclusions,
        [("0 9 * * 1", [], [(1, 12)], [(1, 31)], [(9, 9)], [(0, 59)])],
        [],
        frozenset({"skip"}),
    ),
    FieldCase(
        "timezone",
        {"timezone": "UTC"},
        {"timezone": "Europe/Berlin"},
        lambda seen: seen.schedule.spec.time_zone_name,
        "UTC",
        "Europe/Berlin",
        frozenset({"timezone"}),
    ),
    FieldCase(
        "jitter",
        {"jitter": "30s"},
        {"jitter": "2m"},
        lambda seen: seen.schedule.spec.jitter,
        30 * S,
        2 * M,
        frozenset({"jitter"}),
    ),
    FieldCase(
        "jitter_subsecond",  # the server honours jitter to the millisecond (its next times)
        {"jitter": "500ms"},
        {"jitter": "1.5s"},
        lambda seen: seen.schedule.spec.jitter,
        500 * MS,
        1500 * MS,
        frozenset({"jitter"}),
    ),
    FieldCase(
        "start_end",
        {"start_at": "2030-01-01T00:00:00Z", "end_at": "2031-01-01T00:00:00Z"},
        {"start_at": "2030-02-01T00:00:00Z", "end_at": "2032-06-01T00:00:00Z"},
        lambda seen: (seen.schedule.spec.start_at, seen.schedule.spec.end_at),
        (datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)),
        (datetime(2030, 2, 1, tzinfo=UTC), datetime(2032, 6, 1, tzinfo=UTC)),
        frozenset({"start_at", "end_at"}),
    ),
    *(_overlap_case(index) for index in range(len(OVERLAPS))),
    FieldCase(
        "overlap_allow",  # the seed platform's name for allow_all
        {"overlap_policy": "allow"},
        {"overlap_policy": "skip"},
        lambda seen: seen.schedule.policy.overlap,
        tc.ScheduleOverlapPolicy.ALLOW_ALL,
        tc.ScheduleOverlapPolicy.SKIP,
        frozenset({"overlap_policy"}),
    ),
    FieldCase(
        "catchup_window",
        {},
        {"catchup_window": "10m"},
        lambda seen: seen.schedule.policy.catchup_window,
        timedelta(days=365),
        10 * M,
        frozenset({"catchup_window"}),
    ),
    FieldCase(
        "catchup_window_removed",
        {"catchup_window": "1h"},
        {},
        lambda seen: seen.schedule.policy.catchup_window,
        H,
        timedelta(days=365),
        frozenset({"catchup_window"}),
    ),
    FieldCase(
        "pause_on_failure",
        {"pause_on_failure": False},
        {"pause_on_failure": True},
        lambda seen: seen.schedule.policy.pause_on_failure,
        False,
        True,
        frozenset({"pause_on_failure"}),
    ),
    FieldCase(
        "enabled",
        {"enabled": True},
        {"enabled": False, "note": "switched off"},
        lambda seen: (seen.schedule.state.paused, seen.schedule.state.note),
        (False, None),
        (True, "switched off"),
        frozenset({"paused", "note"}),
    ),
    FieldCase(
        "note",
        {"note": "first"},
        {"note": "second"},
        lambda seen: seen.schedule.state.note,
        "first",
        "second",
        frozenset({"note"}),
    ),
    FieldCase(
        "workflow_type",
        {"workflow": "JobA"},
        {"workflow": "JobB"},
        lambda seen: seen.action.workflow,
        "JobA",
        "JobB",
        frozenset({"workflow"}),
    ),
    FieldCase(
        "task_queue",
        {"task_queue": "queue-a"},
        {"task_queue": "queue-b"},
        lambda seen: seen.action.task_queue,
        "queue-a",
        "queue-b",
        frozenset({"task_queue"}),
    ),
    FieldCase(
        "input",
        {"input": {"a": 1}},
        {"input": {"a": 2, "b": [1, "x"], "c": None}},
        lambda seen: seen.input,
        {"a": 1},
        {"a": 2, "b": [1, "x"], "c": None},
        frozenset({"input"}),
    ),
    FieldCase(
        "input_removed",  # no argument at all, not `{}`: zero-argument workflows start
        {"input": {"a": 1}},
        {},
        lambda seen: seen.args,
        [{"a": 1}],
        [],
        frozenset({"input"}),
    ),
    FieldCase(
        "args",
        {"args": [1, "two", {"three": 3}]},
        {"args": [1, "two", {"three": 4}, None]},
        lambda seen: seen.args,
        [1, "two", {"three": 3}],
        [1, "two", {"three": 4}, None],
        frozenset({"args"}),
    ),
    FieldCase(
        "args_scalar",  # a value that is no list is the one argument
        {"args": 42},
        {"args": "forty-two"},
        lambda seen: seen.args,
        [42],
        ["forty-two"],
        frozenset({"input"}),  # one argument on both sides reads as `input`
    ),
    FieldCase(
        "args_none",
        {"args": []},
        {"args": [1, 2]},
        lambda seen: seen.args,
        [],
        [1, 2],
        frozenset({"args"}),
    ),
    FieldCase(
        "workflow_id",
        {"workflow_id": "custom-base"},
        {"workflow_id": "custom-base-2"},
        lambda seen: seen.action.id,
        "custom-base",
        "custom-base-2",
        frozenset({"workflow_id"}),
    ),
    FieldCase(
        "summary",
        {"summary": "Nightly numbers"},
        {"summary": "Nightly numbers, EU"},
        lambda seen: seen.summary,
        "Nightly numbers",
        "Nightly numbers, EU",
        frozenset({"summary"}),
    ),
    FieldCase(
        "details",
        {"details": "Runs the **EU** report."},
        {"details": "Runs the **EU** and **US** reports."},
        lambda seen: seen.details,
        "Runs the **EU** report.",
        "Runs the **EU** and **US** reports.",
        frozenset({"details"}),
    ),
    FieldCase(
        "priority",
        {"priority": {"priority_key": 2}},
        # 0.1 is no 32-bit float: the server hands back 0.10000000149011612
        {"priority": {"priority_key": 4, "fairness_key": "tenant-a", "fairness_weight": 0.1}},
        lambda seen: (
            seen.action.priority.priority_key,
            seen.action.priority.fairness_key,
            round(seen.action.priority.fairness_weight or 0, 6),
        ),
        (2, None, 0),
        (4, "tenant-a", 0.1),
        frozenset({"priority"}),
    ),
    FieldCase(
        "workflow_search_attributes",
        {"workflow_search_attributes": ALL_ATTRIBUTES},
        {"workflow_search_attributes": {"ScheduledTeam": "billing", "ScheduledTier": 1}},
        lambda seen: _attribute_values(seen.action.typed_search_attributes),
        ALL_ATTRIBUTE_VALUES,
        {"ScheduledTeam": "billing", "ScheduledTier": 1},
        frozenset({"workflow_search_attributes"}),
    ),
    FieldCase(
        "search_attributes",
        {"search_attributes": ALL_ATTRIBUTES},
        {"search_attributes": {**ALL_ATTRIBUTES, "ScheduledTier": 3, "ScheduledTags": ["c"]}},
        lambda seen: _attribute_values(seen.description.typed_search_attributes),
        ALL_ATTRIBUTE_VALUES,
        {**ALL_ATTRIBUTE_VALUES, "ScheduledTier": 3, "ScheduledTags": ["c"]},
        frozenset({"search_attributes"}),
    ),
    FieldCase(
        "search_attributes_removed",  # what scheduled set and the file dropped is removed
        {"search_attributes": {"ScheduledTeam": "payments", "ScheduledTier": 2}},
        {"search_attributes": {"ScheduledTier": 2}},
        lambda seen: _attribute_values(seen.description.typed_search_attributes),
        {"ScheduledTeam": "payments", "ScheduledTier": 2},
        {"ScheduledTier": 2},
        frozenset({"search_attributes"}),
    ),
    FieldCase(
        "timeouts",
        {"execution_timeout": "1h", "run_timeout": "30m", "task_timeout": "10s"},
        {"execution_timeout": "2h", "run_timeout": "45m", "task_timeout": "20s"},
        lambda seen: (
            seen.action.execution_timeout,
            seen.action.run_timeout,
            seen.action.task_timeout,
        ),
        (H, 30 * M, 10 * S),
        (2 * H, 45 * M, 20 * S),
        frozenset({"execution_timeout", "run_timeout", "task_timeout"}),
    ),
    FieldCase(
        "timeouts_go",
        {"execution_timeout": "2h45m30s", "run_timeout": "1.5h", "task_timeout": "1500ms"},
        {"execution_timeout": "2h45m31s", "run_timeout": "1h31m", "task_timeout": "2.5s"},
        lambda seen: (
            seen.action.execution_timeout,
            seen.action.run_timeout,
            seen.action.task_timeout,
        ),
        (2 * H + 45 * M + 30 * S, 90 * M, 1500 * MS),
        (2 * H + 45 * M + 31 * S, 91 * M, 2500 * MS),
        frozenset({"execution_timeout", "run_timeout", "task_timeout"}),
    ),
    FieldCase(
        "retry_subsecond",
        {"retry": {"initial_interval": "500ms", "maximum_interval": "2.5s"}},
        {"retry": {"initial_interval": "250ms", "maximum_interval": "2.5s"}},
        _retry,
        (500 * MS, 2.0, 2500 * MS, 0, ()),
        (250 * MS, 2.0, 2500 * MS, 0, ()),
        frozenset({"retry"}),
    ),
    FieldCase(
        "retry",
        {"retry": {"maximum_attempts": 3}},
        {
            "retry": {
                "maximum_attempts": 5,
                "initial_interval": "2s",
                "backoff_coefficient": 3,
                "maximum_interval": "1m",
                "non_retryable_error_types": ["Fatal"],
            }
        },
        _retry,
        (S, 2.0, 100 * S, 3, ()),
        (2 * S, 3.0, M, 5, ("Fatal",)),
        frozenset({"retry"}),
    ),
    FieldCase(
        "retry_removed",
        {"retry": {"maximum_attempts": 2, "initial_interval": "5s"}},
        {},
        _retry,
        (5 * S, 2.0, 500 * S, 2, ()),
        None,
        frozenset({"retry"}),
    ),
    FieldCase(
        "memo",
        {"memo": {"team": "a"}},
        {"memo": {"team": "b", "tier": 1}},
        lambda seen: seen.memo,
        {"team": "a"},
        {"team": "b", "tier": 1},
        frozenset({"memo"}),
    ),
]
CASES += [
    FieldCase(
        "max_runs",  # the server has not counted down: a cron far away
        {"max_runs": 3},
        {"max_runs": 5},
        lambda seen: (seen.schedule.state.limited_actions, seen.schedule.state.remaining_actions),
        (True, 3),
        (True, 5),
        frozenset({"max_runs"}),
    ),
    FieldCase(
        "max_runs_removed",
        {"max_runs": 3},
        {},
        lambda seen: (seen.schedule.state.limited_actions, seen.schedule.state.remaining_actions),
        (True, 3),
        (False, 0),
        frozenset({"max_runs"}),
    ),
    FieldCase(
        "trigger_immediately",  # a create-time instruction: present, it changes no diff
        {"trigger_immediately": True, "note": "first"},
        {"trigger_immediately": True, "note": "second"},
        lambda seen: seen.schedule.state.note,
        "first",
        "second",
        frozenset({"note"}),
    ),
]
# Every field of issue 9 in one file: they share the spec (the write record and the file's
# exclusions), the state (the run limit beside the pause) and the action, and none of them may
# make another read back as changed.
EVERY_NEW_FIELD: dict[str, Any] = {
    "cron": ["0 9 * * MON-FRI", "30 17 * * FRI"],
    "every": ["6h", {"every": "90m", "offset": "10m"}],
    "skip": ["2030-12-25", {"from": "2030-12-30", "to": "2031-01-02"}, "* 12 * * 6,0"],
    "max_runs": 7,
    "trigger_immediately": False,
    "args": [1, "two", {"three": [3]}],
    "workflow_id": "every-field-base",
    "summary": "Every field at once",
    "details": "Runs **everything**.",
    "priority": {"priority_key": 3, "fairness_key": "tenant-a", "fairness_weight": 0.5},
    "search_attributes": ALL_ATTRIBUTES,
    "workflow_search_attributes": ALL_ATTRIBUTES,
    "overlap_policy": "allow",
    "jitter": "1.5s",
    "note": "v1",
}
CASES += [
    FieldCase(
        "every_new_field",
        EVERY_NEW_FIELD,
        {**EVERY_NEW_FIELD, "note": "v2"},
        lambda seen: (
            len(seen.schedule.spec.calendars),
            len(seen.schedule.spec.intervals),
            len(seen.schedule.spec.skip),  # the write record and the file's 4 calendars
            seen.schedule.state.remaining_actions,
            seen.args,
            seen.action.id,
            seen.summary,
            _attribute_values(seen.description.typed_search_attributes),
            seen.schedule.state.note,
        ),
        (
            2,
            2,
            5,
            7,
            [1, "two", {"three": [3]}],
            "every-field-base",
            "Every field at once",
            ALL_ATTRIBUTE_VALUES,
            "v1",
        ),
        (
            2,
            2,
            5,
            7,
            [1, "two", {"three": [3]}],
            "every-field-base",
            "Every field at once",
            ALL_ATTRIBUTE_VALUES,
            "v2",
        ),
        frozenset({"note"}),
    ),
]
CASE_IDS = [case.name for case in CASES]
BY_NAME = {case.name: case for case in CASES}


def _file(case: FieldCase, version: dict[str, Any]) -> dict[str, Any]:
    fields = dict(version)
    if "cron" not in fields and "every" not in fields:
        fields["cron"] = CRON
    return fields


@dataclasses.dataclass
class Lifecycle:
    project: str = ""
    created: dict[str, Seen] = dataclasses.field(default_factory=dict)
    created_diff: dict[str, list[FieldChange]] = dataclasses.field(default_factory=dict)
    updated: dict[str, Seen] = dataclasses.field(default_factory=dict)
    updated_diff: dict[str, list[FieldChange]] = dataclasses.field(default_factory=dict)
    plan_changes: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    owner_memo: dict[str, Any] = dataclasses.field(default_factory=dict)
    passes: dict[str, PassResult] = dataclasses.field(default_factory=dict)
    calls: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    gone: set[str] = dataclasses.field(default_factory=set)


async def _seen(env: Env, workflow_id: str) -> Seen:
    description = await env.describe(workflow_id)
    action = description.schedule.action
    assert isinstance(action, tc.ScheduleActionStartWorkflow)
    converter = env.client.data_converter
    args = await converter.decode(list(action.args))  # type: ignore[arg-type]
    memo = {
        key: (await converter.decode([value]))[0]  # type: ignore[list-item]
        for key, value in (action.memo or {}).items()
    }
    metadata = description.raw_description.schedule.action.start_workflow.user_metadata
    summary, details = [
        (await converter.decode([payload]))[0] if metadata.HasField(name) else None
        for name, payload in (("summary", metadata.summary), ("details", metadata.details))
    ]
    return Seen(
        description=description,
        input=args[0] if args else None,
        memo=memo,
        args=args,
        summary=summary,
        details=details,
    )


async def _round_trip(env: Env, case: FieldCase) -> list[FieldChange]:
    """Field changes between the file and what our gateway describes: none if nothing differs."""
    schedule = env.load().desired[case.workflow_id]
    described = await env.gateway.describe(schedule.schedule_id)
    return field_changes(schedule, described, paused=schedule.paused, note=schedule.note)


async def _step(env: Env, data: Lifecycle, name: str, **overrides: Any) -> None:
    data.passes[name] = await env.apply(**overrides)
    data.calls[name] = env.last_calls


@pytest.fixture(scope="module")
def lifecycle(temporal_server: DevServer, tmp_path_factory: pytest.TempPathFactory) -> Lifecycle:
    data = Lifecycle(project=f"fields-{uuid.uuid4().hex[:8]}")

    async def body(env: Env) -> None:
        for case in CASES:
            env.write(case.workflow_id, **_file(case, case.before))
        await _step(env, data, "create")
        await env.settled()
        data.owner_memo = await (await env.describe(CASES[0].workflow_id)).memo()
        for case in CASES:
            data.created[case.name] = await _seen(env, case.workflow_id)
            data.created_diff[case.name] = await _round_trip(env, case)
        await _step(env, data, "noop after create")

        for case in CASES:
            env.write(case.workflow_id, **_file(case, case.after))
        made = await env.plan(detail=True)
        data.plan_changes = {op.workflow_id: names(op.changes) for op in made.operations}
        await _step(env, data, "update")
        await env.settled()
        for case in CASES:
            data.updated[case.name] = await _seen(env, case.workflow_id)
            data.updated_diff[case.name] = await _round_trip(env, case)
        await _step(env, data, "noop after update")

        for case in CASES:
            env.remove(case.workflow_id)
        env.write("anchor", cron=CRON)  # the tree is not empty: the prune guard lets this through
        await _step(env, data, "delete", allow_mass_delete=True)
        for case in CASES:
            try:
                await env.describe(case.workflow_id)
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    data.gone.add(case.name)

    run_env(temporal_server.address, data.project, tmp_path_factory.mktemp("fields"), body)
    return data


@pytest.mark.temporal
@pytest.mark.parametrize("name", CASE_IDS)
def test_create_maps_the_field_onto_temporal(lifecycle: Lifecycle, name: str) -> None:
    case = BY_NAME[name]
    assert outcomes(lifecycle.passes["create"])[_sid(lifecycle, case)] is Outcome.CREATED
    seen = lifecycle.created[name]
    assert case.probe(seen) == case.expect_before
    default_id = f"{lifecycle.project}-{case.workflow_id}"
    assert seen.action.id == case.before.get("workflow_id", default_id)


@pytest.mark.temporal
@pytest.mark.parametrize("name", CASE_IDS)
def test_described_schedule_reads_back_as_the_file_with_no_diff(
    lifecycle: Lifecycle, name: str
) -> None:
    assert lifecycle.created_diff[name] == []
    assert lifecycle.updated_diff[name] == []


@pytest.mark.temporal
@pytest.mark.parametrize("name", CASE_IDS)
def test_plan_diff_shows_only_the_edited_field(lifecycle: Lifecycle, name: str) -> None:
    case = BY_NAME[name]
    assert lifecycle.plan_changes[case.workflow_id] == case.diff


@pytest.mark.temporal
@pytest.mark.parametrize("name", CASE_IDS)
def test_edit_of_the_field_is_applied(lifecycle: Lifecycle, name: str) -> None:
    case = BY_NAME[name]
    assert outcomes(lifecycle.passes["update"])[_sid(lifecycle, case)] is Outcome.UPDATED
    assert case.probe(lifecycle.updated[name]) == case.expect_after


@pytest.mark.temporal
@pytest.mark.parametrize("name", CASE_IDS)
def test_removed_file_deletes_the_schedule(lifecycle: Lifecycle, name: str) -> None:
    case = BY_NAME[name]
    assert outcomes(lifecycle.passes["delete"])[_sid(lifecycle, case)] is Outcome.DELETED
    assert name in lifecycle.gone


@pytest.mark.temporal
def test_every_write_is_one_call_and_unchanged_passes_make_none(lifecycle: Lifecycle) -> None:
    count = len(CASES)
    assert lifecycle.calls["create"] == Counter({"list": 1, "create": count})
    # A describe only for a limited schedule whose `max_runs` stays: the update replaces the
    # state whole, so the count the server has left is read first.
    kept_limits = sum(1 for c in CASES if c.before.get("max_runs") == c.after.get("max_runs", 0))
    assert kept_limits == 1
    assert lifecycle.calls["update"] == Counter(
        {"list": 1, "update": count, "describe": kept_limits}
    )
    assert lifecycle.calls["delete"] == Counter({"list": 1, "delete": count, "create": 1})
    assert lifecycle.calls["noop after create"] == Counter({"list": 1})
    assert lifecycle.calls["noop after update"] == Counter({"list": 1})
    for name in ("noop after create", "noop after update"):
        assert set(outcomes(lifecycle.passes[name]).values()) == {Outcome.UNCHANGED}


@pytest.mark.temporal
def test_created_schedules_carry_the_ownership_memo_and_write_record(lifecycle: Lifecycle) -> None:
    assert lifecycle.owner_memo[MEMO_KEY] == {
        "project": lifecycle.project,
        "managed_by": "scheduled",
    }
    skip = lifecycle.created["cron"].schedule.spec.skip
    records = [parse_record(calendar.comment or "") for calendar in skip]
    assert [record.source for record in records if record] == ["f-cron.yaml"]


@pytest.mark.temporal
def test_cron_edit_replaces_the_old_fire_times(lifecycle: Lifecycle) -> None:
    before = lifecycle.created["cron"].description
    after = lifecycle.updated["cron"].description
    assert fire_hours(before) == {(9, 0)}
    assert fire_hours(after) == {(17, 30)}  # 09:00 is gone, not added to
    assert calendar_times(after) == [(17, 30)]


def _sid(lifecycle: Lifecycle, case: FieldCase) -> str:
    return schedule_id_prefix(lifecycle.project) + case.workflow_id


# -- behaviours, each in its own project ---------------------------------------------------


@pytest.mark.temporal
def test_example_tree_second_apply_makes_only_the_list_call(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    examples = Path(__file__).parent.parent / "config" / "examples" / "workflows"
    for source in examples.rglob("*.yaml"):
        target = tmp_path / "tree" / source.relative_to(examples)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())

    async def body(env: Env) -> None:
        first = await env.apply()
        assert first.report.counts()["created"] == 4 and first.report.converged
        await env.settled()
        second = await env.apply()
        assert env.last_calls == Counter({"list": 1})
        assert second.report.writes == 0 and second.report.converged

    run_env(temporal_address, project_name, tmp_path / "tree", body)


@pytest.mark.temporal
def test_operator_pause_is_kept_until_the_file_changes_enabled(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        env.write("job", cron=CRON, note="from the file")
        await env.apply_and_settle()
        await env.handle("job").pause(note="paused by ops: incident 42")
        await env.wait_listed(lambda listed: listed[sid].paused)

        kept = await env.apply()
        assert env.last_calls == Counter({"list": 1})
        assert outcomes(kept)[sid] is Outcome.UNCHANGED
        state = (await env.describe("job")).schedule.state
        assert (state.paused, state.note) == (True, "paused by ops: incident 42")

        # From here on each pass follows scheduled's own write, so it keeps the journal of
        # recent writes and describes the schedule, as every pass does in production: under
        # load a list can show a state two writes old again (the operator's pause included).
        env.write("job", cron="0 10 * * *", note="from the file")  # another field changes
        assert outcomes(await env.apply())[sid] is Outcome.UPDATED
        described = await env.describe("job")
        assert calendar_times(described) == [(10, 0)]
        assert (described.schedule.state.paused, described.schedule.state.note) == (
            True,
            "paused by ops: incident 42",
        )
        await env.settled()

        env.write("job", cron="0 10 * * *", enabled=False, note="off in git")  # file flips
        assert outcomes(await env.apply(recent=True))[sid] is Outcome.UPDATED
        state = (await env.describe("job")).schedule.state
        assert (state.paused, state.note) == (True, "off in git")
        await env.settled()

        env.write("job", cron="0 10 * * *", enabled=True, note="back on")
        assert outcomes(await env.apply(recent=True))[sid] is Outcome.UPDATED
        state = (await env.describe("job")).schedule.state
        assert (state.paused, state.note) == (False, "back on")

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_override_operator_pause_unpauses(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        env.write("job", cron=CRON, note="from the file")
        await env.apply_and_settle()
        await env.handle("job").pause(note="ops")
        await env.wait_listed(lambda listed: listed[sid].paused)
        result = await env.apply_until(
            lambda result: outcomes(result)[sid] is not Outcome.UNCHANGED,
            respect_operator_pause=False,
        )
        assert outcomes(result)[sid] is Outcome.UPDATED
        state = (await env.describe("job")).schedule.state
        assert (state.paused, state.note) == (False, "from the file")

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_spec_edited_by_hand_in_temporal_is_detected_and_restored(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        env.write("job", cron=CRON)
        await env.apply_and_settle()

        def edit(update: tc.ScheduleUpdateInput) -> tc.ScheduleUpdate:
            schedule = update.description.schedule
            schedule.spec.calendars = [
                tc.ScheduleCalendarSpec(
                    hour=[tc.ScheduleRange(17)], minute=[tc.ScheduleRange(0)], comment="by hand"
                )
            ]
            return tc.ScheduleUpdate(schedule=schedule)

        await env.handle("job").update(edit)
        await env.wait_listed(lambda listed: listed[sid].spec.calendars[0].hour[0].start == 17)

        result = await env.apply_until(
            lambda result: outcomes(result)[sid] is not Outcome.UNCHANGED
        )
        (operation,) = result.plan.operations
        assert operation.kind is Kind.UPDATE
        assert any("edited outside scheduled" in reason for reason in operation.reasons)
        assert outcomes(result)[sid] is Outcome.UPDATED
        restored = await env.describe("job")
        assert calendar_times(restored) == [(9, 0)]
        assert fire_hours(restored) == {(9, 0)}
        await env.settled()
        await env.apply()
        assert env.last_calls == Counter({"list": 1})

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_project_never_touches_the_schedules_of_a_project_whose_name_it_prefixes(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    other_project = f"{project_name}-bar"

    async def other(env: Env) -> None:
        env.write("x", cron="0 7 * * *")
        env.write("y", cron="0 8 * * *")
        await env.apply_and_settle()

    run_env(temporal_address, other_project, tmp_path / "bar", other)

    async def body(env: Env) -> None:
        env.write("a", cron=CRON)
        env.write("keep", cron=CRON)
        await env.apply_and_settle()
        listed = await env.gateway.list_schedules(schedule_id_prefix(env.project))
        assert f"schedule-{other_project}-x" in {item.schedule_id for item in listed}  # the trap

        env.remove("a")
        result = await env.apply()
        assert result.plan.managed == 2
        assert {item.schedule_id: item.outcome for item in result.report.results} == {
            env.schedule_id("a"): Outcome.DELETED,
            env.schedule_id("keep"): Outcome.UNCHANGED,
        }
        await env.settled()

        env.write("bar-x", cron="0 1 * * *")  # its schedule id is the other project's `x`
        clash = await env.apply()
        assert outcomes(clash)[f"schedule-{other_project}-x"] is Outcome.CONFLICT
        assert env.last_calls["update"] == env.last_calls["delete"] == 0

        theirs = await env.client.get_schedule_handle(f"schedule-{other_project}-x").describe()
        assert (await theirs.memo())[MEMO_KEY]["project"] == other_project
        assert calendar_times(theirs) == [(7, 0)]
        await env.client.get_schedule_handle(f"schedule-{other_project}-y").describe()

    run_env(temporal_address, project_name, tmp_path / "foo", body)


@pytest.mark.temporal
def test_unmarked_schedule_with_a_matching_id_is_a_conflict_and_left_alone(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        await env.create_unmarked("job")
        await env.create_unmarked("stray")
        env.write("job", cron=CRON)
        env.write("other", cron=CRON)
        await env.wait_listed(lambda listed: sid in listed and env.schedule_id("stray") in listed)
        result = await env.apply()
        assert outcomes(result)[sid] is Outcome.CONFLICT
        assert env.schedule_id("stray") not in outcomes(result)  # unmarked: never deleted
        assert env.last_calls == Counter({"list": 1, "create": 1})  # `other` only
        assert not result.report.converged
        for workflow_id in ("job", "stray"):
            described = await env.describe(workflow_id)
            assert described.schedule.action.workflow == "Handmade"  # type: ignore[union-attr]
            assert described.schedule.state.note == "made by hand"

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_create_that_finds_the_schedule_already_there_updates_it(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        env.write("job", cron=CRON)
        await env.apply_and_settle()
        env.write("job", cron="0 11 * * *")
        lagging = CountingGateway(env.gateway)
        lagging.hidden.add(sid)  # the list has not caught up: looks new
        result = await env.apply(gateway=lagging)
        (item,) = result.report.results
        assert item.outcome is Outcome.UPDATED and "list was behind" in item.reason
        assert lagging.calls == Counter({"list": 1, "create": 1, "describe": 1, "update": 1})
        assert calendar_times(await env.describe("job")) == [(11, 0)]

        await env.settled()
        lagging = CountingGateway(env.gateway)
        lagging.hidden.add(sid)
        again = await env.apply(gateway=lagging)
        assert outcomes(again)[sid] is Outcome.UNCHANGED  # described as up to date: no write
        assert lagging.calls == Counter({"list": 1, "create": 1, "describe": 1})

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_create_that_finds_an_operator_paused_schedule_keeps_the_pause(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        env.write("job", cron=CRON)
        await env.apply_and_settle()
        await env.handle("job").pause(note="ops")
        env.write("job", cron="0 11 * * *")
        lagging = CountingGateway(env.gateway)
        lagging.hidden.add(sid)
        assert outcomes(await env.apply(gateway=lagging))[sid] is Outcome.UPDATED
        described = await env.describe("job")
        assert calendar_times(described) == [(11, 0)]
        assert (described.schedule.state.paused, described.schedule.state.note) == (True, "ops")

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_create_that_finds_an_unmarked_schedule_reports_a_conflict(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        await env.create_unmarked("job")
        env.write("job", cron=CRON)
        lagging = CountingGateway(env.gateway)
        lagging.hidden.add(sid)
        result = await env.apply(gateway=lagging)
        assert outcomes(result)[sid] is Outcome.CONFLICT
        assert lagging.writes == 1  # the create that found it; no update
        assert (await env.describe("job")).schedule.state.note == "made by hand"

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_update_of_a_schedule_deleted_meanwhile_creates_it(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        env.write("job", cron=CRON)
        await env.apply_and_settle()
        lagging = CountingGateway(env.gateway)
        lagging.stale = await env.gateway.list_schedules(schedule_id_prefix(env.project))
        await env.handle("job").delete()
        env.write("job", cron="0 12 * * *")
        result = await env.apply(gateway=lagging)
        (item,) = result.report.results
        assert item.outcome is Outcome.CREATED and "deleted meanwhile" in item.reason
        assert lagging.calls == Counter({"list": 1, "update": 1, "create": 1})
        described = await env.describe("job")
        assert calendar_times(described) == [(12, 0)]
        assert (await described.memo())[MEMO_KEY]["project"] == env.project
        assert sid == item.schedule_id

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_delete_of_a_schedule_already_gone_is_done(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON)
        env.write("keep", cron=CRON)
        await env.apply_and_settle()
        lagging = CountingGateway(env.gateway)
        lagging.stale = await env.gateway.list_schedules(schedule_id_prefix(env.project))
        await env.handle("job").delete()
        env.remove("job")
        result = await env.apply(gateway=lagging)
        item = next(r for r in result.report.results if r.schedule_id == env.schedule_id("job"))
        assert (item.outcome, item.reason) == (Outcome.DELETED, "already gone")
        assert result.report.converged

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_invalid_file_keeps_its_schedule_exactly_as_it_is(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        env.write("job", cron=CRON, note="good")
        env.write("other", cron=CRON)
        await env.apply_and_settle()
        before = await env.describe("job")

        env.write_text("job.yaml", "id: job\nschedule: [unclosed\n")  # not YAML
        load = env.load()
        assert "job.yaml" in load.invalid_files
        assert "job" in load.claimed_workflow_ids  # read from the text's `id:` line
        broken = await env.apply()
        assert outcomes(broken)[sid] is Outcome.SKIPPED
        assert env.last_calls == Counter({"list": 1})

        env.write_text("job.yaml", workflow_yaml("job", cron="0 25 * * *"))  # id readable
        assert "job" in env.load().claimed_workflow_ids
        assert outcomes(await env.apply())[sid] is Outcome.SKIPPED
        assert env.last_calls == Counter({"list": 1})

        after = await env.describe("job")
        assert after.schedule.spec == before.schedule.spec
        assert after.schedule.state == before.schedule.state

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
@pytest.mark.parametrize(
    "broken",
    [
        "id: job\nworkflow: Job\ntask_queue: jobs\nschedule: [unclosed\n",  # not YAML
        workflow_yaml("job", cron="0 25 * * *"),  # YAML, but the cron is wrong
    ],
    ids=["syntax", "schema"],
)
def test_a_duplicate_that_becomes_invalid_never_deletes_the_schedule(
    temporal_address: str, project_name: str, tmp_path: Path, broken: str
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        env.write("job", cron=CRON, note="good")
        env.write("other", cron=CRON)
        await env.apply_and_settle()
        before = await env.describe("job")

        env.write("job", path="copy.yaml", cron=CRON, note="copy")  # the same id twice
        assert outcomes(await env.apply())[sid] is Outcome.SKIPPED
        env.remove("job")  # the schedule's own file goes; the copy is saved broken
        env.write_text("copy.yaml", broken)
        assert outcomes(await env.apply())[sid] is Outcome.SKIPPED
        await env.forget_recent_writes()
        assert outcomes(await env.apply())[sid] is Outcome.SKIPPED  # a full resync, too

        after = await env.describe("job")
        assert after.schedule.spec == before.schedule.spec
        assert after.schedule.state == before.schedule.state

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_end_at_in_the_past_is_not_created(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("ended")
        env.write("ended", cron=CRON, end_at="2020-01-01T00:00:00Z")
        env.write("live", cron=CRON)
        first = await env.apply()
        assert outcomes(first)[sid] is Outcome.SKIPPED
        assert env.last_calls == Counter({"list": 1, "create": 1})
        await env.settled()
        again = await env.apply()
        assert outcomes(again)[sid] is Outcome.SKIPPED
        assert env.last_calls == Counter({"list": 1})
        with pytest.raises(RPCError) as raised:
            await env.describe("ended")
        assert raised.value.status == RPCStatusCode.NOT_FOUND

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_files_the_globs_leave_out_keep_their_schedules_until_they_are_removed(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        legacy = ["old-a", "old-b", "old-c"]
        for workflow_id in legacy:
            env.write(workflow_id, path=f"legacy/{workflow_id}.yaml", cron=CRON, note="kept")
        env.write("current", cron=CRON)
        await env.apply_and_settle()
        before = await env.describe("old-a")

        env.selection = FileSelection(exclude=("legacy",))  # 3 of the 4 files drop out
        left_out = await env.apply()
        assert [outcomes(left_out)[env.schedule_id(x)] for x in legacy] == [Outcome.SKIPPED] * 3
        skipped = next(op for op in left_out.plan.operations if op.workflow_id == "old-a")
        assert "the include/exclude globs leave it out" in skipped.reasons[0]
        assert (left_out.plan.guard_message, env.last_calls) == ("", Counter({"list": 1}))
        after = await env.describe("old-a")
        assert (after.schedule.spec, after.schedule.state) == (
            before.schedule.spec,
            before.schedule.state,
        )

        (env.root / "legacy" / "old-a.yaml").unlink()  # really gone: its schedule goes too
        gone = await env.apply()
        assert outcomes(gone)[env.schedule_id("old-a")] is Outcome.DELETED
        assert outcomes(gone)[env.schedule_id("old-b")] is Outcome.SKIPPED
        await env.settled()

        for workflow_id in ("old-b", "old-c"):  # 2 of the 3 left: the prune guard stands
            (env.root / "legacy" / f"{workflow_id}.yaml").unlink()
        mass = await env.apply()
        assert [outcomes(mass)[env.schedule_id(x)] for x in ("old-b", "old-c")] == [
            Outcome.BLOCKED
        ] * 2

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_prune_guard(temporal_address: str, project_name: str, tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        for workflow_id in ("a", "b", "c"):
            env.write(workflow_id, cron=CRON)
        await env.apply_and_settle()
        for workflow_id in ("a", "b", "c"):
            env.remove(workflow_id)

        empty = await env.apply()
        assert set(outcomes(empty).values()) == {Outcome.BLOCKED}
        assert "no workflow files" in empty.plan.guard_message
        assert env.last_calls == Counter({"list": 1})

        env.write("a", cron=CRON)  # 2 of 3 would go: more than half
        mass = await env.apply()
        assert [outcomes(mass)[env.schedule_id(x)] for x in "bc"] == [Outcome.BLOCKED] * 2
        assert "--allow-mass-delete" in mass.plan.guard_message
        assert env.last_calls == Counter({"list": 1})

        no_prune = await env.apply(prune=False)
        assert [outcomes(no_prune)[env.schedule_id(x)] for x in "bc"] == [Outcome.SKIPPED] * 2
        assert env.last_calls == Counter({"list": 1})

        allowed = await env.apply(allow_mass_delete=True)
        assert [outcomes(allowed)[env.schedule_id(x)] for x in "bc"] == [Outcome.DELETED] * 2
        assert env.last_calls == Counter({"list": 1, "delete": 2})

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_list_reports_the_last_run_and_its_status(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        sid = env.schedule_id("job")
        env.write("job", cron=CRON)
        await env.apply_and_settle()
        await env.handle("job").trigger()
        listed = await env.wait_listed(lambda listed: bool(listed[sid].recent_runs))
        run = listed[sid].last_run
        assert run is not None
        assert run.status == "running"  # no worker polls the queue
        assert run.workflow_id.startswith(f"{env.project}-job")
        described = await env.gateway.describe(sid)
        assert described.last_run is not None and described.last_run.status == "running"
        await env.client.get_workflow_handle(run.workflow_id).terminate("test done")

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_a_backfill_over_a_skipped_day_starts_no_run_on_it_and_one_on_each_other_day(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    """The exclusion holds for Temporal itself, in the schedule's zone: 09:00 in Berlin is
    08:00 UTC in November, and 2026-11-03 is skipped there."""
    skipped = "2026-11-03"

    async def body(env: Env) -> None:
        env.write("holiday", cron="0 9 * * *", timezone="Europe/Berlin", skip=[skipped])
        await env.apply_and_settle()
        await env.handle("holiday").backfill(
            tc.ScheduleBackfill(
                start_at=datetime(2026, 11, 1, tzinfo=UTC),
                end_at=datetime(2026, 11, 6, tzinfo=UTC),
                overlap=tc.ScheduleOverlapPolicy.ALLOW_ALL,
            )
        )
        prefix = f"{env.project}-holiday-"
        query = f'WorkflowId STARTS_WITH "{prefix}"'
        started: list[str] = []
        actions = 0
        for _ in range(200):  # the backfill runs in the scheduler; visibility lags behind it
            actions = (await env.describe("holiday")).info.num_actions
            started = sorted([run.id async for run in env.client.list_workflows(query)])
            if actions >= 4 and len(started) >= actions:
                break
            await anyio.sleep(0.05)
        await anyio.sleep(0.5)  # a run on the skipped day, had there been one, shows by now
        assert actions == (await env.describe("holiday")).info.num_actions == 4
        for workflow_id in started:
            await env.client.get_workflow_handle(workflow_id).terminate("test done")
        assert [workflow_id.removeprefix(prefix) for workflow_id in started] == [
            f"2026-11-0{day}T08:00:00Z" for day in (1, 2, 4, 5)
        ]

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_gateway_refuses_a_value_the_sdk_cannot_send_as_that_schedules_failure(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    """A value past what Temporal's protobuf holds (a 2**40 step: ranges are int32) raises in
    the SDK before any RPC; it must fail that one schedule with its file named, not the pass."""

    async def body(env: Env) -> None:
        env.write("job", cron=CRON)
        schedule = env.load().desired["job"]
        (calendar,) = schedule.spec.calendars
        too_big = dataclasses.replace(calendar, minute=(Range(0, 59, 2**40),))
        schedule = dataclasses.replace(
            schedule, spec=dataclasses.replace(schedule.spec, calendars=(too_big,))
        )
        write = ScheduleWrite(
            project=env.project,
            schedule=schedule,
            paused=False,
            note="",
            record=record_for(schedule, Revision()),
        )
        with pytest.raises(PermanentGatewayError, match=r"job\.yaml: Temporal's SDK cannot send"):
            await env.gateway.create(write)
        with pytest.raises(PermanentGatewayError, match=r"job\.yaml: Temporal's SDK cannot send"):
            await env.gateway.update(write)

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_gateway_describe_of_a_missing_schedule_raises_not_found(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        with pytest.raises(ScheduleNotFoundError):
            await env.gateway.describe(env.schedule_id("nothing"))
        with pytest.raises(ScheduleNotFoundError):
            await env.gateway.delete(env.schedule_id("nothing"))

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_the_server_fires_intervals_on_whole_seconds_but_honours_a_sub_second_jitter(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    """The facts behind refusing `every: 1.5s` and `offset: 2.5s` and keeping `jitter: 500ms`."""

    async def next_times(env: Env, name: str, spec: tc.ScheduleSpec) -> list[datetime]:
        schedule_id = f"probe-{env.project}-{name}"
        action = tc.ScheduleActionStartWorkflow("Probe", id=schedule_id, task_queue="probe")
        handle = await env.client.create_schedule(
            schedule_id, tc.Schedule(action=action, spec=spec, state=tc.ScheduleState(paused=True))
        )
        try:
            return (await handle.describe()).info.next_action_times
        finally:
            await handle.delete()

    async def body(env: Env) -> None:
        every = tc.ScheduleIntervalSpec(every=timedelta(seconds=1.5))
        fired = await next_times(env, "every", tc.ScheduleSpec(intervals=[every]))
        assert {b - a for a, b in itertools.pairwise(fired)} == {S}  # not 1.5 s

        shifted = tc.ScheduleIntervalSpec(every=M, offset=timedelta(seconds=2.5))
        fired = await next_times(env, "offset", tc.ScheduleSpec(intervals=[shifted]))
        assert {(t.second, t.microsecond) for t in fired} == {(2, 0)}  # 2.5 s cut to 2 s

        with pytest.raises(RPCError, match="interval is too small"):
            tiny = tc.ScheduleIntervalSpec(every=timedelta(milliseconds=500))
            await next_times(env, "tiny", tc.ScheduleSpec(intervals=[tiny]))

        jittered = tc.ScheduleSpec(intervals=[tc.ScheduleIntervalSpec(every=M)], jitter=500 * MS)
        fired = await next_times(env, "jitter", jittered)
        assert any(t.microsecond for t in fired)  # delayed by fractions of a second
        assert all(t.second == 0 and t.microsecond < 500_000 for t in fired)

    run_env(temporal_address, project_name, tmp_path, body)


@pytest.mark.temporal
def test_gateway_reports_an_invalid_argument_as_permanent(
    temporal_address: str, project_name: str, tmp_path: Path
) -> None:
    async def body(env: Env) -> None:
        env.write("job", cron=CRON)
        schedule = env.load().desired["job"]
        bad = dataclasses.replace(
            schedule, spec=dataclasses.replace(schedule.spec, timezone="Not/AZone")
        )
        result = await env.apply()
        assert result.report.converged
        write = write_for(
            Operation(
                kind=Kind.UPDATE,
                schedule_id=bad.schedule_id,
                workflow_id="job",
                source="job.yaml",
                desired=bad,
            ),
            PassContext(project=env.project),
        )
        with pytest.raises(PermanentGatewayError) as raised:
            await env.gateway.update(write)
        assert raised.value.status == "INVALID_ARGUMENT"

    run_env(temporal_address, project_name, tmp_path, body)
