"""Rendering for people and for tools: plans as diffs, apply summaries, schedule tables, JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click

from scheduled.format.diagnostics import Diagnostic
from scheduled.format.loader import LoadResult
from scheduled.model.calendar import next_fire_times
from scheduled.model.desired import DesiredSchedule, SearchAttribute, Spec, schedule_id_prefix
from scheduled.model.durations import format_duration
from scheduled.model.observed import ObservedSchedule
from scheduled.reconcile.adopt import WHAT_ADOPTING_LOSES, AdoptionPlan, AdoptionReport
from scheduled.reconcile.apply import ApplyReport, OperationResult
from scheduled.reconcile.diff import held_max_runs, when_in_words
from scheduled.reconcile.export import ExportReport
from scheduled.reconcile.export import Status as ExportStatus
from scheduled.reconcile.phases import PassResult
from scheduled.reconcile.plan import Kind, Operation, Plan

_SIGNS = {
    Kind.CREATE: "+",
    Kind.UPDATE: "~",
    Kind.DELETE: "-",
    Kind.UNCHANGED: "=",
    Kind.SKIP: "!",
    Kind.CONFLICT: "x",
    Kind.BLOCKED: "x",
}


def upcoming(spec: Spec, now: datetime, count: int = 3) -> list[datetime]:
    try:
        zone = ZoneInfo(spec.timezone)
    except (KeyError, ValueError):
        return []
    # `now`, not start_at, as the start: a fire exactly at start_at is one of them.
    return next_fire_times(
        spec.calendars,
        spec.intervals,
        zone,
        now,
        count,
        start_at=spec.start_at,
        end_at=spec.end_at,
        excludes=spec.skip,
    )


def _times(times: Sequence[datetime]) -> str:
    return ", ".join(time.strftime("%Y-%m-%d %H:%M:%SZ") for time in times) or "(none)"


_COLOURS = {"+": "green", "~": "yellow", "-": "red", "x": "red", "!": "cyan"}


def coloured(line: str) -> str:
    """A plan line in the colour of its sign (for a terminal)."""
    colour = _COLOURS.get(line[:1])
    if colour is None:
        return line
    return click.style(line, fg=colour, bold=line.startswith("x"))


def render_plan(plan: Plan, now: datetime, *, verbose: bool = False) -> list[str]:
    lines: list[str] = []
    for operation in plan.operations:
        if operation.kind is Kind.UNCHANGED and not verbose and not operation.reasons:
            continue
        sign = _SIGNS[operation.kind]
        source = f"  ({operation.source})" if operation.source else ""
        lines.append(f"{sign} {operation.kind:<9} {operation.schedule_id}{source}")
        for reason in operation.reasons:
            lines.append(f"      {reason}")
        for change in operation.changes:
            lines.append(f"      {change.name}: {change.before} → {change.after}")
        if operation.kind in (Kind.CREATE, Kind.UPDATE) and operation.desired is not None:
            desired = operation.desired
            if operation.kind is Kind.CREATE:
                lines.append(f"      when: {when_in_words(desired.spec)} ({desired.spec.timezone})")
                if desired.max_runs is not None:
                    lines.append(f"      max_runs: {desired.max_runs} (then it stops firing)")
                if desired.trigger_immediately and not operation.paused:
                    lines.append("      starts one run at once (trigger_immediately)")
            if operation.observed is not None and operation.observed.spec != desired.spec:
                lines.append(f"      next runs before: {_times(operation.observed.next_runs[:3])}")
                lines.append(f"      next runs after:  {_times(upcoming(desired.spec, now))}")
            elif operation.kind is Kind.CREATE:
                lines.append(f"      next runs: {_times(upcoming(desired.spec, now))}")
    if plan.guard_message:
        lines.append(f"prune guard: {plan.guard_message}")
    counts = plan.counts()
    lines.append(
        "plan: {create} to create, {update} to update, {delete} to delete, {unchanged} unchanged, "
        "{skip} skipped, {conflict} conflicts, {blocked} deletions blocked".format(**counts)
    )
    return lines


def result_line(result: OperationResult) -> str:
    reason = f": {result.reason}" if result.reason else ""
    timing = f" in {result.duration_s * 1000:.0f} ms" if result.duration_s else ""
    return f"{result.outcome:<9} {result.schedule_id}{timing}{reason}"


def render_summary(report: ApplyReport) -> str:
    counts = report.counts()
    parts = [f"{count} {name}" for name, count in counts.items() if count]
    state = "converged" if report.converged else "NOT converged"
    stopped = " (stopped early)" if report.stopped else ""
    return (
        f"apply {state}{stopped} in {report.elapsed_s:.1f} s: {', '.join(parts) or 'nothing to do'}"
    )


def schedule_rows(
    result: PassResult, only: str | None = None, *, next_count: int = 3
) -> list[dict[str, Any]]:
    """The managed schedules as `list` and `get` show them, each with whether it is in sync
    with the tree (None: cannot tell, e.g. its file is invalid). `only`: one workflow id."""
    project = result.plan.context.project
    kinds = {operation.schedule_id: operation.kind for operation in result.plan.operations}
    by_schedule = {schedule.schedule_id: schedule for schedule in result.load.desired.values()}
    managed = sorted(
        (item for item in result.observed if item.owner == project),
        key=lambda item: item.schedule_id,
    )
    rows = []
    for item in managed:
        if only is not None and item.schedule_id.removeprefix(schedule_id_prefix(project)) != only:
            continue
        kind = kinds.get(item.schedule_id)
        in_sync = None if kind in (None, Kind.SKIP) else kind is Kind.UNCHANGED
        rows.append(
            schedule_row(item, by_schedule.get(item.schedule_id), in_sync, next_count=next_count)
        )
    return rows


def schedule_row(
    observed: ObservedSchedule,
    desired: DesiredSchedule | None,
    in_sync: bool | None,
    *,
    next_count: int = 3,
) -> dict[str, Any]:
    """One schedule as `list` and `get` show it; with `detail` when it was described."""
    record = observed.record
    if observed.paused_on_failure:
        paused = f"by pause_on_failure ({observed.note.removeprefix('paused due to ')})"
    elif observed.paused and record is None:
        paused = "yes"  # no write record: cannot tell who paused it
    elif observed.paused and record is not None and record.enabled:
        paused = "by operator"
    elif observed.paused:
        paused = "by file"
    elif record is not None and not record.enabled:
        paused = "no (unpaused by operator)"
    else:
        paused = "no"
    last = observed.last_run
    zone = _zone(observed.spec.timezone)
    # Temporal keeps computing next action times while paused; none of them will fire.
    upcoming_runs = () if observed.paused else observed.next_runs[:next_count]
    row: dict[str, Any] = {
        "schedule_id": observed.schedule_id,
        "workflow": observed.workflow_type,
        "when": when_in_words(observed.spec),
        "timezone": observed.spec.timezone,
        "paused": paused,
        "next_runs": [moment.astimezone(zone).isoformat() for moment in upcoming_runs],
        "last_run": last.scheduled_at.astimezone(zone).isoformat() if last else None,
        "last_run_status": last.status if last else None,
        "last_run_workflow_id": last.workflow_id if last else None,
        "source": record.source if record else (desired.source if desired else None),
        "in_sync": in_sync,
        "note": observed.note,
        # The runs left are known only from a describe (`get`, and `list` for these): the
        # server counts them down, and a list entry does not carry them.
        "max_runs": held_max_runs(observed),
        "runs_left": observed.detail.remaining_runs if observed.detail is not None else None,
    }
    if observed.detail is not None:
        row["detail"] = _detail(observed)
    return row


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _attributes(attributes: tuple[SearchAttribute, ...]) -> dict[str, Any]:
    """Search attributes by name as JSON values: datetimes in ISO 8601, lists as lists."""

    def value(found: SearchAttribute) -> Any:
        if isinstance(found.value, datetime):
            return found.value.isoformat()
        return list(found.value) if isinstance(found.value, tuple) else found.value

    return {found.name: value(found) for found in attributes}


def _detail(observed: ObservedSchedule) -> dict[str, Any]:
    """Everything that was sent besides the spec, as data."""
    assert observed.detail is not None
    action, policies = observed.detail.action, observed.detail.policies

    def duration(value: timedelta | None) -> str | None:
        return format_duration(value) if value is not None else None

    retry = action.retry
    return {
        "task_queue": action.task_queue,
        "workflow_id": action.workflow_id,
        # `input` as before for one argument (null for none or several); `args` always.
        "input": action.input,
        "args": action.args,
        "memo": json.loads(action.memo_json),
        "summary": action.summary or None,
        "details": action.details or None,
        "priority": None
        if action.priority is None
        else {
            "priority_key": action.priority.priority_key,
            "fairness_key": action.priority.fairness_key or None,
            "fairness_weight": action.priority.fairness_weight,
        },
        "workflow_search_attributes": _attributes(action.search_attributes),
        "search_attributes": _attributes(observed.search_attributes),
        "execution_timeout": duration(action.execution_timeout),
        "run_timeout": duration(action.run_timeout),
        "task_timeout": duration(action.task_timeout),
        "retry": None
        if retry is None
        else {
            "maximum_attempts": retry.maximum_attempts,
            "initial_interval": duration(retry.initial_interval),
            "backoff_coefficient": retry.backoff_coefficient,
            "maximum_interval": duration(retry.maximum_interval),
            "non_retryable_error_types": list(retry.non_retryable_error_types),
        },
        "overlap_policy": str(policies.overlap),
        "catchup_window": duration(policies.catchup_window),
        "pause_on_failure": policies.pause_on_failure,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    """The table on a terminal: fitted to its width by rich (long cells wrap, SOURCE last)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for header, _ in _COLUMNS:
        table.add_column(header, overflow="fold", no_wrap=header in ("SCHEDULE ID", "SYNC"))
    for row in rows:
        cells = [str(getter(row)) for _, getter in _COLUMNS]
        style = "red" if row["in_sync"] is False else None
        table.add_row(*cells, style=style)
    Console().print(table)


def render_table(rows: list[dict[str, Any]]) -> list[str]:
    """The table as plain text (pipes, files, logs): every cell whole."""
    columns = _COLUMNS
    cells = [[header for header, _ in columns]] + [
        [str(getter(row)) for _, getter in columns] for row in rows
    ]
    widths = [max(len(line[index]) for line in cells) for index in range(len(columns))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]


def _columns() -> list[tuple[str, Callable[[dict[str, Any]], object]]]:
    return [
        ("SCHEDULE ID", lambda row: row["schedule_id"]),
        ("WORKFLOW", lambda row: row["workflow"]),
        ("WHEN", when_text),
        ("TZ", lambda row: row["timezone"]),
        ("PAUSED", lambda row: row["paused"]),
        ("NEXT RUN", lambda row: (row["next_runs"] or ["-"])[0][:19]),
        ("LAST RUN", _last_run_cell),
        ("SYNC", lambda row: {True: "yes", False: "NO", None: "?"}[row["in_sync"]]),
        ("SOURCE", lambda row: row["source"] or "-"),
    ]


def when_text(row: dict[str, Any]) -> str:
    """When a schedule row fires, with its run limit and the runs left when they are known."""
    limit, left = row.get("max_runs"), row.get("runs_left")
    if limit is None:
        return str(row["when"])
    if left is None:
        return f"{row['when']}; at most {limit} runs"
    runs = "no runs left" if left == 0 else f"{left} of {limit} runs left"
    return f"{row['when']}; {runs}"


def _last_run_cell(row: dict[str, Any]) -> str:
    if not row["last_run"]:
        return "-"
    status = f" ({row['last_run_status']})" if row["last_run_status"] else ""
    return f"{row['last_run'][:19]}{status}"


_COLUMNS = _columns()


class Progress:
    """A progress bar for apply on a terminal (count, rate, ETA), drawn by rich on stderr;
    nothing at all elsewhere, where each result is a line of its own instead."""

    def __init__(self, *, enabled: bool, console: Any = None) -> None:
        self.enabled = enabled
        self._console = console
        self._bar: Any = None
        self._task: Any = None
        self.done = 0

    def start(self, plan: Plan) -> None:
        writes = sum(1 for operation in plan.operations if operation.writes)
        if not self.enabled or not writes:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("applying"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=self._console or Console(stderr=True),
            transient=True,
        )
        self._task = self._bar.add_task("apply", total=len(plan.operations), rate="")
        self._bar.start()
        self._started = time.monotonic()

    def result(self, result: OperationResult) -> None:
        self.done += 1
        if self._bar is None:
            return
        elapsed = max(time.monotonic() - self._started, 1e-6)
        self._bar.update(self._task, advance=1, rate=f"{self.done / elapsed:.0f}/s")

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def github_annotation(diagnostic: Diagnostic) -> str:
    """One diagnostic as a GitHub Actions workflow command, so the pull request shows it on
    the line (`file` as the checkout names it, relative to the workspace)."""
    level = "error" if diagnostic.is_error else "warning"
    where = [f"file={_github_property(diagnostic.file)}"]
    if diagnostic.line > 0:
        where.append(f"line={diagnostic.line}")
        if diagnostic.column > 0:
            where.append(f"col={diagnostic.column}")
    where.append(f"title={_github_property(diagnostic.code)}")
    return f"::{level} {','.join(where)}::{_github_data(diagnostic.message)}"


def _github_data(text: str) -> str:
    # GitHub's escaping for workflow commands: the message may not hold raw newlines or '%'.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def render_plan_markdown(
    plan: Plan, load: LoadResult, now: datetime, *, path_of: Callable[[str], str] = str
) -> str:
    """The plan as a pull-request comment: a summary line, a collapsible section per schedule
    that changes (its field diff and the next fire times before and after), the files'
    problems, and a footer with the revision."""
    counts = plan.counts()
    summary = (
        f"**Plan:** {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['unchanged']} unchanged"
    )
    extra = [f"{counts[kind]} {label}" for kind, label in _ATTENTION if counts[kind]]
    lines = [summary + (f" — {', '.join(extra)}" if extra else "") + ".", ""]
    if plan.guard_message:
        lines += [f"> [!WARNING]\n> Prune guard: {plan.guard_message}", ""]
    for operation in plan.operations:
        if operation.kind is Kind.UNCHANGED:
            continue
        lines += _markdown_operation(operation, now, path_of)
    problems = [d for d in load.diagnostics]
    if problems:
        lines += ["<details><summary>Problems in the files</summary>", ""]
        lines += [
            f"- `{path_of(d.file)}:{d.line}:{d.column}` {d.severity}: {_md(d.message)} (`{d.code}`)"
            for d in problems
        ]
        lines += ["", "</details>", ""]
    revision = plan.context.revision.name or "not a git checkout"
    lines.append(
        f"<sub>scheduled plan of project `{plan.context.project}` at revision `{revision}`, "
        f"{now.strftime('%Y-%m-%d %H:%M UTC')}</sub>"
    )
    return "\n".join(lines)


_ATTENTION = (("skip", "skipped"), ("conflict", "conflicts"), ("blocked", "blocked"))
_MARKDOWN_SIGN = {
    Kind.CREATE: "🟢 create",
    Kind.UPDATE: "🟡 update",
    Kind.DELETE: "🔴 delete",
    Kind.SKIP: "⚪ skip",
    Kind.CONFLICT: "⛔ conflict",
    Kind.BLOCKED: "⛔ blocked",
}


def _markdown_operation(
    operation: Operation, now: datetime, path_of: Callable[[str], str]
) -> list[str]:
    source = f" — `{path_of(operation.source)}`" if operation.source else ""
    lines = [
        f"<details><summary>{_MARKDOWN_SIGN[operation.kind]} "
        f"<code>{operation.workflow_id}</code>{source}</summary>",
        "",
    ]
    lines += [f"- {_md(reason)}" for reason in operation.reasons]
    if operation.changes:
        lines += ["", "```diff"]
        for change in operation.changes:
            lines += [f"- {change.name}: {change.before}", f"+ {change.name}: {change.after}"]
        lines.append("```")
    desired, observed = operation.desired, operation.observed
    if desired is not None and operation.kind in (Kind.CREATE, Kind.UPDATE):
        if observed is not None and observed.spec != desired.spec:
            lines += ["", f"Next runs before: {_times(observed.next_runs[:3])}"]
            lines += ["", f"Next runs after: {_times(upcoming(desired.spec, now))}"]
        elif operation.kind is Kind.CREATE:
            when = f"{when_in_words(desired.spec)} ({desired.spec.timezone})"
            lines += ["", f"When: {when}", "", f"Next runs: {_times(upcoming(desired.spec, now))}"]
    return [*lines, "", "</details>", ""]


def _md(text: str) -> str:
    """Text for a markdown line: no HTML, no table or emphasis surprises."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- export and adopt --all ----------------------------------------------------------------

_EXPORT_SIGNS = {
    ExportStatus.WRITTEN: "+",
    ExportStatus.IN_TREE: "=",
    ExportStatus.MANAGED: "=",
    ExportStatus.REFUSED: "x",
    ExportStatus.SKIPPED: "x",
}


def render_export(report: ExportReport, *, path_of: Callable[[str], str]) -> list[str]:
    """A line per schedule found, with its file, and below it why it was not written or what
    adopting the written file changes; then the counts and what to do next."""
    lines: list[str] = []
    for result in report.results:
        sign = "!" if result.status is ExportStatus.WRITTEN and not result.in_place else None
        file = f"  ({path_of(result.file)})" if result.file else ""
        lines.append(
            f"{sign or _EXPORT_SIGNS[result.status]} {result.status:<9} {result.schedule_id}{file}"
        )
        lines.extend(f"      {text}" for text in (*result.reasons, *result.notes))
    counts = report.counts()
    lines.append(
        "export: {written} written, {in tree} already in the tree, {managed} managed by a "
        "project, {refused} refused, {skipped} skipped".format(**counts)
    )
    moved = [result for result in report.of(ExportStatus.WRITTEN) if not result.in_place]
    if moved:
        lines.append(
            f"warning: {len(moved)} written file(s) name a schedule whose id is not "
            "schedule-{project}-{id} (marked !): `scheduled adopt` cannot take those over, and "
            "`scheduled apply` would create a second schedule beside each one; delete the old "
            "schedule when you apply, or remove the file"
        )
    if counts["written"]:
        lines.append(
            "next: `scheduled validate` the folder, review and commit the files, then "
            "`scheduled adopt --all` it (a plan first) to take the schedules over"
        )
    return lines


def render_adoption_plan(plan: AdoptionPlan, *, path_of: Callable[[str], str]) -> list[str]:
    """What `adopt --all` would do, as a plan: each schedule to adopt with the fields
    adopting changes and what the re-create loses, each refusal with its reason."""
    lines: list[str] = []
    for candidate in plan.candidates:
        schedule = candidate.schedule
        lines.append(f"~ adopt     {schedule.schedule_id}  ({path_of(schedule.source)})")
        lines.extend(
            f"      {change.name}: {change.before} → {change.after}" for change in candidate.changes
        )
        lines.extend(f"      lost: {lost}" for lost in candidate.lost)
    for refusal in plan.refused:
        lines.append(
            f"x refused   {refusal.schedule_id}  ({path_of(refusal.source)}): {refusal.reason}"
        )
    for schedule_id in plan.unmatched:
        lines.append(
            f"? no file   {schedule_id}: unmarked, and no file has its id "
            "(`scheduled export` writes one)"
        )
    lines.append(
        f"adopt --all: {len(plan.candidates)} to adopt, {len(plan.refused)} refused, "
        f"{plan.managed} already managed by project {plan.project}, "
        f"{len(plan.unmatched)} without a file"
    )
    if plan.candidates:
        lines.append(WHAT_ADOPTING_LOSES)
    return lines


def render_adoption(report: AdoptionReport) -> list[str]:
    lines = [
        f"adopted   {result.schedule_id}"
        if result.adopted
        else f"failed    {result.schedule_id}: {result.error}"
        for result in report.results
    ]
    stopped = " (stopped early)" if report.stopped else ""
    lines.append(
        f"adopt --all{stopped}: {len(report.adopted)} adopted, {len(report.failed)} failed"
    )
    return lines
