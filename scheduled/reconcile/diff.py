"""The diff explains a plan: field-by-field changes of each update, as people read them.

The planner decides and this module explains, so a daemon pass (which nobody reads field by
field) never pays for rendering. Values are compared as Temporal holds them (server defaults
filled in on both sides), so only real changes show up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from scheduled.model.calendar import describe, describe_interval
from scheduled.model.desired import (
    Action,
    DesiredSchedule,
    Priority,
    RetryPolicy,
    SearchAttribute,
    Spec,
    attribute_values,
    canonical_json,
)
from scheduled.model.durations import format_duration
from scheduled.model.observed import ObservedSchedule, scheduled_attribute_names
from scheduled.model.server_defaults import effective_catchup_window, effective_retry
from scheduled.reconcile.plan import FieldChange, Kind, Operation, Plan


def spec_in_words(spec: Spec) -> str:
    """When a spec fires, in words: one phrase per calendar and interval."""
    parts = [describe(calendar) for calendar in spec.calendars]
    parts += [describe_interval(interval) for interval in spec.intervals]
    return "; ".join(parts) or "(never)"


def when_in_words(spec: Spec) -> str:
    """spec_in_words, and the exclusions when there are any."""
    words = spec_in_words(spec)
    return f"{words}; skip {skip_in_words(spec)}" if spec.skip else words


def skip_in_words(spec: Spec) -> str:
    """The exclusions as the file says them (the calendars of one range share its text)."""
    words: list[str] = []
    for calendar in spec.skip:
        text = calendar.comment or describe(calendar)
        if not words or words[-1] != text:
            words.append(text)
    return "; ".join(words) or "(none)"


def with_changes(plan: Plan) -> Plan:
    """The plan with each update's field changes filled in, from what it was planned against
    (a list entry, or a describe when the caller fetched the detail)."""
    return replace(plan, operations=tuple(map(operation_with_changes, plan.operations)))


def operation_with_changes(operation: Operation) -> Operation:
    if operation.kind is not Kind.UPDATE or operation.desired is None or operation.observed is None:
        return operation
    changes = field_changes(
        operation.desired, operation.observed, paused=operation.paused, note=operation.note
    )
    return replace(operation, changes=tuple(changes))


def field_changes(
    schedule: DesiredSchedule, observed: ObservedSchedule, *, paused: bool, note: str
) -> list[FieldChange]:
    """Field-by-field differences, from the list entry and, when described, the detail.

    Long on purpose: one `compare` line per field of the file format, in the order people read
    them; splitting it would only scatter that list."""
    changes: list[FieldChange] = []

    def compare(
        name: str, before: object, after: object, show: Callable[[Any], str] | None = None
    ) -> None:
        if before != after:
            render = show or _show
            changes.append(
                FieldChange(
                    name=name,
                    before=render(before),
                    after=render(after),
                    before_value=as_data(before),
                    after_value=as_data(after),
                )
            )

    before_spec, after_spec = observed.spec, schedule.spec
    compare("when", spec_in_words(before_spec), spec_in_words(after_spec))
    if before_spec.calendars != after_spec.calendars and spec_in_words(
        before_spec
    ) == spec_in_words(after_spec):
        compare(
            "cron",
            "; ".join(c.comment for c in before_spec.calendars),
            "; ".join(c.comment for c in after_spec.calendars),
        )
    compare("skip", skip_in_words(before_spec), skip_in_words(after_spec))
    compare("timezone", before_spec.timezone, after_spec.timezone)
    compare("jitter", before_spec.jitter, after_spec.jitter)
    compare("start_at", before_spec.start_at, after_spec.start_at)
    compare("end_at", before_spec.end_at, after_spec.end_at)
    compare("workflow", observed.workflow_type, schedule.action.workflow_type)
    compare("paused", observed.paused, paused)
    compare("note", observed.note, note)
    compare("max_runs", held_max_runs(observed), schedule.max_runs, _show_max_runs)
    ours = scheduled_attribute_names(schedule, observed)
    compare(
        "search_attributes",
        _attributes(observed.search_attributes, ours),
        _attributes(schedule.search_attributes, ours),
    )
    if observed.detail is not None:
        action, before_action = schedule.action, observed.detail.action
        for name in ("task_queue", "workflow_id"):
            compare(name, getattr(before_action, name), getattr(action, name))
        for name in ("execution_timeout", "run_timeout", "task_timeout"):
            # Temporal reads an unset timeout back as zero: not a change.
            compare(name, getattr(before_action, name) or None, getattr(action, name) or None)
        compare(
            "retry",
            effective_retry(before_action.retry),
            effective_retry(action.retry),
            _show_retry,
        )
        compare(*_arguments(before_action, action))
        compare("memo", before_action.memo_json, action.memo_json)
        compare("summary", before_action.summary, action.summary)
        compare("details", before_action.details, action.details)
        compare("priority", before_action.priority, action.priority, _show_priority)
        compare(
            "workflow_search_attributes",
            _attributes(before_action.search_attributes),
            _attributes(action.search_attributes),
        )
        policies, before_policies = schedule.policies, observed.detail.policies
        compare("overlap_policy", before_policies.overlap, policies.overlap)
        compare(
            "catchup_window",
            effective_catchup_window(before_policies.catchup_window),
            effective_catchup_window(policies.catchup_window),
        )
        compare("pause_on_failure", before_policies.pause_on_failure, policies.pause_on_failure)
    return changes


def _arguments(before: Action, after: Action) -> tuple[str, str, str]:
    """The arguments as `input` (one argument, or none) while neither side has more than one,
    which is how most files write them; as the `args` list otherwise."""
    if len(before.args) <= 1 and len(after.args) <= 1:
        return "input", _one_argument(before), _one_argument(after)
    return "args", before.args_json, after.args_json


def _one_argument(action: Action) -> str:
    return canonical_json(action.args[0]) if action.args else "(none)"


def _attributes(
    attributes: tuple[SearchAttribute, ...], names: frozenset[str] | None = None
) -> str:
    """Name=value pairs by name, the type left out (Temporal answers with either the written
    type or the namespace's, see attribute_values)."""
    values = attribute_values(attributes, names)
    return ", ".join(f"{name}={_show_value(value)}" for name, value in sorted(values.items()))


def _show_value(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return _show(value)


def _show_priority(priority: Priority | None) -> str:
    if priority is None:
        return "(default)"
    parts = [
        f"priority_key={priority.priority_key}" if priority.priority_key else "",
        f"fairness_key={priority.fairness_key}" if priority.fairness_key else "",
        f"fairness_weight={priority.fairness_weight:g}" if priority.fairness_weight else "",
    ]
    return " ".join(part for part in parts if part)


def held_max_runs(observed: ObservedSchedule) -> int | None:
    """The run limit Temporal holds, as the file would say it: the written `max_runs` from
    the write record (the list does not show the count), unless a describe shows otherwise:
    no limit at all, or a limit scheduled did not write (then the runs it has left)."""
    detail, recorded = observed.detail, observed.record.max_runs if observed.record else None
    if detail is not None and (detail.remaining_runs is None or recorded is None):
        return detail.remaining_runs
    return recorded


def _show_max_runs(value: int | None) -> str:
    return "(no limit)" if value is None else str(value)


def _show_retry(policy: RetryPolicy | None) -> str:
    if policy is None:
        return "(none)"
    parts = [
        f"maximum_attempts={policy.maximum_attempts or 'unlimited'}",
        f"initial_interval={_show(policy.initial_interval)}",
        f"backoff_coefficient={policy.backoff_coefficient:g}" if policy.backoff_coefficient else "",
        f"maximum_interval={_show(policy.maximum_interval)}",
    ]
    if policy.non_retryable_error_types:
        parts.append("non_retryable_error_types=" + ",".join(policy.non_retryable_error_types))
    return " ".join(part for part in parts if part)


def _show(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return value or '""'
    return str(value)


def as_data(value: object) -> Any:
    """A compared value as JSON data: what `plan --format json` gives tools beside the words."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Priority):
        return {
            "priority_key": value.priority_key,
            "fairness_key": value.fairness_key or None,
            "fairness_weight": value.fairness_weight,
        }
    if isinstance(value, RetryPolicy):
        return {
            "maximum_attempts": value.maximum_attempts,
            "initial_interval": as_data(value.initial_interval),
            "backoff_coefficient": value.backoff_coefficient,
            "maximum_interval": as_data(value.maximum_interval),
            "non_retryable_error_types": list(value.non_retryable_error_types),
        }
    return str(value)
