"""TemporalGateway: the calls `scheduled` makes to a real server, with error translation.

SDK errors become the typed errors of `scheduled.reconcile.gateway`, chained with `raise ... from`, so the
reconciler decides on kinds (transient, permanent, exists, not found), never on SDK types.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import temporalio.api.workflowservice.v1 as workflowservice
import temporalio.client as tc
import temporalio.service
from temporalio.converter import encode_search_attributes

from scheduled.model.desired import AttributeType, DesiredSchedule, OverlapPolicy, SearchAttribute
from scheduled.model.observed import ObservedSchedule
from scheduled.reconcile.gateway import (
    GatewayError,
    PermanentGatewayError,
    ScheduleExistsError,
    ScheduleNotFoundError,
    ScheduleWrite,
    TransientGatewayError,
)
from scheduled.temporal.connection import Connection
from scheduled.temporal.convert import (
    decode_action,
    detail_from_sdk,
    observed_schedule,
    sdk_journal_schedule,
    sdk_overlap,
    sdk_schedule,
    sdk_search_attributes,
    search_attributes_from_sdk,
)
from scheduled.temporal.dial import dial
from scheduled.temporal.marker import (
    is_journal_memo,
    journal_memo,
    journal_schedule_id,
    ownership_memo,
    parse_journal_note,
)

HEALTH_TIMEOUT = timedelta(seconds=3)
_TRANSIENT = {
    temporalio.service.RPCStatusCode.UNAVAILABLE,
    temporalio.service.RPCStatusCode.RESOURCE_EXHAUSTED,
    temporalio.service.RPCStatusCode.DEADLINE_EXCEEDED,
    temporalio.service.RPCStatusCode.ABORTED,
    temporalio.service.RPCStatusCode.INTERNAL,
    temporalio.service.RPCStatusCode.UNKNOWN,
    temporalio.service.RPCStatusCode.CANCELLED,
}


class TemporalGateway:
    """ScheduleGateway over one temporalio Client."""

    def __init__(self, client: tc.Client) -> None:
        self._client = client

    @classmethod
    async def connect(cls, connection: Connection) -> TemporalGateway:
        return cls(await dial(connection))

    @property
    def namespace(self) -> str:
        return self._client.namespace

    # -- reads ---------------------------------------------------------------------------

    async def check_health(self) -> None:
        try:
            serving = await self._client.service_client.check_health(timeout=HEALTH_TIMEOUT)
        except temporalio.service.RPCError as error:
            raise translate_rpc_error(error, "") from error
        except RuntimeError as error:  # the SDK's own connection errors
            raise TransientGatewayError(f"Temporal does not answer: {error}") from error
        if not serving:
            raise TransientGatewayError("Temporal answers, but says it is not serving")

    async def list_schedules(self, id_prefix: str, *, query: str = "") -> list[ObservedSchedule]:
        # Visibility queries are eventually consistent and rate-limited on real clusters:
        # one query, large pages.
        conditions = [f'ScheduleId STARTS_WITH "{id_prefix}"'] if id_prefix else []
        if query:
            conditions.append(f"({query})")
        found: list[ObservedSchedule] = []
        try:
            listing = await self._client.list_schedules(
                " AND ".join(conditions) or None, page_size=1000
            )
            async for entry in listing:
                if not entry.id.startswith(id_prefix):
                    continue
                memo = (
                    await read_schedule_memo(entry.memo) if entry.raw_entry.HasField("memo") else {}
                )
                if is_journal_memo(memo):  # scheduled's own storage, outside every prefix
                    continue
                found.append(self._from_list_entry(entry, memo))
        except temporalio.service.RPCError as error:
            raise translate_rpc_error(error, "") from error
        return found

    def _from_list_entry(
        self, entry: tc.ScheduleListDescription, memo: Mapping[str, Any]
    ) -> ObservedSchedule:
        schedule = entry.schedule
        spec = schedule.spec if schedule else tc.ScheduleSpec()
        workflow_type = ""
        if schedule and isinstance(schedule.action, tc.ScheduleListActionStartWorkflow):
            workflow_type = schedule.action.workflow
        return observed_schedule(
            entry.id,
            memo,
            spec,
            workflow_type,
            paused=bool(schedule and schedule.state.paused),
            note=(schedule.state.note or "") if schedule else "",
            next_runs=tuple(entry.info.next_action_times) if entry.info else (),
            recent=entry.raw_entry.info.recent_actions if entry.raw_entry.HasField("info") else (),
            search_attributes=search_attributes_from_sdk(entry.typed_search_attributes),
        )

    async def run_status(self, workflow_id: str) -> str:
        try:
            description = await self._client.get_workflow_handle(workflow_id).describe()
        except temporalio.service.RPCError as error:
            if error.status == temporalio.service.RPCStatusCode.NOT_FOUND:
                return "unknown"
            raise translate_rpc_error(error, "") from error
        status = description.status
        return status.name.lower() if status is not None else "unknown"

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        handle = self._client.get_schedule_handle(schedule_id)
        try:
            description = await handle.describe()
        except temporalio.service.RPCError as error:
            raise translate_rpc_error(error, schedule_id) from error
        schedule = description.schedule
        action = schedule.action
        if not isinstance(action, tc.ScheduleActionStartWorkflow):
            raise PermanentGatewayError(
                "the schedule's action does not start a workflow", schedule_id=schedule_id
            )
        try:
            decoded = await decode_action(self._client.data_converter, action)
        except Exception as error:  # a payload this client's data converter cannot read
            raise PermanentGatewayError(
                f"cannot decode the schedule's workflow arguments, memo or summary: {error}",
                schedule_id=schedule_id,
            ) from error
        observed = observed_schedule(
            schedule_id,
            await read_schedule_memo(description.memo),
            schedule.spec,
            action.workflow,
            paused=schedule.state.paused,
            note=schedule.state.note or "",
            next_runs=tuple(description.info.next_action_times),
            recent=description.raw_description.info.recent_actions,
            search_attributes=search_attributes_from_sdk(description.typed_search_attributes),
        )
        detail = detail_from_sdk(schedule, action, decoded, raw=description.raw_description)
        return replace(observed, detail=detail)

    # -- writes --------------------------------------------------------------------------

    async def create(self, write: ScheduleWrite) -> None:
        with _refused_by_the_sdk(write):
            await self._create(write)

    async def _create(self, write: ScheduleWrite) -> None:
        try:
            await self._client.create_schedule(
                write.schedule.schedule_id,
                sdk_schedule(write),
                memo=ownership_memo(write.project),
                search_attributes=sdk_search_attributes(write.search_attributes or ()),
                # Part of the create request itself: one run at once, and none if the create
                # fails; a manual run does not count down `max_runs` (checked on a dev server).
                trigger_immediately=write.trigger_immediately,
            )
        except tc.ScheduleAlreadyRunningError as error:
            raise ScheduleExistsError(
                "a schedule with this id already exists", schedule_id=write.schedule.schedule_id
            ) from error
        except temporalio.service.RPCError as error:
            raise translate_write_error(error, write) from error

    async def update(self, write: ScheduleWrite) -> None:
        try:
            with _refused_by_the_sdk(write):
                await self._replace(
                    write.schedule.schedule_id, sdk_schedule(write), write.search_attributes
                )
        except PermanentGatewayError as error:
            cause = error.__cause__
            if isinstance(cause, temporalio.service.RPCError):
                raise translate_write_error(cause, write) from cause
            raise

    async def _replace(
        self,
        schedule_id: str,
        schedule: tc.Schedule,
        search_attributes: tuple[SearchAttribute, ...] | None = None,
    ) -> None:
        # One raw UpdateSchedule RPC with the complete schedule. ScheduleHandle.update() would
        # describe first (2 RPCs, measured 4x slower for 1000 schedules) only to hand us a
        # schedule we replace whole anyway.
        # The schedule's own search attributes travel beside the schedule: left unset, the
        # server keeps what it has; set (even to none), it replaces all but Temporal's own
        # (checked on a dev server). None here leaves them alone.
        try:
            proto = await schedule._to_proto(self._client)
            request = workflowservice.UpdateScheduleRequest(
                namespace=self._client.namespace,
                schedule_id=schedule_id,
                schedule=proto,
                identity=self._client.identity,
                request_id=str(uuid.uuid4()),
            )
            if search_attributes is not None:
                request.search_attributes.SetInParent()
                encode_search_attributes(
                    sdk_search_attributes(search_attributes), request.search_attributes
                )
            await self._client.workflow_service.update_schedule(request)
        except temporalio.service.RPCError as error:
            raise translate_rpc_error(error, schedule_id) from error

    async def read_journal(self, project: str) -> dict[str, float]:
        schedule_id = journal_schedule_id(project)
        try:
            description = await self._client.get_schedule_handle(schedule_id).describe()
        except temporalio.service.RPCError as error:
            if error.status == temporalio.service.RPCStatusCode.NOT_FOUND:
                return {}
            raise translate_rpc_error(error, schedule_id) from error
        return parse_journal_note(description.schedule.state.note or "")

    async def write_journal(self, project: str, journal: Mapping[str, float]) -> None:
        schedule_id = journal_schedule_id(project)
        schedule = sdk_journal_schedule(journal)
        try:
            await self._replace(schedule_id, schedule)
        except ScheduleNotFoundError:
            try:
                await self._client.create_schedule(
                    schedule_id, schedule, memo=journal_memo(project)
                )
            except tc.ScheduleAlreadyRunningError:  # another writer created it meanwhile
                await self._replace(schedule_id, schedule)
            except temporalio.service.RPCError as error:
                raise translate_rpc_error(error, schedule_id) from error

    async def delete(self, schedule_id: str) -> None:
        try:
            await self._client.get_schedule_handle(schedule_id).delete()
        except temporalio.service.RPCError as error:
            raise translate_rpc_error(error, schedule_id) from error

    # -- runs on request -----------------------------------------------------------------

    async def trigger(self, schedule_id: str, *, overlap: OverlapPolicy | None = None) -> None:
        try:
            await self._client.get_schedule_handle(schedule_id).trigger(
                overlap=sdk_overlap(overlap)
            )
        except temporalio.service.RPCError as error:
            raise translate_rpc_error(error, schedule_id) from error

    async def backfill(
        self,
        schedule_id: str,
        *,
        start: datetime,
        end: datetime,
        overlap: OverlapPolicy | None = None,
    ) -> None:
        # The server accepts a range whose end is before its start, and does nothing with it
        # (checked on a dev server): the command refuses that before it gets here.
        backfill = tc.ScheduleBackfill(start_at=start, end_at=end, overlap=sdk_overlap(overlap))
        try:
            await self._client.get_schedule_handle(schedule_id).backfill(backfill)
        except temporalio.service.RPCError as error:
            raise translate_rpc_error(error, schedule_id) from error


async def read_schedule_memo(read: Callable[[], Awaitable[Mapping[str, Any]]]) -> Mapping[str, Any]:
    """The schedule-level memo; one this client cannot decode (another team's codec) is not
    ours, and must not break the listing of the schedules that are."""
    try:
        return await read()
    except Exception:
        return {}


# The server's words for a search attribute the namespace lacks, or a value it cannot take
# (INVALID_ARGUMENT, checked on a dev server, Server 1.32).
_NO_ATTRIBUTE = re.compile(r"no mapping defined for search attribute (?P<name>\S+)")
_BAD_VALUE = re.compile(r"invalid value for search attribute (?P<name>\S+) of type (?P<type>\w+)")


@contextlib.contextmanager
def _refused_by_the_sdk(write: ScheduleWrite) -> Iterator[None]:
    """A value the file format let through but the SDK or protobuf refuses while building the
    request (an int32 overflow, a type it checks itself) fails this one schedule with the file
    named, as the server's INVALID_ARGUMENT would: never the whole pass."""
    try:
        yield
    except (TypeError, ValueError, OverflowError) as error:
        schedule = write.schedule
        where = f"{schedule.source}: " if schedule.source else ""
        raise PermanentGatewayError(
            f"{where}Temporal's SDK cannot send this schedule ({type(error).__name__}: {error}); "
            "a value in the file is out of what Temporal takes: fix it; the schedule is left "
            "as it is",
            schedule_id=schedule.schedule_id,
            status="INVALID_ARGUMENT",
        ) from error


def translate_write_error(error: temporalio.service.RPCError, write: ScheduleWrite) -> GatewayError:
    """A create or update refused for a search attribute, in words that name the file, the
    attribute and the fix; any other error as translate_rpc_error says."""
    schedule = write.schedule
    translated = translate_rpc_error(error, schedule.schedule_id)
    if not isinstance(translated, PermanentGatewayError):
        return translated
    where = f"{schedule.source}: " if schedule.source else ""
    if match := _NO_ATTRIBUTE.search(error.message):
        name = match["name"]
        return PermanentGatewayError(
            f"{where}the namespace has no search attribute `{name}` (named in "
            f"`{_attribute_field(schedule, name)}`); register it (`temporal operator "
            f"search-attribute create --name {name} --type {_cli_type(schedule, name)}`) or remove "
            "it from the file; the schedule is left as it is",
            schedule_id=schedule.schedule_id,
            status=translated.status,
        )
    if match := _BAD_VALUE.search(error.message):
        name = match["name"]
        return PermanentGatewayError(
            f"{where}search attribute `{name}` (in `{_attribute_field(schedule, name)}`) is of "
            f"type {match['type']} in the namespace, and the file's value is not; the schedule "
            "is left as it is",
            schedule_id=schedule.schedule_id,
            status=translated.status,
        )
    return translated


def _attribute_field(schedule: DesiredSchedule, name: str) -> str:
    if any(attribute.name == name for attribute in schedule.search_attributes):
        return "schedule.search_attributes"
    return "schedule.workflow_search_attributes"


# Temporal's CLI names of the types (`--type`).
_CLI_TYPES = {
    AttributeType.KEYWORD: "Keyword",
    AttributeType.TEXT: "Text",
    AttributeType.INT: "Int",
    AttributeType.DOUBLE: "Double",
    AttributeType.BOOL: "Bool",
    AttributeType.DATETIME: "Datetime",
    AttributeType.KEYWORD_LIST: "KeywordList",
}


def _cli_type(schedule: DesiredSchedule, name: str) -> str:
    for attribute in (*schedule.search_attributes, *schedule.action.search_attributes):
        if attribute.name == name:
            return _CLI_TYPES[attribute.type]
    return "Keyword"


def translate_rpc_error(error: temporalio.service.RPCError, schedule_id: str) -> GatewayError:
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
