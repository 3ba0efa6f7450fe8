"""The Temporal gateway: the only module that imports temporalio.

It converts between `scheduled`'s plain values and the SDK's, and translates SDK errors into the
typed errors of `scheduled.gateway`, chained with `raise ... from`.
"""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from functools import cache
from typing import Any, TypeVar

import anyio
import temporalio.api.common.v1
import temporalio.api.enums.v1
import temporalio.api.schedule.v1
import temporalio.api.workflowservice.v1 as workflowservice
import temporalio.client as tc
import temporalio.common
import temporalio.runtime
import temporalio.service
from temporalio import envconfig

from scheduled import __version__
from scheduled.calendar import Calendar, Interval, Range
from scheduled.gateway import (
    GatewayError,
    PermanentGatewayError,
    ScheduleExistsError,
    ScheduleNotFoundError,
    ScheduleWrite,
    TransientGatewayError,
)
from scheduled.marker import (
    is_record_calendar,
    owner_from_memo,
    ownership_memo,
    parse_record,
    record_calendar,
)
from scheduled.model import Action, OverlapPolicy, Policies, RetryPolicy, Spec, canonical_json
from scheduled.observed import Detail, ObservedSchedule, RecentRun

_TRANSIENT = {
    temporalio.service.RPCStatusCode.UNAVAILABLE,
    temporalio.service.RPCStatusCode.RESOURCE_EXHAUSTED,
    temporalio.service.RPCStatusCode.DEADLINE_EXCEEDED,
    temporalio.service.RPCStatusCode.ABORTED,
    temporalio.service.RPCStatusCode.INTERNAL,
    temporalio.service.RPCStatusCode.UNKNOWN,
    temporalio.service.RPCStatusCode.CANCELLED,
}
_OVERLAP = {
    OverlapPolicy.SKIP: tc.ScheduleOverlapPolicy.SKIP,
    OverlapPolicy.BUFFER_ONE: tc.ScheduleOverlapPolicy.BUFFER_ONE,
    OverlapPolicy.BUFFER_ALL: tc.ScheduleOverlapPolicy.BUFFER_ALL,
    OverlapPolicy.CANCEL_OTHER: tc.ScheduleOverlapPolicy.CANCEL_OTHER,
    OverlapPolicy.TERMINATE_OTHER: tc.ScheduleOverlapPolicy.TERMINATE_OTHER,
    OverlapPolicy.ALLOW_ALL: tc.ScheduleOverlapPolicy.ALLOW_ALL,
}
T = TypeVar("T")


def run_event_loop(function: Callable[[], Awaitable[T]]) -> T:
    """anyio.run, then drop temporalio clients while the interpreter is fully alive.

    A client that is still referenced (through reference cycles) when the process exits is
    freed during interpreter finalization, and its Rust threads then abort the process
    ("Fatal Python error: PyGILState_Release", exit status 134) in a few percent of short runs
    (temporalio/sdk-python#300). Collecting right after the event loop ends avoids it (measured:
    16/40 aborts for a bare connect + list script, 0/100 with the collection).
    """
    try:
        return anyio.run(function)
    finally:
        gc.collect()


@cache
def _runtime() -> temporalio.runtime.Runtime:
    """One SDK runtime whose Rust-core logs go to Python logging (and from there to loguru),
    instead of plain lines on stderr that would break JSON log output."""
    return temporalio.runtime.Runtime(
        telemetry=temporalio.runtime.TelemetryConfig(
            logging=temporalio.runtime.LoggingConfig(
                filter=temporalio.runtime.TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=temporalio.runtime.LogForwardingConfig(
                    logger=logging.getLogger("temporalio.core")
                ),
            )
        )
    )


_OVERLAP_BACK = {value: key for key, value in _OVERLAP.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """Where to connect. None fields fall back to Temporal's env vars / profile, then defaults."""

    address: str | None = None
    namespace: str | None = None
    api_key: str | None = None
    tls: bool | None = None
    profile: str | None = None

    def resolve(self) -> dict[str, Any]:
        """Connect arguments: these settings over temporalio's envconfig (TEMPORAL_* env vars
        and the profile file) over localhost:7233/default."""
        try:
            loaded: dict[str, Any] = dict(
                envconfig.ClientConfig.load_client_connect_config(profile=self.profile)
            )
        except Exception as error:  # envconfig raises plain errors for a bad profile file
            raise PermanentGatewayError(f"cannot read Temporal's client config: {error}") from error
        loaded.setdefault("target_host", "localhost:7233")
        if self.address:
            loaded["target_host"] = self.address
        if self.namespace:
            loaded["namespace"] = self.namespace
        if self.api_key:
            loaded["api_key"] = self.api_key
            loaded.setdefault("tls", True)
        if self.tls is False:
            loaded["tls"] = False
        elif self.tls and not loaded.get("tls"):
            loaded["tls"] = True  # keep envconfig's TLSConfig (mTLS client cert) when it has one
        loaded.setdefault("namespace", "default")
        return loaded

    def describe(self) -> str:
        """For logs: never includes the API key."""
        resolved = self.resolve()
        return f"{resolved['target_host']} (namespace {resolved['namespace']})"


class TemporalGateway:
    """ScheduleGateway over one temporalio Client."""

    def __init__(self, client: tc.Client) -> None:
        self._client = client

    @classmethod
    async def connect(cls, connection: Connection) -> TemporalGateway:
        arguments = connection.resolve()
        target = arguments.pop("target_host")
        try:
            client = await tc.Client.connect(
                target, identity=f"scheduled/{__version__}", runtime=_runtime(), **arguments
            )
        except RuntimeError as error:  # the SDK reports connect failures as RuntimeError
            raise TransientGatewayError(
                f"cannot connect to Temporal at {target}: {error}", status="UNAVAILABLE"
            ) from error
        return cls(client)

    @property
    def namespace(self) -> str:
        return self._client.namespace

    # -- reads ---------------------------------------------------------------------------

    async def list_schedules(self, id_prefix: str) -> list[ObservedSchedule]:
        # Visibility queries are eventually consistent and rate-limited on real clusters:
        # one query, large pages.
        query = f'ScheduleId STARTS_WITH "{id_prefix}"'
        found: list[ObservedSchedule] = []
        try:
            async for entry in await self._client.list_schedules(query, page_size=1000):
                if not entry.id.startswith(id_prefix):
                    continue
                found.append(await self._from_list_entry(entry))
        except temporalio.service.RPCError as error:
            raise _translate(error, "") from error
        return found

    async def _from_list_entry(self, entry: tc.ScheduleListDescription) -> ObservedSchedule:
        schedule = entry.schedule
        spec = schedule.spec if schedule else tc.ScheduleSpec()
        workflow_type = ""
        if schedule and isinstance(schedule.action, tc.ScheduleListActionStartWorkflow):
            workflow_type = schedule.action.workflow
        memo = await _schedule_memo(entry.memo) if entry.raw_entry.HasField("memo") else {}
        return _observed(
            entry.id,
            memo,
            spec,
            workflow_type,
            paused=bool(schedule and schedule.state.paused),
            note=(schedule.state.note or "") if schedule else "",
            next_runs=tuple(entry.info.next_action_times) if entry.info else (),
            recent=entry.raw_entry.info.recent_actions if entry.raw_entry.HasField("info") else (),
        )

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        handle = self._client.get_schedule_handle(schedule_id)
        try:
            description = await handle.describe()
        except temporalio.service.RPCError as error:
            raise _translate(error, schedule_id) from error
        schedule = description.schedule
        action = schedule.action
        if not isinstance(action, tc.ScheduleActionStartWorkflow):
            raise PermanentGatewayError(
                "the schedule's action does not start a workflow", schedule_id=schedule_id
            )
        try:
            input_json, memo_json = await self._decode_action(action)
        except Exception as error:  # a payload this client's data converter cannot read
            raise PermanentGatewayError(
                f"cannot decode the schedule's workflow input or memo: {error}",
                schedule_id=schedule_id,
            ) from error
        observed = _observed(
            schedule_id,
            await _schedule_memo(description.memo),
            schedule.spec,
            action.workflow,
            paused=schedule.state.paused,
            note=schedule.state.note or "",
            next_runs=tuple(description.info.next_action_times),
            recent=description.raw_description.info.recent_actions,
        )
        detail = Detail(
            policies=Policies(
                overlap=_OVERLAP_BACK.get(schedule.policy.overlap, OverlapPolicy.SKIP),
                catchup_window=schedule.policy.catchup_window,
                pause_on_failure=schedule.policy.pause_on_failure,
            ),
            action=Action(
                workflow_type=action.workflow,
                task_queue=action.task_queue or "",
                workflow_id=action.id or "",
                input_json=input_json,
                execution_timeout=action.execution_timeout,
                run_timeout=action.run_timeout,
                task_timeout=action.task_timeout,
                retry=_retry_back(action.retry_policy),
                memo_json=memo_json,
            ),
        )
        return replace(observed, detail=detail)

    async def _decode_action(self, action: tc.ScheduleActionStartWorkflow) -> tuple[str, str]:
        """The single workflow argument and the workflow memo, as canonical JSON text.

        From a describe, both are raw payloads; `scheduled` writes one argument (the file's
        `input`, `{}` when absent), so no argument reads back as `{}` too.
        """
        converter = self._client.data_converter
        payloads = [arg for arg in action.args if isinstance(arg, temporalio.api.common.v1.Payload)]
        args = await converter.decode(payloads) if payloads else list(action.args)
        memo: dict[str, Any] = {}
        for key, value in (action.memo or {}).items():
            if isinstance(value, temporalio.api.common.v1.Payload):
                memo[key] = (await converter.decode([value]))[0]
            else:
                memo[key] = value
        return canonical_json(args[0] if args else {}), canonical_json(memo)

    # -- writes --------------------------------------------------------------------------

    async def create(self, write: ScheduleWrite) -> None:
        try:
            await self._client.create_schedule(
                write.schedule.schedule_id,
                _sdk_schedule(write),
                memo=ownership_memo(write.project),
            )
        except tc.ScheduleAlreadyRunningError as error:
            raise ScheduleExistsError(
                "a schedule with this id already exists", schedule_id=write.schedule.schedule_id
            ) from error
        except temporalio.service.RPCError as error:
            raise _translate(error, write.schedule.schedule_id) from error

    async def update(self, write: ScheduleWrite) -> None:
        # One raw UpdateSchedule RPC with the complete schedule. ScheduleHandle.update() would
        # describe first (2 RPCs, measured 4x slower for 1000 schedules) only to hand us a
        # schedule we replace whole anyway.
        schedule_id = write.schedule.schedule_id
        try:
            proto = await _sdk_schedule(write)._to_proto(self._client)
            await self._client.workflow_service.update_schedule(
                workflowservice.UpdateScheduleRequest(
                    namespace=self._client.namespace,
                    schedule_id=schedule_id,
                    schedule=proto,
                    identity=self._client.identity,
                    request_id=str(uuid.uuid4()),
                )
            )
        except temporalio.service.RPCError as error:
            raise _translate(error, schedule_id) from error

    async def delete(self, schedule_id: str) -> None:
        try:
            await self._client.get_schedule_handle(schedule_id).delete()
        except temporalio.service.RPCError as error:
            raise _translate(error, schedule_id) from error


async def _schedule_memo(read: Callable[[], Awaitable[Mapping[str, Any]]]) -> Mapping[str, Any]:
    """The schedule-level memo; one this client cannot decode (another team's codec) is not
    ours, and must not break the listing of the schedules that are."""
    try:
        return await read()
    except Exception:
        return {}


def _translate(error: temporalio.service.RPCError, schedule_id: str) -> GatewayError:
    status = error.status
    name = status.name if status is not None else "UNKNOWN"
    message = f"Temporal answered {name}: {error.message}"
    if status == temporalio.service.RPCStatusCode.NOT_FOUND:
        return ScheduleNotFoundError(message, schedule_id=schedule_id, status=name)
    if status == temporalio.service.RPCStatusCode.ALREADY_EXISTS:
        return ScheduleExistsError(message, schedule_id=schedule_id, status=name)
    if status in _TRANSIENT:
        return TransientGatewayError(message, schedule_id=schedule_id, status=name)
    return PermanentGatewayError(message, schedule_id=schedule_id, status=name)


def _sdk_schedule(write: ScheduleWrite) -> tc.Schedule:
    schedule = write.schedule
    spec, action, policies = schedule.spec, schedule.action, schedule.policies
    retry = action.retry
    return tc.Schedule(
        action=tc.ScheduleActionStartWorkflow(
            action.workflow_type,
            action.input,
            id=action.workflow_id,
            task_queue=action.task_queue,
            execution_timeout=action.execution_timeout,
            run_timeout=action.run_timeout,
            task_timeout=action.task_timeout,
            retry_policy=temporalio.common.RetryPolicy(
                initial_interval=retry.initial_interval or timedelta(seconds=1),
                backoff_coefficient=retry.backoff_coefficient or 2.0,
                maximum_interval=retry.maximum_interval,
                maximum_attempts=retry.maximum_attempts or 0,
                non_retryable_error_types=list(retry.non_retryable_error_types) or None,
            )
            if retry
            else None,
            memo=action.memo or None,
        ),
        spec=tc.ScheduleSpec(
            calendars=[_sdk_calendar(calendar) for calendar in spec.calendars],
            intervals=[
                tc.ScheduleIntervalSpec(every=interval.every, offset=interval.offset or None)
                for interval in spec.intervals
            ],
            skip=[_sdk_calendar(record_calendar(write.record))],
            start_at=spec.start_at,
            end_at=spec.end_at,
            jitter=spec.jitter or None,
            time_zone_name=spec.timezone,
        ),
        policy=tc.SchedulePolicy(
            overlap=_OVERLAP[policies.overlap],
            catchup_window=policies.catchup_window or timedelta(days=365),
            pause_on_failure=policies.pause_on_failure,
        ),
        state=tc.ScheduleState(paused=write.paused, note=write.note or None),
    )


def _sdk_ranges(ranges: Sequence[Range]) -> tuple[tc.ScheduleRange, ...]:
    return tuple(tc.ScheduleRange(start=r.start, end=r.end, step=r.step) for r in ranges)


def _sdk_calendar(calendar: Calendar) -> tc.ScheduleCalendarSpec:
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


def _observed(
    schedule_id: str,
    memo: Mapping[str, Any],
    spec: tc.ScheduleSpec,
    workflow_type: str,
    *,
    paused: bool,
    note: str,
    next_runs: tuple[Any, ...],
    recent: Sequence[temporalio.api.schedule.v1.ScheduleActionResult],
) -> ObservedSchedule:
    record = None
    for skip in spec.skip:
        if skip.comment and (parsed := parse_record(skip.comment)) is not None:
            record = parsed
    calendars = tuple(
        calendar for calendar in map(calendar_from_sdk, spec.calendars) if not is_record_calendar(calendar)
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
        ),
        workflow_type=workflow_type,
        paused=paused,
        note=note,
        next_runs=next_runs,
        recent_runs=tuple(_recent_run(result) for result in recent),
    )


def _recent_run(result: temporalio.api.schedule.v1.ScheduleActionResult) -> RecentRun:
    """From the raw proto: the SDK's ScheduleActionResult drops the run's status."""
    status = result.start_workflow_status
    name = (
        temporalio.api.enums.v1.WorkflowExecutionStatus.Name(status)
        .removeprefix("WORKFLOW_EXECUTION_STATUS_")
        .lower()
    )
    return RecentRun(
        scheduled_at=result.schedule_time.ToDatetime(tzinfo=UTC),
        started_at=result.actual_time.ToDatetime(tzinfo=UTC) if result.HasField("actual_time") else None,
        workflow_id=result.start_workflow_result.workflow_id,
        status="unknown" if name == "unspecified" else name,
    )


def _retry_back(policy: temporalio.common.RetryPolicy | None) -> RetryPolicy | None:
    if policy is None:
        return None
    return RetryPolicy(
        maximum_attempts=policy.maximum_attempts or None,
        initial_interval=policy.initial_interval,
        backoff_coefficient=policy.backoff_coefficient,
        maximum_interval=policy.maximum_interval,
        non_retryable_error_types=tuple(policy.non_retryable_error_types or ()),
    )
