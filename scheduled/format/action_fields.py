"""What a schedule starts and how its runs get along: workflow type, task queue, arguments,
workflow id, memo, timeouts, retry, UI summary and details, priority, search attributes (the
Action) and overlap, catch-up, pause on failure (the Policies).

The policies are here rather than with the spec: they say nothing about when the schedule fires,
only what happens to the runs it starts (Temporal keeps them apart from the spec too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from scheduled.format.search_attributes import read_search_attributes
from scheduled.format.spec_fields import read_duration
from scheduled.format.yaml_reader import DocPath
from scheduled.model.desired import (
    Action,
    OverlapPolicy,
    Policies,
    Priority,
    RetryPolicy,
    workflow_id_for,
)
from scheduled.model.server_defaults import stored_fairness_weight

if TYPE_CHECKING:  # workflow_file imports this module
    from scheduled.format.workflow_file import ErrorSink, LoadOptions, SchemaGate

_SCHEDULE: DocPath = ("schedule",)
_TIMEOUTS = ("execution_timeout", "run_timeout", "task_timeout")
# Names of overlap policies that other workflow platforms' files use, for the same policy: such
# files apply unchanged, and the schedule (and its fingerprint) is the same either way.
OVERLAP_SYNONYMS = {"allow": OverlapPolicy.ALLOW_ALL}


def read_action(
    top: SchemaGate, block: SchemaGate, options: LoadOptions, errors: ErrorSink
) -> Action | None:
    """The Action, or None when a part of it is missing or unusable (each one reported)."""
    data = top.values
    workflow_type = data.get("workflow") or options.default_workflow
    task_queue = data.get("task_queue") or options.default_task_queue
    if not workflow_type and not top.rejected("workflow"):
        errors.error(
            "workflow.no-type",
            "no workflow type: add `workflow: YourWorkflowType` to the file, or set "
            "`default_workflow` in the config",
            path=("id",),
        )
    if not task_queue and not top.rejected("task_queue"):
        errors.error(
            "workflow.no-task-queue",
            "no task queue: add `task_queue: your-queue` to the file, or set "
            "`default_task_queue` in the config",
            path=("id",),
        )
    values = block.values
    args_json = _args(values, errors)  # read as written, even when rejected
    memo_json = _json(values, "memo", errors)
    retry = _retry(values["retry"], errors) if block.valid("retry") else None
    timeouts = {
        name: read_duration(values, name, _SCHEDULE, errors) if block.valid(name) else None
        for name in _TIMEOUTS
    }
    attributes = (
        read_search_attributes(
            values["workflow_search_attributes"], ("schedule", "workflow_search_attributes"), errors
        )
        if block.valid("workflow_search_attributes")
        else ()
    )
    workflow_id = data.get("id")
    if (
        not (workflow_type and task_queue and args_json and memo_json)
        or attributes is None
        or not isinstance(workflow_id, str)
    ):
        return None
    return Action(
        workflow_type=str(workflow_type),
        task_queue=str(task_queue),
        workflow_id=block.get("workflow_id") or workflow_id_for(options.project, workflow_id),
        args_json=args_json,
        memo_json=memo_json,
        retry=retry,
        summary=block.get("summary", ""),
        details=block.get("details", ""),
        priority=_priority(block.get("priority")),
        search_attributes=attributes,
        **timeouts,
    )


def _args(values: Mapping[str, Any], errors: ErrorSink) -> str | None:
    """The positional arguments as a JSON list: `args` as written (a value that is no list is
    the one argument), `input` as the single one, or none at all when neither is given."""
    if "args" in values and "input" in values:
        errors.error(
            "schedule.args-and-input",
            "`args` and `input` are both given; keep one: `input` is the single argument, "
            "`args` the list of arguments",
            path=("schedule", "args"),
        )
        return None
    if "args" in values:
        written = values["args"]
        args = written if isinstance(written, list) else [written]
        return _json({"args": args}, "args", errors)
    if "input" in values:
        return _json({"input": [values["input"]]}, "input", errors)
    return "[]"


def _priority(value: Any) -> Priority | None:
    """None for no priority or an empty one: Temporal holds both as its defaults."""
    if not isinstance(value, dict):
        return None
    weight = value.get("fairness_weight")
    key = value.get("priority_key")
    priority = Priority(
        # YAML's 2.0 is an integer to JSON Schema, and the SDK refuses a float key.
        priority_key=int(key) if isinstance(key, int | float) else None,
        fairness_key=value.get("fairness_key", ""),
        fairness_weight=stored_fairness_weight(float(weight)) if weight is not None else None,
    )
    return priority if priority != Priority() else None


def read_policies(block: SchemaGate, errors: ErrorSink) -> Policies:
    """The Policies; a rejected field reads as its default (the file is invalid anyway)."""
    return Policies(
        overlap=_overlap(block.get("overlap_policy", "skip")),
        catchup_window=read_duration(block.values, "catchup_window", _SCHEDULE, errors)
        if block.valid("catchup_window")
        else None,
        pause_on_failure=bool(block.values.get("pause_on_failure", False)),
    )


def _overlap(name: str) -> OverlapPolicy:
    return OVERLAP_SYNONYMS.get(name) or OverlapPolicy(name)


def _json(values: Mapping[str, Any], name: str, errors: ErrorSink) -> str | None:
    value = values.get(name, {})  # `memo` absent: none
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False
        )
    except (TypeError, ValueError):
        errors.error(
            "schedule.not-json",
            f"`{name}` holds a value JSON cannot carry (binary data, NaN or infinity); "
            "Temporal passes it as JSON",
            path=("schedule", name),
        )
        return None
    return text  # sorted keys, no spaces: canonical_json's form


def _retry(value: Any, errors: ErrorSink) -> RetryPolicy | None:
    if not isinstance(value, dict):
        return None
    path: DocPath = ("schedule", "retry")
    initial = (
        read_duration(value, "initial_interval", path, errors)
        if "initial_interval" in value
        else None
    )
    maximum = (
        read_duration(value, "maximum_interval", path, errors)
        if "maximum_interval" in value
        else None
    )
    if initial and maximum and maximum < initial:
        errors.error(
            "schedule.retry",
            "`retry.maximum_interval` is shorter than `retry.initial_interval`; "
            "Temporal rejects that",
            path=(*path, "maximum_interval"),
        )
    coefficient = value.get("backoff_coefficient")  # a finite number: the schema gate said so
    return RetryPolicy(
        maximum_attempts=value.get("maximum_attempts"),
        initial_interval=initial,
        backoff_coefficient=float(coefficient) if coefficient is not None else None,
        maximum_interval=maximum,
        non_retryable_error_types=tuple(value.get("non_retryable_error_types", ())),
    )
