"""What the status page shows, as plain words: the daemon's /status and the last pass's
schedules, put the way an operator reads them (every time in UTC).

Pure functions over frozen values, so the page is built from exactly what /status says and the
pass left behind. Input values can hold secrets and are reduced to their shape here, before
anything reaches the renderer: the page cannot show what it was never given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scheduled.daemon.week_view import WeekView, week_view
from scheduled.model.desired import DesiredSchedule, Spec, schedule_id_prefix
from scheduled.model.observed import ObservedSchedule
from scheduled.reconcile.diff import when_in_words
from scheduled.reconcile.plan import Kind, PassContext, plan_schedule
from scheduled.report import schedule_row, upcoming, when_text

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_LISTED_NEXT = 10  # next runs looked at for one still ahead (Temporal's list can be minutes old)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """The schedules as the last pass left them, handed to `Health` by each pass: references to
    frozen values the runner keeps anyway, so taking one costs nothing per schedule."""

    context: PassContext
    observed: tuple[ObservedSchedule, ...]  # the inventory's schedules of this project
    desired: tuple[DesiredSchedule, ...]  # from the last load of the tree
    invalid_files: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleLine:
    workflow_id: str
    schedule_id: str
    source: str
    in_sync: bool | None  # None: cannot tell (its file is invalid)
    sync: str  # in words, with the reason when it is not in sync
    workflow: str
    when: str
    timezone: str
    paused: str
    next_run: str = ""
    next_in: str = ""
    last_run: str = ""
    last_status: str = ""
    note: str = ""
    input_shape: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PassLine:
    finished_at: str
    kind: str
    duration: str = ""
    files: int = 0
    converged: bool = False
    counts: str = ""
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Overview:
    project: str
    root: str
    generated_at: str
    ready: bool
    not_ready_reason: str
    temporal_up: bool
    activity: str
    revision: str
    watcher_mode: str
    uptime: str
    week: WeekView
    schedules: tuple[ScheduleLine, ...] = ()
    invalid_files: tuple[tuple[str, tuple[str, ...]], ...] = ()
    passes: tuple[PassLine, ...] = ()
    known: bool = False  # a pass has reported the schedules


def shape_of(value: Any) -> str:
    """What a value looks like, never what it holds: input values can be secrets."""
    if isinstance(value, dict):
        return f"object with {_count(len(value), 'key')}"
    if isinstance(value, list):
        return f"list of {len(value)}"
    if isinstance(value, str):
        return f"string, {_count(len(value), 'char')}"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else type(value).__name__


def overview(
    status: Mapping[str, Any],
    snapshot: Snapshot | None,
    *,
    project: str,
    root: str,
    now: datetime,
) -> Overview:
    """The page's content from /status (`DaemonStatus.to_json`) and the last pass's snapshot."""
    judged = _judged(snapshot, now) if snapshot is not None else []
    lines = schedule_lines(snapshot, judged, now) if snapshot is not None else ()
    # The paused ones will not fire; the spec the file has is whole (a list cuts it to 10).
    firing = [(j.name, j.spec) for j in judged if not j.observed.paused]
    return Overview(
        project=project,
        root=root,
        generated_at=_utc(now),
        ready=bool(status.get("ready")),
        not_ready_reason=str(status.get("not_ready_reason") or ""),
        temporal_up=bool(status.get("temporal_up")),
        activity=str(status.get("activity") or ""),
        revision=str(status.get("revision") or ""),
        watcher_mode=str(status.get("watcher_mode") or ""),
        uptime=_duration(float(status.get("uptime_s") or 0)),
        week=week_view(firing, now),
        schedules=lines,
        invalid_files=tuple(
            (file, tuple(errors))
            for file, errors in sorted(status.get("invalid_files", {}).items())
        ),
        passes=tuple(pass_line(entry) for entry in reversed(status.get("recent_passes") or [])),
        known=snapshot is not None,
    )


def schedule_lines(
    snapshot: Snapshot, judged: list[Judged], now: datetime
) -> tuple[ScheduleLine, ...]:
    """Every managed schedule, and every desired one Temporal does not hold (yet)."""
    lines = []
    for item in judged:
        row = schedule_row(item.observed, item.wanted, item.in_sync, next_count=_LISTED_NEXT)
        next_run = _first_next_run(row, item.observed, item.spec, now)
        last_run = _parse(row["last_run"])
        lines.append(
            ScheduleLine(
                workflow_id=item.name,
                schedule_id=item.observed.schedule_id,
                source=row["source"] or "",
                in_sync=item.in_sync,
                sync=item.sync,
                workflow=row["workflow"],
                when=when_text(row),
                timezone=row["timezone"],
                paused=row["paused"],
                next_run=_utc(next_run) if next_run else "",
                next_in=_relative(next_run, now) if next_run else "",
                last_run=_utc(last_run) if last_run else "",
                last_status=row["last_run_status"] or "",
                note=row["note"],
                input_shape=_input_shape(item.wanted),
            )
        )
    seen = {item.observed.schedule_id for item in judged}
    for schedule in snapshot.desired:
        if schedule.schedule_id in seen:
            continue
        ended = schedule.spec.end_at is not None and schedule.spec.end_at <= now
        lines.append(
            ScheduleLine(
                workflow_id=schedule.workflow_id,
                schedule_id=schedule.schedule_id,
                source=schedule.source,
                in_sync=None if ended else False,
                sync="not created: end_at is in the past"
                if ended
                else "not in Temporal as this project's: see the last passes",
                workflow=schedule.action.workflow_type,
                when=when_in_words(schedule.spec),
                timezone=schedule.spec.timezone,
                paused="by file" if schedule.paused else "no",
                note=schedule.note,
                input_shape=_input_shape(schedule),
            )
        )
    return tuple(sorted(lines, key=lambda line: (line.source, line.schedule_id)))


def pass_line(entry: Mapping[str, Any]) -> PassLine:
    """One entry of /status's `recent_passes`: a finished pass, or one that failed."""
    finished = _parse(entry.get("finished_at"))
    stamp = _utc(finished) if finished else ""
    if entry.get("error"):
        return PassLine(finished_at=stamp, kind="failed", problems=(str(entry["error"]),))
    counts = entry.get("counts") or {}
    problems = tuple(
        f"{failure['outcome']} {failure['schedule_id']}"
        + (f" ({failure['file']})" if failure.get("file") else "")
        + (f": {failure['reason']}" if failure.get("reason") else "")
        for failure in entry.get("failures") or []
    )
    return PassLine(
        finished_at=stamp,
        kind=str(entry.get("kind", "")),
        duration=f"{float(entry.get('duration_s', 0)) * 1000:.0f} ms",
        files=int(entry.get("files", 0)),
        converged=bool(entry.get("converged")),
        counts=", ".join(f"{count} {name}" for name, count in counts.items()) or "nothing",
        problems=problems,
    )


# -- the parts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Judged:
    """One managed schedule, with the file it comes from and whether Temporal holds the file."""

    name: str  # the workflow id, the schedule id without the project's prefix
    observed: ObservedSchedule
    wanted: DesiredSchedule | None
    in_sync: bool | None
    sync: str
    spec: Spec  # what it fires on: the file's when in sync (a list cuts specs to 10 entries)


def _judged(snapshot: Snapshot, now: datetime) -> list[Judged]:
    prefix = schedule_id_prefix(snapshot.context.project)
    desired = {schedule.schedule_id: schedule for schedule in snapshot.desired}
    judged = []
    for observed in snapshot.observed:
        wanted = desired.get(observed.schedule_id)
        in_sync, sync = _sync(observed, wanted, snapshot, now)
        spec = wanted.spec if wanted is not None and in_sync else observed.spec
        name = observed.schedule_id.removeprefix(prefix)
        judged.append(Judged(name, observed, wanted, in_sync, sync, spec))
    return judged


def _sync(
    observed: ObservedSchedule,
    wanted: DesiredSchedule | None,
    snapshot: Snapshot,
    now: datetime,
) -> tuple[bool | None, str]:
    """In sync when the planner would leave the schedule alone: the same decision as a pass."""
    if wanted is None:
        source = observed.record.source if observed.record else ""
        if source in snapshot.invalid_files:
            return None, "unknown: its file is invalid, the schedule is kept as it is"
        return False, "not in the tree: deleted or held by the next passes"
    operation = plan_schedule(wanted, observed, snapshot.context, now)
    if operation.kind is Kind.UNCHANGED:
        return True, "in sync"
    return False, f"out of sync: {'; '.join(operation.reasons) or str(operation.kind)}"


def _first_next_run(
    row: Mapping[str, Any], observed: ObservedSchedule, spec: Spec, now: datetime
) -> datetime | None:
    """Temporal's next run still ahead; computed from the spec when the list has none, as for
    a schedule the pass has just written (its inventory entry has no next runs until the next
    list) or one listed long enough ago that all its next runs are past."""
    if observed.paused:
        return None
    for text in row["next_runs"]:
        moment = _parse(text)
        if moment is not None and moment > now:
            return moment
    computed = upcoming(spec, now, count=1)
    return computed[0] if computed else None


def _input_shape(schedule: DesiredSchedule | None) -> str:
    """The shape of the file's arguments; "" without a file, or when it has none (or `{}`)."""
    if schedule is None or schedule.action.args_json in ("[]", "[{}]"):
        return ""
    try:
        args = json.loads(schedule.action.args_json)
    except ValueError:
        return "unreadable"
    if len(args) == 1:
        return shape_of(args[0])
    return f"{len(args)} arguments: " + "; ".join(map(shape_of, args))


def _parse(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def _relative(moment: datetime, now: datetime) -> str:
    seconds = (moment - now).total_seconds()
    words = _duration(abs(seconds))
    return f"in {words}" if seconds >= 0 else f"{words} ago"


def _duration(seconds: float) -> str:
    """Two units at most, the larger first: 45 s, 12 min 5 s, 3 h, 2 d 4 h."""
    rest = int(seconds)
    parts: list[tuple[int, str]] = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        value, rest = divmod(rest, size)
        if value or parts:
            parts.append((value, unit))
    shown = [f"{value} {unit}" for value, unit in parts[:2] if value]
    return " ".join(shown) or "0 s"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
