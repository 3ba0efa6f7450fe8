"""The desired state: what one workflow file asks Temporal to hold, as frozen values.

Everything here is a plain value with no I/O. The fingerprint is a hash of exactly what is sent
to Temporal (spec, policies, state, action), so the same file content gives the same
fingerprint on every run and machine; the reconciler stores it where `list` returns it and skips
updates whose fingerprint already matches.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from scheduled.model.calendar import Calendar, Interval, Range

FINGERPRINT_VERSION = "v1"
PROJECT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Metadata of a field added after FINGERPRINT_VERSION was fixed: left out of the fingerprint
# while it holds its default, so a schedule that does not use it keeps the fingerprint it was
# written with (and an upgrade does not update every schedule once).
SINCE_V1: dict[str, bool] = {"omit_default": True}


class OverlapPolicy(StrEnum):
    SKIP = "skip"
    BUFFER_ONE = "buffer_one"
    BUFFER_ALL = "buffer_all"
    CANCEL_OTHER = "cancel_other"
    TERMINATE_OTHER = "terminate_other"
    ALLOW_ALL = "allow_all"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    maximum_attempts: int | None = None
    initial_interval: timedelta | None = None
    backoff_coefficient: float | None = None
    maximum_interval: timedelta | None = None
    non_retryable_error_types: tuple[str, ...] = ()


class AttributeType(StrEnum):
    """Temporal's search attribute types, as a file names them."""

    KEYWORD = "keyword"
    TEXT = "text"
    INT = "int"
    DOUBLE = "double"
    BOOL = "bool"
    DATETIME = "datetime"
    KEYWORD_LIST = "keyword_list"


SearchAttributeValue = str | int | float | bool | datetime | tuple[str, ...]
# Temporal keeps names with this prefix for its own attributes (TemporalSchedulePaused, ...).
RESERVED_ATTRIBUTE_PREFIX = "Temporal"


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchAttribute:
    """One typed search attribute, as sent to Temporal."""

    name: str
    type: AttributeType
    value: SearchAttributeValue


def attribute_values(
    attributes: tuple[SearchAttribute, ...], names: frozenset[str] | None = None
) -> dict[str, SearchAttributeValue]:
    """The attributes by name with their values, the type left out: what to compare. Temporal
    hands back the type a value was written with from describe, but the namespace's type from
    list (Keyword vs Text, Int vs Double, checked on a dev server), so only the values say
    whether two sets of attributes are the same."""
    return {
        attribute.name: attribute.value
        for attribute in attributes
        if names is None or attribute.name in names
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Priority:
    """Task priority (1 is highest; None: the server's default) and fairness within it."""

    priority_key: int | None = None
    fairness_key: str = ""
    fairness_weight: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """When the schedule fires, in Temporal's structured form (never cron text)."""

    calendars: tuple[Calendar, ...] = ()
    intervals: tuple[Interval, ...] = ()
    timezone: str = "UTC"
    jitter: timedelta = timedelta(0)
    start_at: datetime | None = None
    end_at: datetime | None = None
    # Exclusions (`skip:`): times at which nothing fires, as Temporal's exclude calendars in
    # the schedule's zone. Not the write record: that calendar is added only when sending.
    skip: tuple[Calendar, ...] = field(default=(), metadata=SINCE_V1)
    # The cron text as written in the file, for people; the calendars are what counts.
    cron_text: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policies:
    overlap: OverlapPolicy = OverlapPolicy.SKIP
    catchup_window: timedelta | None = None
    pause_on_failure: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """The workflow each firing starts. JSON values are held as canonical JSON text (hashable)."""

    workflow_type: str
    task_queue: str
    workflow_id: str  # the base id; Temporal appends each run's fire time
    # The positional arguments, a JSON list: `[]` starts the workflow with no argument.
    args_json: str = "[]"
    execution_timeout: timedelta | None = None
    run_timeout: timedelta | None = None
    task_timeout: timedelta | None = None
    retry: RetryPolicy | None = None
    memo_json: str = "{}"
    # Shown in Temporal's UI for each started workflow (its user metadata).
    summary: str = field(default="", metadata=SINCE_V1)
    details: str = field(default="", metadata=SINCE_V1)
    priority: Priority | None = field(default=None, metadata=SINCE_V1)
    search_attributes: tuple[SearchAttribute, ...] = field(default=(), metadata=SINCE_V1)

    @property
    def args(self) -> list[Any]:
        value: list[Any] = json.loads(self.args_json)
        return value

    @property
    def input(self) -> Any:
        """The single argument (what `input:` sets); None unless there is exactly one."""
        args = self.args
        return args[0] if len(args) == 1 else None

    @property
    def memo(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.memo_json)
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredSchedule:
    workflow_id: str  # the file's `id`
    schedule_id: str  # schedule-{project}-{id}
    source: str  # the file, relative to the tree's root
    spec: Spec
    policies: Policies
    action: Action
    enabled: bool = True
    note: str = ""
    # The schedule's own search attributes (for filtering schedules), not its workflows'.
    search_attributes: tuple[SearchAttribute, ...] = ()
    # How many runs the schedule may start (Temporal's limited_actions/remaining_actions);
    # None: no limit. The server counts down, so it is compared with the file, not the count.
    max_runs: int | None = None
    # One run at once when the schedule is created: an instruction to the create, not a
    # state Temporal holds, so it takes no part in equality, the fingerprint or drift.
    trigger_immediately: bool = field(default=False, compare=False)
    fingerprint: str = ""

    @property
    def paused(self) -> bool:
        return not self.enabled


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def schedule_id_for(project: str, workflow_id: str) -> str:
    return f"schedule-{project}-{workflow_id}"


def schedule_id_prefix(project: str) -> str:
    return f"schedule-{project}-"


def workflow_id_for(project: str, workflow_id: str) -> str:
    # Temporal appends the nominal fire time to this id for each run it starts.
    return f"{project}-{workflow_id}"


_COMPARED_FIELDS: dict[type, tuple[tuple[str, bool, Any], ...]] = {}


def _compared_fields(cls: type) -> tuple[tuple[str, bool, Any], ...]:
    """The fields that take part in equality (and so in the fingerprint), once per class:
    name, whether it is left out at its default (SINCE_V1), and that default."""
    names = _COMPARED_FIELDS.get(cls)
    if names is None:
        names = tuple(
            (item.name, bool(item.metadata.get("omit_default")), item.default)
            for item in dataclasses.fields(cls)
            if item.compare
        )
        _COMPARED_FIELDS[cls] = names
    return names


def _plain_fields(value: Any) -> dict[str, Any]:
    return {
        name: _plain(getattr(value, name))
        for name, omit_default, default in _compared_fields(type(value))
        if not (omit_default and getattr(value, name) == default)
    }


def _plain(value: Any) -> Any:
    """A JSON-ready form of the model's values, stable across runs."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if type(value) is Calendar:
        return _plain_calendar(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Range):
        return [value.start, value.end, value.step]
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return _plain_fields(value)
    return value


def _plain_action(action: Action) -> dict[str, Any]:
    """The action as the fingerprint hashes it. One argument hashes as `input_json`, the
    name it had when a file could pass only that one: such files keep their fingerprint.
    No argument (formerly sent as `{}`, now sent as nothing) is a real change and hashes anew."""
    plain: dict[str, Any] = _plain(action)
    args = action.args
    if len(args) == 1:
        del plain["args_json"]
        plain["input_json"] = canonical_json(args[0])
    return plain


@functools.lru_cache(maxsize=4096)
def _plain_calendar(calendar: Calendar) -> dict[str, Any]:
    """Calendars repeat across a tree and are the bulk of a spec; the result is only read."""
    return _plain_fields(calendar)


def fingerprint_of(schedule: DesiredSchedule) -> str:
    """A stable hash of everything sent to Temporal for this schedule."""
    payload: dict[str, Any] = {
        "version": FINGERPRINT_VERSION,
        "schedule_id": schedule.schedule_id,
        "spec": _plain(schedule.spec),
        "policies": _plain(schedule.policies),
        "action": _plain_action(schedule.action),
        "enabled": schedule.enabled,
        "note": schedule.note,
    }
    if schedule.search_attributes:  # absent before this field existed: keeps old fingerprints
        payload["search_attributes"] = _plain(schedule.search_attributes)
    if schedule.max_runs is not None:
        # Only when set: the fingerprints of files without a limit stay as they were.
        payload["max_runs"] = schedule.max_runs
    digest = hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
    return f"{FINGERPRINT_VERSION}:{digest[:24]}"


def with_fingerprint(schedule: DesiredSchedule) -> DesiredSchedule:
    from dataclasses import replace

    return replace(schedule, fingerprint=fingerprint_of(schedule))
