"""Export: from a schedule Temporal holds to the text of the workflow file that says it.

The inverse of the loader, for `scheduled export`. A file is offered only when it gives back
exactly the schedule it came from: every text is loaded again (`workflow_file.load_text`)
and compared with the schedule, as Temporal holds it, before it is offered; anything else is
refused with the reason. Cron is rebuilt from the calendars, since Temporal never returns cron
strings (../shared/TEMPORAL_NOTES.md): a calendar's comment when it is the cron text of that
very calendar (scheduled writes it so), otherwise 5, 6 or 7 fields that compile to the same
calendar, checked by compiling them.

Pure: schedules in, texts and reasons out. Writing the files is `reconcile.export`'s.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from scheduled.format.cron import MAX_COMMENT_BYTES, CronError, compile_cron
from scheduled.format.schema import workflow_schema
from scheduled.format.skip_fields import skip_entries
from scheduled.format.workflow_file import LoadOptions, load_text
from scheduled.model.calendar import MAX_YEAR, MIN_YEAR, Calendar, Interval, Range, describe
from scheduled.model.desired import (
    AttributeType,
    DesiredSchedule,
    OverlapPolicy,
    Priority,
    RetryPolicy,
    SearchAttribute,
    Spec,
    attribute_values,
    schedule_id_for,
    schedule_id_prefix,
    workflow_id_for,
)
from scheduled.model.durations import format_duration
from scheduled.model.observed import Detail, ObservedSchedule
from scheduled.model.server_defaults import (
    CATCHUP_WINDOW,
    RETRY_BACKOFF_COEFFICIENT,
    RETRY_INITIAL_INTERVAL,
    RETRY_MAX_INTERVAL_FACTOR,
    effective_catchup_window,
    effective_retry,
)

HEADER = "Exported by `scheduled export` from the Temporal schedule"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportedFile:
    """The file for one schedule, checked to load back into exactly that schedule."""

    schedule_id: str
    workflow_id: str  # the file's `id`
    relative: str  # where it goes in the tree: `{id}.yaml`
    text: str
    notes: tuple[str, ...] = ()  # what adopting it changes, one sentence each (also in the text)
    # False: the schedule's id is not schedule-{project}-{id}, so `adopt` cannot take it over
    # in place, and `apply` would create a second schedule beside it.
    in_place: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class NotExportable:
    """A schedule no workflow file can say exactly, and why."""

    schedule_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CronText:
    """A calendar as cron text; `dropped` is a calendar comment the text could not keep."""

    text: str
    dropped: str = ""


# -- ids -------------------------------------------------------------------------------------


def is_file_id(text: str) -> bool:
    """Whether `text` is a valid `id` of a workflow file (the schema's own rule)."""
    rule = workflow_schema()["properties"]["id"]
    return len(text) <= rule["maxLength"] and re.fullmatch(rule["pattern"], text) is not None


def file_id_for(schedule_id: str, project: str) -> str | None:
    """The file id for a schedule: without `schedule-{project}-` when it carries it (so the
    file maps back onto the same schedule), else the schedule id itself; None when neither
    is a valid file id."""
    prefix = schedule_id_prefix(project)
    rest = schedule_id.removeprefix(prefix)
    if schedule_id.startswith(prefix) and is_file_id(rest):
        return rest
    return schedule_id if is_file_id(schedule_id) else None


# -- calendars back to cron ---------------------------------------------------------------

# (field, lowest, highest) in the order of a 7-field cron: second first, year last.
_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day_of_month", 1, 31),
    ("month", 1, 12),
    ("day_of_week", 0, 6),
    ("year", MIN_YEAR, MAX_YEAR),
)


def cron_for(calendar: Calendar, timezone: str = "UTC") -> CronText | None:
    """Cron text that compiles to exactly this calendar (its comment aside), or None.

    The calendar's comment is the text when it is the cron of this very calendar (a
    `CRON_TZ=` prefix naming the schedule's own zone is dropped: the file sets `timezone`);
    any other comment is kept as the cron's `# comment`, unless it reads as the cron of
    another calendar (stale, so misleading) or does not fit Temporal's 200 bytes."""
    structure = replace(calendar, comment="")
    comment = calendar.comment.strip()
    if comment:
        from_comment = _comment_as_cron(comment, structure, timezone)
        if from_comment is not None:
            return CronText(from_comment)
    body = _fields_text(structure)
    if body is None:
        return None
    if not comment:
        return CronText(body)
    with_comment = f"{body} # {comment}"
    if (
        not _reads_as_cron(comment)
        and len(with_comment.encode()) <= MAX_COMMENT_BYTES
        and _compiles_to(with_comment, structure)
    ):
        return CronText(with_comment)
    return CronText(body, dropped=comment)


def _comment_as_cron(comment: str, structure: Calendar, timezone: str) -> str | None:
    try:
        compiled = compile_cron(comment)
    except CronError:
        return None
    if compiled.calendar is None or replace(compiled.calendar, comment="") != structure:
        return None
    if compiled.timezone is None:
        return comment
    if compiled.timezone != timezone:
        return None
    unprefixed = comment.split(None, 1)[1]
    return unprefixed if _compiles_to(unprefixed, structure) else None


def _reads_as_cron(text: str) -> bool:
    try:
        compile_cron(text)
    except CronError:
        return False
    return True


def _compiles_to(text: str, structure: Calendar) -> bool:
    try:
        compiled = compile_cron(text)
    except CronError:
        return False
    return (
        compiled.timezone is None
        and compiled.calendar is not None
        and replace(compiled.calendar, comment="") == structure
    )


def _fields_text(structure: Calendar) -> str | None:
    """5 fields when second is 0 and year is any, 6 (seconds first) when only year is any,
    else 7; the shortest spelling first (`*`, `*/15`, `9`, `1-5`), then an explicit
    `start-end/step` for each range; None when neither compiles back to the calendar."""
    names = [name for name, _, _ in _FIELDS]
    if not structure.year:
        names.remove("year")
        if structure.second == (Range(0),):
            names.remove("second")
    bounds = {name: (low, high) for name, low, high in _FIELDS}
    for plain in (True, False):
        words = []
        for name in names:
            ranges: tuple[Range, ...] = getattr(structure, name)
            if not ranges:
                if name != "year":
                    return None  # matches nothing: no cron field says that
                words.append("*")
                continue
            words.append(",".join(_item(r, *bounds[name], plain=plain) for r in ranges))
        text = " ".join(words)
        if _compiles_to(text, structure):
            return text
    return None


def _item(r: Range, low: int, high: int, *, plain: bool) -> str:
    if plain and (r.start, r.end) == (low, high):
        return "*" if r.step == 1 else f"*/{r.step}"
    if plain and r.start == r.end and r.step == 1:
        return str(r.start)
    return f"{r.start}-{r.end}" if r.step == 1 else f"{r.start}-{r.end}/{r.step}"


# -- one schedule ------------------------------------------------------------------------


def export_schedule(
    observed: ObservedSchedule, *, project: str, now: datetime
) -> ExportedFile | NotExportable:
    """The workflow file for a described schedule, or why none can say it exactly."""
    schedule_id = observed.schedule_id
    refuse = _Refusals()
    file_id = file_id_for(schedule_id, project)
    if file_id is None:
        refuse(
            f"its id {schedule_id!r} is not a valid file id (lowercase letters, digits, "
            "'-', '_' and '.'; at most 200 characters), with or without "
            f"{schedule_id_prefix(project)!r}; write its file by hand"
        )
    detail = observed.detail
    if detail is None:
        return NotExportable(
            schedule_id=schedule_id, reasons=("it was not described (action and policies)",)
        )
    if detail.unsupported:
        refuse("it holds what a workflow file cannot say: " + "; ".join(detail.unsupported))
    notes: list[str] = []
    block: dict[str, Any] = {}
    block.update(_when(observed.spec, refuse, notes))
    default_id = workflow_id_for(project, file_id) if file_id is not None else ""
    block.update(_action_and_policies(observed, detail, refuse, default_id))
    action = detail.action
    if refuse.reasons or file_id is None:
        return NotExportable(schedule_id=schedule_id, reasons=tuple(refuse.reasons))

    in_place = schedule_id == schedule_id_for(project, file_id)
    notes.extend(_adoption_notes(observed, file_id, project, in_place=in_place))
    relative = f"{file_id}.yaml"
    text = _file_text(schedule_id, file_id, action.workflow_type, action.task_queue, block, notes)
    problems = _round_trip(observed, relative, text, project, now)
    if problems:
        return NotExportable(schedule_id=schedule_id, reasons=tuple(problems))
    return ExportedFile(
        schedule_id=schedule_id,
        workflow_id=file_id,
        relative=relative,
        text=text,
        notes=tuple(notes),
        in_place=in_place,
    )


def _action_and_policies(
    observed: ObservedSchedule, detail: Detail, refuse: _Refusals, default_workflow_id: str
) -> dict[str, Any]:
    """The `schedule:` keys for what the schedule starts and how, defaults left out."""
    block: dict[str, Any] = {}
    action = detail.action
    if not action.workflow_type:
        refuse("it names no workflow type")
    if not action.task_queue:
        refuse("it names no task queue")
    if observed.paused:
        block["enabled"] = False
    if detail.remaining_runs == 0:
        refuse("it has used up its runs (a limit on runs), and a file's `max_runs` is at least 1")
    elif detail.remaining_runs is not None:
        # The runs it has left: the count starts there again when scheduled writes it.
        block["max_runs"] = detail.remaining_runs
    policies = detail.policies
    if policies.overlap is not OverlapPolicy.SKIP:
        block["overlap_policy"] = str(policies.overlap)
    catchup = effective_catchup_window(policies.catchup_window)
    if catchup != CATCHUP_WINDOW:
        block["catchup_window"] = _duration(catchup, "catchup_window", refuse)
    if policies.pause_on_failure:
        block["pause_on_failure"] = True
    if action.workflow_id and action.workflow_id != default_workflow_id:
        block["workflow_id"] = action.workflow_id
    args = action.args
    if len(args) == 1 and isinstance(args[0], dict):
        block["input"] = args[0]
    elif args:
        block["args"] = args
    for name in ("execution_timeout", "run_timeout", "task_timeout"):
        value: timedelta | None = getattr(action, name)
        if value:
            block[name] = _duration(value, name, refuse)
    if action.retry is not None:
        block["retry"] = _retry(action.retry, refuse)
    memo = json.loads(action.memo_json)
    if memo:
        block["memo"] = memo
    for name in ("summary", "details"):
        if getattr(action, name):
            block[name] = getattr(action, name)
    if action.priority is not None:
        block["priority"] = _priority(action.priority)
    if action.search_attributes:
        block["workflow_search_attributes"] = _attributes(action.search_attributes)
    if observed.search_attributes:
        block["search_attributes"] = _attributes(observed.search_attributes)
    if observed.note:
        block["note"] = observed.note
    return block


class _Refusals:
    """Every reason a schedule cannot be exported, so the report names them all at once."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def __call__(self, reason: str) -> None:
        self.reasons.append(reason)


def _when(spec: Spec, refuse: _Refusals, notes: list[str]) -> dict[str, Any]:
    """The spec's keys of the `schedule:` block: `cron` for the calendars (a list when there
    are several), `every` for the intervals (`every`/`offset` for one, a list for several),
    both when it has both, and `skip` for its exclusions."""
    fields: dict[str, Any] = {}
    if not spec.calendars and not spec.intervals:
        refuse(
            "it has no calendar and no interval (it only runs when triggered); a file needs "
            "`cron` or `every`"
        )
    crons: list[str] = []
    for calendar in spec.calendars:
        found = cron_for(calendar, spec.timezone)
        if found is None:
            refuse(f"its calendar ({describe(calendar)}) has no exact cron form")
            continue
        if found.dropped:
            notes.append(
                f"The calendar comment {found.dropped!r} is not kept: it is not the cron text "
                "of its calendar, or too long to follow it."
            )
        crons.append(found.text)
    for interval in spec.intervals:
        if _whole_seconds(interval.every) and _whole_seconds(interval.offset):
            continue
        refuse(f"its interval {interval.every} (offset {interval.offset}) is not whole seconds")
    if crons:
        fields["cron"] = crons[0] if len(crons) == 1 else crons
    if len(spec.intervals) == 1:
        (interval,) = spec.intervals
        fields["every"] = format_duration(interval.every)
        if interval.offset:
            fields["offset"] = format_duration(interval.offset)
    elif spec.intervals:
        fields["every"] = [_every_entry(interval) for interval in spec.intervals]
    if spec.skip:
        entries = skip_entries(spec.skip)
        if entries is None:
            refuse(
                "its exclusions ("
                + "; ".join(describe(calendar) for calendar in spec.skip)
                + ") have no exact `skip` form (dates, ranges of dates, crons)"
            )
        else:
            fields["skip"] = entries
    if spec.timezone != "UTC":
        fields["timezone"] = spec.timezone
    if spec.jitter:
        fields["jitter"] = _duration(spec.jitter, "jitter", refuse)
    for name in ("start_at", "end_at"):
        value: datetime | None = getattr(spec, name)
        if value is not None:
            fields[name] = value.isoformat().replace("+00:00", "Z")
    return fields


def _every_entry(interval: Interval) -> str | dict[str, str]:
    """One entry of an `every` list: the duration, or `{every, offset}` with an offset."""
    every = format_duration(interval.every)
    if not interval.offset:
        return every
    return {"every": every, "offset": format_duration(interval.offset)}


def _priority(priority: Priority) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if priority.priority_key:
        fields["priority_key"] = priority.priority_key
    if priority.fairness_key:
        fields["fairness_key"] = priority.fairness_key
    if priority.fairness_weight:
        fields["fairness_weight"] = priority.fairness_weight
    return fields


# Types a file's plain YAML value gives by itself; the others are written as {type:, value:}.
_INFERRED = {
    AttributeType.KEYWORD: str,
    AttributeType.INT: int,
    AttributeType.DOUBLE: float,
    AttributeType.BOOL: bool,
    AttributeType.KEYWORD_LIST: tuple,
}


def _attributes(attributes: tuple[SearchAttribute, ...]) -> dict[str, Any]:
    """Search attributes as a file writes them: plain where the value says the type."""
    fields: dict[str, Any] = {}
    for attribute in attributes:
        value = attribute.value
        plain: Any = list(value) if isinstance(value, tuple) else value
        if isinstance(value, datetime):
            plain = value.isoformat().replace("+00:00", "Z")
        if type(value) is _INFERRED.get(attribute.type):
            fields[attribute.name] = plain
        else:
            fields[attribute.name] = {"type": str(attribute.type), "value": plain}
    return fields


def _retry(policy: RetryPolicy, refuse: _Refusals) -> dict[str, Any]:
    """The retry policy without what equals the server's defaults (`{}` for all defaults:
    a policy is still set, which differs from none)."""
    fields: dict[str, Any] = {}
    if policy.maximum_attempts:
        fields["maximum_attempts"] = policy.maximum_attempts
    initial = policy.initial_interval or RETRY_INITIAL_INTERVAL
    if initial != RETRY_INITIAL_INTERVAL:
        fields["initial_interval"] = _duration(initial, "retry.initial_interval", refuse)
    coefficient = policy.backoff_coefficient
    if coefficient and coefficient != RETRY_BACKOFF_COEFFICIENT:
        fields["backoff_coefficient"] = coefficient
    maximum = policy.maximum_interval
    if maximum and maximum != initial * RETRY_MAX_INTERVAL_FACTOR:
        fields["maximum_interval"] = _duration(maximum, "retry.maximum_interval", refuse)
    if policy.non_retryable_error_types:
        fields["non_retryable_error_types"] = list(policy.non_retryable_error_types)
    return fields


def _duration(value: timedelta, name: str, refuse: _Refusals) -> str:
    if not _whole_seconds(value):
        refuse(f"its {name} ({value.total_seconds():g} s) is not a whole number of seconds")
    return format_duration(value)


def _whole_seconds(value: timedelta) -> bool:
    return value % timedelta(seconds=1) == timedelta(0)


def _adoption_notes(
    observed: ObservedSchedule, file_id: str, project: str, *, in_place: bool
) -> list[str]:
    """What adopting the file changes about the schedule, in sentences."""
    assert observed.detail is not None
    notes: list[str] = []
    if not in_place:
        new_id = schedule_id_for(project, file_id)
        notes.append(
            f"NOT ADOPTABLE IN PLACE: {observed.schedule_id!r} does not follow the naming "
            f"schedule-{{project}}-{{id}}, so `scheduled adopt` cannot take it over; "
            f"`scheduled apply` creates {new_id!r} as a second schedule, and both run until "
            f"you delete {observed.schedule_id!r} (`temporal schedule delete --schedule-id "
            f"{observed.schedule_id}`)."
        )
    if not observed.detail.action.workflow_id:
        notes.append(
            "The workflow id of its runs changes from one chosen by the server to "
            f"{workflow_id_for(project, file_id)!r} plus the fire time."
        )
    if observed.paused_on_failure:
        notes.append(
            f"It was paused by pause_on_failure ({observed.note}); the file says "
            "`enabled: false`, so it stays paused until the file says otherwise."
        )
    return notes


# -- the text --------------------------------------------------------------------------------

# Characters PyYAML will not read raw inside a double-quoted scalar (outside its printable set,
# or line breaks YAML 1.1 would fold); JSON leaves them raw with ensure_ascii=False.
_YAML_UNSAFE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
# Words YAML 1.1 reads as something other than a string.
_NOT_PLAIN = frozenset({"y", "yes", "n", "no", "true", "false", "on", "off", "null"})


def _scalar(value: Any) -> str:
    """A value as YAML: a plain word when it cannot be read as anything but that string, else
    JSON (which YAML reads) with the characters YAML reads otherwise escaped (they only
    occur inside strings)."""
    if isinstance(value, str) and _PLAIN.fullmatch(value) and value.lower() not in _NOT_PLAIN:
        return value
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return _YAML_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


# The spec's lists, one entry a line as people write them; other lists (`args`) stay one value.
_BLOCK_LISTS = frozenset({"cron", "every", "skip"})


def _file_text(
    schedule_id: str,
    file_id: str,
    workflow_type: str,
    task_queue: str,
    block: dict[str, Any],
    notes: list[str],
) -> str:
    lines = [f"# {HEADER} {schedule_id}."]
    for note in notes:
        wrapped = textwrap.wrap(note, 96, break_on_hyphens=False)
        lines.append(f"# - {wrapped[0]}")
        lines.extend(f"#   {line}" for line in wrapped[1:])
    lines += [
        f"id: {_scalar(file_id)}",
        f"workflow: {_scalar(workflow_type)}",
        f"task_queue: {_scalar(task_queue)}",
        "schedule:",
    ]
    for key, value in block.items():
        if isinstance(value, list) and key in _BLOCK_LISTS:
            lines.append(f"  {key}:")
            lines.extend(f"    - {_scalar(item)}" for item in value)
        else:
            lines.append(f"  {key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


def _round_trip(
    observed: ObservedSchedule, relative: str, text: str, project: str, now: datetime
) -> list[str]:
    """Why the text does not load back into the schedule exactly; empty when it does."""
    result = load_text(relative, text, LoadOptions(project=project), now=now)
    errors = [diagnostic.message for diagnostic in result.diagnostics if diagnostic.is_error]
    if errors:
        return [f"its file would not be valid: {'; '.join(errors)}"]
    assert result.schedule is not None
    differing = differences(result.schedule, observed)
    if differing:
        return [f"its file would not give back the same {', '.join(differing)}"]
    return []


def differences(schedule: DesiredSchedule, observed: ObservedSchedule) -> list[str]:
    """The fields where a file's schedule differs from a described one, compared as Temporal
    holds them (server defaults filled in, calendar comments aside, an unset timeout as
    zero), leaving out what a file cannot set (the schedule id, a workflow id the server chose)."""
    assert observed.detail is not None
    action, held = schedule.action, observed.detail.action
    policies, held_policies = schedule.policies, observed.detail.policies
    spec, held_spec = schedule.spec, observed.spec

    def structures(calendars: tuple[Calendar, ...]) -> tuple[Calendar, ...]:
        return tuple(replace(calendar, comment="") for calendar in calendars)

    pairs: list[tuple[str, object, object]] = [
        ("calendars", structures(spec.calendars), structures(held_spec.calendars)),
        ("intervals", spec.intervals, held_spec.intervals),
        ("skip", structures(spec.skip), structures(held_spec.skip)),
        ("timezone", spec.timezone, held_spec.timezone),
        ("jitter", spec.jitter, held_spec.jitter),
        ("start_at", spec.start_at, held_spec.start_at),
        ("end_at", spec.end_at, held_spec.end_at),
        ("workflow", action.workflow_type, held.workflow_type),
        ("task_queue", action.task_queue, held.task_queue),
        ("workflow_id", action.workflow_id, held.workflow_id or action.workflow_id),
        ("args", action.args_json, held.args_json),
        ("memo", action.memo_json, held.memo_json),
        ("summary", action.summary, held.summary),
        ("details", action.details, held.details),
        ("priority", action.priority, held.priority),
        (
            "workflow_search_attributes",
            attribute_values(action.search_attributes),
            attribute_values(held.search_attributes),
        ),
        (
            "search_attributes",
            attribute_values(schedule.search_attributes),
            attribute_values(observed.search_attributes),
        ),
        ("retry", effective_retry(action.retry), effective_retry(held.retry)),
        ("overlap_policy", policies.overlap, held_policies.overlap),
        (
            "catchup_window",
            effective_catchup_window(policies.catchup_window),
            effective_catchup_window(held_policies.catchup_window),
        ),
        ("pause_on_failure", policies.pause_on_failure, held_policies.pause_on_failure),
        ("enabled", schedule.paused, observed.paused),
        ("note", schedule.note, observed.note),
        # The file's limit starts the count again at the runs the schedule has left.
        ("max_runs", schedule.max_runs, observed.detail.remaining_runs),
    ]
    for name in ("execution_timeout", "run_timeout", "task_timeout"):
        pairs.append((name, getattr(action, name) or None, getattr(held, name) or None))
    return [name for name, mine, theirs in pairs if mine != theirs]
