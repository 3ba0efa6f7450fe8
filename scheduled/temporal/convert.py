"""Conversion between `scheduled`'s plain values and the SDK's types, both ways.

No calls to the server: everything here is a function of its arguments (decoding payloads
needs the client's data converter, passed in), so round trips are unit-tested without a server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import temporalio.api.common.v1
import temporalio.api.enums.v1
import temporalio.api.schedule.v1
import temporalio.api.workflowservice.v1
import temporalio.client as tc
import temporalio.common
import temporalio.converter

from scheduled.model import server_defaults
from scheduled.model.calendar import Calendar, Interval, Range
from scheduled.model.desired import (
    RESERVED_ATTRIBUTE_PREFIX,
    Action,
    AttributeType,
    OverlapPolicy,
    Policies,
    Priority,
    RetryPolicy,
    SearchAttribute,
    Spec,
    canonical_json,
)
from scheduled.model.observed import Detail, ObservedSchedule, RecentRun
from scheduled.model.server_defaults import stored_fairness_weight
from scheduled.reconcile.gateway import ScheduleWrite
from scheduled.temporal.marker import (
    MEMO_KEY,
    is_record_calendar,
    journal_note,
    owner_from_memo,
    parse_record,
    record_calendar,
)

_OVERLAP = {
    OverlapPolicy.SKIP: tc.ScheduleOverlapPolicy.SKIP,
    OverlapPolicy.BUFFER_ONE: tc.ScheduleOverlapPolicy.BUFFER_ONE,
    OverlapPolicy.BUFFER_ALL: tc.ScheduleOverlapPolicy.BUFFER_ALL,
    OverlapPolicy.CANCEL_OTHER: tc.ScheduleOverlapPolicy.CANCEL_OTHER,
    OverlapPolicy.TERMINATE_OTHER: tc.ScheduleOverlapPolicy.TERMINATE_OTHER,
    OverlapPolicy.ALLOW_ALL: tc.ScheduleOverlapPolicy.ALLOW_ALL,
}
_OVERLAP_BACK = {value: key for key, value in _OVERLAP.items()}


# -- scheduled -> SDK ----------------------------------------------------------------------


def sdk_schedule(write: ScheduleWrite) -> tc.Schedule:
    """The complete schedule a create or update sends: Temporal replaces spec, action, policies
    and state whole, so nothing may be left to what the server held before."""
    schedule = write.schedule
    spec, action, policies = schedule.spec, schedule.action, schedule.policies
    return tc.Schedule(
        action=tc.ScheduleActionStartWorkflow(
            action.workflow_type,
            # No argument is no payload at all: a zero-argument workflow in a strict SDK
            # fails on an extra one.
            args=action.args,
            id=action.workflow_id,
            task_queue=action.task_queue,
            execution_timeout=action.execution_timeout,
            run_timeout=action.run_timeout,
            task_timeout=action.task_timeout,
            retry_policy=_sdk_retry(action.retry),
            memo=action.memo or None,
            typed_search_attributes=sdk_search_attributes(action.search_attributes),
            static_summary=action.summary or None,
            static_details=action.details or None,
            priority=_sdk_priority(action.priority),
        ),
        spec=tc.ScheduleSpec(
            calendars=[sdk_calendar(calendar) for calendar in spec.calendars],
            intervals=[
                tc.ScheduleIntervalSpec(every=interval.every, offset=interval.offset or None)
                for interval in spec.intervals
            ],
            # The record first: list results cut the exclude calendars to their first 10
            # (checked against a real server), and the record must survive that cut.
            skip=[sdk_calendar(record_calendar(write.record))]
            + [sdk_calendar(calendar) for calendar in spec.skip],
            start_at=spec.start_at,
            end_at=spec.end_at,
            jitter=spec.jitter or None,
            time_zone_name=spec.timezone,
        ),
        policy=tc.SchedulePolicy(
            overlap=_OVERLAP[policies.overlap],
            catchup_window=policies.catchup_window or server_defaults.CATCHUP_WINDOW,
            pause_on_failure=policies.pause_on_failure,
        ),
        state=tc.ScheduleState(
            paused=write.paused,
            note=write.note or None,
            limited_actions=write.remaining_runs is not None,
            remaining_actions=write.remaining_runs or 0,
        ),
    )


def sdk_journal_schedule(journal: Mapping[str, float]) -> tc.Schedule:
    """The journal as a schedule that never starts anything: paused, and firing once a year
    (a spec that can never fire would be deleted by the server on its own)."""
    return tc.Schedule(
        action=tc.ScheduleActionStartWorkflow(
            "scheduled-journal", id="scheduled-journal", task_queue="scheduled-journal"
        ),
        spec=tc.ScheduleSpec(
            calendars=[
                tc.ScheduleCalendarSpec(
                    month=(tc.ScheduleRange(1),), day_of_month=(tc.ScheduleRange(1),)
                )
            ]
        ),
        state=tc.ScheduleState(paused=True, note=journal_note(journal)),
    )


_SDK_KEYS: dict[AttributeType, Callable[[str], temporalio.common.SearchAttributeKey[Any]]] = {
    AttributeType.KEYWORD: temporalio.common.SearchAttributeKey.for_keyword,
    AttributeType.TEXT: temporalio.common.SearchAttributeKey.for_text,
    AttributeType.INT: temporalio.common.SearchAttributeKey.for_int,
    AttributeType.DOUBLE: temporalio.common.SearchAttributeKey.for_float,
    AttributeType.BOOL: temporalio.common.SearchAttributeKey.for_bool,
    AttributeType.DATETIME: temporalio.common.SearchAttributeKey.for_datetime,
    AttributeType.KEYWORD_LIST: temporalio.common.SearchAttributeKey.for_keyword_list,
}
_TYPES_BACK = {
    temporalio.common.SearchAttributeIndexedValueType.KEYWORD: AttributeType.KEYWORD,
    temporalio.common.SearchAttributeIndexedValueType.TEXT: AttributeType.TEXT,
    temporalio.common.SearchAttributeIndexedValueType.INT: AttributeType.INT,
    temporalio.common.SearchAttributeIndexedValueType.DOUBLE: AttributeType.DOUBLE,
    temporalio.common.SearchAttributeIndexedValueType.BOOL: AttributeType.BOOL,
    temporalio.common.SearchAttributeIndexedValueType.DATETIME: AttributeType.DATETIME,
    temporalio.common.SearchAttributeIndexedValueType.KEYWORD_LIST: AttributeType.KEYWORD_LIST,
}


def sdk_search_attributes(
    attributes: Sequence[SearchAttribute],
) -> temporalio.common.TypedSearchAttributes:
    pairs: list[temporalio.common.SearchAttributePair[Any]] = [
        temporalio.common.SearchAttributePair(
            _SDK_KEYS[attribute.type](attribute.name),
            list(attribute.value) if isinstance(attribute.value, tuple) else attribute.value,
        )
        for attribute in attributes
    ]
    return temporalio.common.TypedSearchAttributes(pairs)


def _sdk_priority(priority: Priority | None) -> temporalio.common.Priority:
    if priority is None:
        return temporalio.common.Priority.default
    return temporalio.common.Priority(
        priority_key=priority.priority_key,
        fairness_key=priority.fairness_key or None,
        fairness_weight=priority.fairness_weight,
    )


def _sdk_retry(retry: RetryPolicy | None) -> temporalio.common.RetryPolicy | None:
    if retry is None:
        return None
    return temporalio.common.RetryPolicy(
        initial_interval=retry.initial_interval or server_defaults.RETRY_INITIAL_INTERVAL,
        backoff_coefficient=retry.backoff_coefficient or server_defaults.RETRY_BACKOFF_COEFFICIENT,
        maximum_interval=retry.maximum_interval,
        maximum_attempts=retry.maximum_attempts or 0,
        non_retryable_error_types=list(retry.non_retryable_error_types) or None,
    )


def _sdk_ranges(ranges: Sequence[Range]) -> tuple[tc.ScheduleRange, ...]:
    return tuple(tc.ScheduleRange(start=r.start, end=r.end, step=r.step) for r in ranges)


def sdk_calendar(calendar: Calendar) -> tc.ScheduleCalendarSpec:
    return tc.ScheduleCalendarSpec(
        second=_sdk_ranges(calendar.second),
        minute=_sdk_ranges(calendar.minute),
        hour=_sdk_ranges(calendar.hour),
        day_of_month=_sdk_ranges(calendar.day_of_month),
        month=_sdk_ranges(calendar.month),
        year=_sdk_ranges(calendar.year),
        day_of_week=_sdk_ranges(calendar.day_of_week),
        comment=calendar.comment or None,
    )


# -- SDK -> scheduled ----------------------------------------------------------------------


def _ranges(ranges: Sequence[tc.ScheduleRange]) -> tuple[Range, ...]:
    return tuple(Range(r.start, r.end, r.step) for r in ranges)


def calendar_from_sdk(spec: tc.ScheduleCalendarSpec) -> Calendar:
    """The SDK's calendar as scheduled's plain value (also used by the cron tests)."""
    return Calendar(
        second=_ranges(spec.second),
        minute=_ranges(spec.minute),
        hour=_ranges(spec.hour),
        day_of_month=_ranges(spec.day_of_month),
        month=_ranges(spec.month),
        year=_ranges(spec.year),
        day_of_week=_ranges(spec.day_of_week),
        comment=spec.comment or "",
    )


def search_attributes_from_sdk(
    attributes: temporalio.common.TypedSearchAttributes,
) -> tuple[SearchAttribute, ...]:
    """The attributes sorted by name, with the type each came back with (describe gives the
    type they were written with, list the namespace's: compare values only). Temporal's own
    are left out: they are not scheduled's to compare, keep or send (the dev server does not
    return them; a server whose visibility store does must not have them sent back)."""
    found = [
        SearchAttribute(
            name=pair.key.name,
            type=_TYPES_BACK[pair.key.indexed_value_type],
            value=_attribute_value(pair.value),
        )
        for pair in attributes
        if pair.key.indexed_value_type in _TYPES_BACK
        and not pair.key.name.startswith(RESERVED_ATTRIBUTE_PREFIX)
    ]
    return tuple(sorted(found, key=lambda attribute: attribute.name))


def _attribute_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def observed_schedule(
    schedule_id: str,
    memo: Mapping[str, Any],
    spec: tc.ScheduleSpec,
    workflow_type: str,
    *,
    paused: bool,
    note: str,
    next_runs: tuple[Any, ...],
    recent: Sequence[temporalio.api.schedule.v1.ScheduleActionResult],
    search_attributes: tuple[SearchAttribute, ...] = (),
) -> ObservedSchedule:
    """What a list entry or a describe shows, without the record calendar in the spec."""
    record = None
    for excluded in spec.skip:
        if excluded.comment and (parsed := parse_record(excluded.comment)) is not None:
            record = parsed
    exclusions = tuple(
        calendar
        for calendar in map(calendar_from_sdk, spec.skip)
        if not is_record_calendar(calendar)
    )
    calendars = tuple(
        calendar
        for calendar in map(calendar_from_sdk, spec.calendars)
        if not is_record_calendar(calendar)
    )
    return ObservedSchedule(
        schedule_id=schedule_id,
        owner=owner_from_memo(dict(memo)),
        record=record,
        spec=Spec(
            calendars=calendars,
            intervals=tuple(
                Interval(every=i.every, offset=i.offset or timedelta(0)) for i in spec.intervals
            ),
            timezone=spec.time_zone_name or "UTC",
            jitter=spec.jitter or timedelta(0),
            start_at=spec.start_at,
            end_at=spec.end_at,
            skip=exclusions,
        ),
        workflow_type=workflow_type,
        paused=paused,
        note=note,
        next_runs=next_runs,
        recent_runs=tuple(recent_run(result) for result in recent),
        search_attributes=search_attributes,
    )


def recent_run(result: temporalio.api.schedule.v1.ScheduleActionResult) -> RecentRun:
    """From the raw proto: the SDK's ScheduleActionResult drops the run's status."""
    status = result.start_workflow_status
    name = (
        temporalio.api.enums.v1.WorkflowExecutionStatus.Name(status)
        .removeprefix("WORKFLOW_EXECUTION_STATUS_")
        .lower()
    )
    return RecentRun(
        scheduled_at=result.schedule_time.ToDatetime(tzinfo=UTC),
        started_at=result.actual_time.ToDatetime(tzinfo=UTC)
        if result.HasField("actual_time")
        else None,
        workflow_id=result.start_workflow_result.workflow_id,
        status="unknown" if name == "unspecified" else name,
    )


def sdk_overlap(overlap: OverlapPolicy | None) -> tc.ScheduleOverlapPolicy | None:
    """The overlap policy of a trigger or backfill; None: the schedule's own."""
    return _OVERLAP[overlap] if overlap is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedAction:
    """What decoding the payloads of a described action gives, as the model holds it."""

    args_json: str = "[]"
    memo_json: str = "{}"
    summary: str = ""
    details: str = ""


def detail_from_sdk(
    schedule: tc.Schedule,
    action: tc.ScheduleActionStartWorkflow,
    decoded: DecodedAction,
    *,
    raw: temporalio.api.workflowservice.v1.DescribeScheduleResponse | None = None,
) -> Detail:
    """The parts only a describe returns: policies and the complete action (with `raw`, the
    describe's own answer, also what the model cannot hold)."""
    return Detail(
        argument_count=len(raw.schedule.action.start_workflow.input.payloads) if raw else 1,
        unsupported=unsupported_parts(raw) if raw else (),
        # A schedule that used up its runs stays limited with 0 remaining (checked on a dev
        # server); manual triggers and backfills start runs without counting down.
        remaining_runs=schedule.state.remaining_actions if schedule.state.limited_actions else None,
        policies=Policies(
            overlap=_OVERLAP_BACK.get(schedule.policy.overlap, OverlapPolicy.SKIP),
            catchup_window=schedule.policy.catchup_window,
            pause_on_failure=schedule.policy.pause_on_failure,
        ),
        action=Action(
            workflow_type=action.workflow,
            task_queue=action.task_queue or "",
            workflow_id=action.id or "",
            args_json=decoded.args_json,
            execution_timeout=action.execution_timeout,
            run_timeout=action.run_timeout,
            task_timeout=action.task_timeout,
            retry=_retry_from_sdk(action.retry_policy),
            memo_json=decoded.memo_json,
            summary=decoded.summary,
            details=decoded.details,
            priority=priority_from_sdk(action.priority),
            search_attributes=search_attributes_from_sdk(action.typed_search_attributes),
        ),
    )


def priority_from_sdk(priority: temporalio.common.Priority | None) -> Priority | None:
    """None for Temporal's defaults: describe returns a priority even where none was set."""
    if priority is None:
        return None
    weight = priority.fairness_weight
    found = Priority(
        priority_key=priority.priority_key or None,
        fairness_key=priority.fairness_key or "",
        fairness_weight=stored_fairness_weight(weight) if weight else None,
    )
    return found if found != Priority() else None


def unsupported_parts(
    described: temporalio.api.workflowservice.v1.DescribeScheduleResponse,
) -> tuple[str, ...]:
    """What a described schedule holds that `ObservedSchedule` and `Detail` leave out, and so
    a workflow file cannot say, in a few words each; empty for what scheduled writes.

    Read from the raw answer, field by field of Temporal's protos, so nothing is decoded (a
    memo another team's codec wrote is still named) and a field the SDK does not expose is
    not missed."""
    schedule = described.schedule
    spec, workflow = schedule.spec, schedule.action.start_workflow
    parts: list[str] = []
    # Structured exclude calendars are a file's `skip`; only the older string form is not.
    if spec.exclude_calendar:
        parts.append(
            f"{len(spec.exclude_calendar)} exclusion calendar(s) in Temporal's older "
            "CalendarSpec form"
        )
    if spec.calendar:
        parts.append(f"{len(spec.calendar)} calendar(s) in Temporal's older CalendarSpec form")
    if spec.timezone_data:
        parts.append("its own time zone data (timezone_data)")
    if schedule.policies.keep_original_workflow_id:
        parts.append("the keep_original_workflow_id policy")
    if workflow.header.fields:
        parts.append(f"workflow headers ({', '.join(sorted(workflow.header.fields))})")
    if workflow.HasField("versioning_override"):
        parts.append("a worker versioning override")
    if workflow.workflow_id_reuse_policy:
        parts.append("a workflow id reuse policy")
    if workflow.cron_schedule:
        parts.append("a cron_schedule on the started workflow itself")
    memo_keys = sorted(key for key in described.memo.fields if key != MEMO_KEY)
    if memo_keys:
        parts.append(f"a schedule memo ({', '.join(memo_keys)})")
    return tuple(parts)


async def decode_action(
    converter: temporalio.converter.DataConverter, action: tc.ScheduleActionStartWorkflow
) -> DecodedAction:
    """The workflow arguments, memo, summary and details, as the model holds them.

    From a describe, all are raw payloads. No argument reads back as no argument (`[]`),
    as `scheduled` writes a file without `input` or `args`."""
    payloads = [arg for arg in action.args if isinstance(arg, temporalio.api.common.v1.Payload)]
    args = await converter.decode(payloads) if payloads else list(action.args)
    memo: dict[str, Any] = {}
    for key, value in (action.memo or {}).items():
        if isinstance(value, temporalio.api.common.v1.Payload):
            memo[key] = (await converter.decode([value]))[0]
        else:
            memo[key] = value
    return DecodedAction(
        args_json=canonical_json(args),
        memo_json=canonical_json(memo),
        summary=await _text(converter, action.static_summary),
        details=await _text(converter, action.static_details),
    )


async def _text(
    converter: temporalio.converter.DataConverter,
    value: str | temporalio.api.common.v1.Payload | None,
) -> str:
    if isinstance(value, temporalio.api.common.v1.Payload):
        if not value.metadata and not value.data:
            return ""  # the SDK hands an unset summary over as an empty payload
        decoded = (await converter.decode([value]))[0]
        return str(decoded) if decoded is not None else ""
    return value or ""


def _retry_from_sdk(policy: temporalio.common.RetryPolicy | None) -> RetryPolicy | None:
    if policy is None:
        return None
    return RetryPolicy(
        maximum_attempts=policy.maximum_attempts or None,
        initial_interval=policy.initial_interval,
        backoff_coefficient=policy.backoff_coefficient,
        maximum_interval=policy.maximum_interval,
        non_retryable_error_types=tuple(policy.non_retryable_error_types or ()),
    )
