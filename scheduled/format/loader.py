"""From a tree of workflow files to desired schedules plus diagnostics, one bad file at a time.

Each file is read, parsed, checked against the schema and turned into a DesiredSchedule on its
own, so a broken file yields diagnostics for itself and nothing else. The tree-wide rule (one
`id` per tree) runs last. A file that fails keeps its name (and its `id` when that could be
read) in the result, so the reconciler can leave its schedule alone instead of deleting it.
"""

from __future__ import annotations

import json
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from scheduled.format import tree
from scheduled.format.cron import (
    MAX_COMMENT_BYTES,
    CompiledCron,
    CronError,
    compile_cron,
    warnings_for,
)
from scheduled.format.diagnostics import Diagnostic, Severity, format_path, sort_key
from scheduled.format.schema import check_document, did_you_mean
from scheduled.format.yaml_reader import Document, Path_, YamlReadError, read_yaml
from scheduled.model.calendar import (
    MAX_YEAR,
    Calendar,
    Interval,
    dst_problems,
    never_fires,
    next_fire_times,
)
from scheduled.model.desired import (
    Action,
    DesiredSchedule,
    OverlapPolicy,
    Policies,
    RetryPolicy,
    Spec,
    schedule_id_for,
    with_fingerprint,
    workflow_id_for,
)
from scheduled.model.durations import parse_duration


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadOptions:
    project: str
    default_workflow: str | None = None
    default_task_queue: str | None = None
    max_file_bytes: int = tree.MAX_FILE_BYTES


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    relative: str
    workflow_id: str | None = None  # when it could be read, even from an invalid file
    id_position: tuple[int, int] = (1, 1)  # line and column of the `id` value
    schedule: DesiredSchedule | None = None  # set only when the file is valid and has a schedule
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def valid(self) -> bool:
        return not any(diagnostic.is_error for diagnostic in self.diagnostics)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    root: Path
    files: tuple[FileResult, ...] = ()
    readable: bool = True  # False: the root is missing or unreadable, which proves nothing
    root_problem: str = ""
    desired: Mapping[str, DesiredSchedule] = field(default_factory=dict)  # by workflow id

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        found = [diagnostic for result in self.files for diagnostic in result.diagnostics]
        return tuple(sorted(found, key=sort_key))

    @property
    def invalid_files(self) -> frozenset[str]:
        return frozenset(result.relative for result in self.files if not result.valid)

    @property
    def claimed_workflow_ids(self) -> frozenset[str]:
        """Workflow ids named by invalid files: their schedules must not be touched."""
        return frozenset(
            result.workflow_id
            for result in self.files
            if not result.valid and result.workflow_id is not None
        )

    @property
    def error_count(self) -> int:
        return sum(1 for diagnostic in self.diagnostics if diagnostic.is_error)

    @property
    def warning_count(self) -> int:
        return sum(1 for diagnostic in self.diagnostics if not diagnostic.is_error)


class FileCache:
    """Per-file results keyed by (mtime, size, inode): a daemon re-reads only what changed."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[int, int, int], FileResult]] = {}

    def get(self, relative: str, signature: tuple[int, int, int]) -> FileResult | None:
        entry = self._entries.get(relative)
        return entry[1] if entry is not None and entry[0] == signature else None

    def put(self, relative: str, signature: tuple[int, int, int], result: FileResult) -> None:
        self._entries[relative] = (signature, result)

    def retain(self, names: Iterable[str]) -> None:
        keep = set(names)
        for name in list(self._entries):
            if name not in keep:
                del self._entries[name]


def load_tree(
    root: Path,
    options: LoadOptions,
    *,
    now: datetime | None = None,
    cache: FileCache | None = None,
) -> LoadResult:
    """Load every workflow file under root. Never raises for the content of a file."""
    now = now or datetime.now(UTC)
    try:
        found = list(tree.find_workflow_files(root))
    except RuntimeError:  # Path.resolve on a symlink loop (Python 3.11)
        return LoadResult(
            root=root,
            readable=False,
            root_problem=f"the folder {root} is a symlink that loops back on itself",
        )
    except OSError as error:
        reason = (
            "does not exist"
            if isinstance(error, FileNotFoundError)
            else (f"cannot be read ({error.strerror or error})")
        )
        return LoadResult(root=root, readable=False, root_problem=f"the folder {root} {reason}")
    results: list[FileResult] = []
    for item in found:
        signature = _signature(item.path)
        cached = cache.get(item.relative, signature) if cache and signature else None
        if cached is not None:
            results.append(cached)
            continue
        result = load_file(item, options, now=now)
        if cache is not None and signature is not None:
            cache.put(item.relative, signature, result)
        results.append(result)
    if cache is not None:
        cache.retain(item.relative for item in found)
    results = _reject_duplicate_ids(results)
    desired = {
        result.schedule.workflow_id: result.schedule
        for result in results
        if result.valid and result.schedule is not None
    }
    return LoadResult(root=root, files=tuple(results), desired=desired)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _reject_duplicate_ids(results: list[FileResult]) -> list[FileResult]:
    by_id: dict[str, list[int]] = defaultdict(list)
    for index, result in enumerate(results):
        if result.workflow_id is not None:
            by_id[result.workflow_id].append(index)
    for workflow_id, indexes in by_id.items():
        if len(indexes) < 2:
            continue
        names = [results[index].relative for index in indexes]
        for index in indexes:
            result = results[index]
            others = ", ".join(name for name in names if name != result.relative)
            line, column = result.id_position
            duplicate = Diagnostic(
                file=result.relative,
                line=line,
                column=column,
                severity=Severity.ERROR,
                code="tree.duplicate-id",
                message=f"the id {workflow_id!r} is also used by {others}; ids must be unique "
                "in the tree, so neither file is applied until one is renamed",
                path="id",
            )
            results[index] = replace(
                result, schedule=None, diagnostics=(*result.diagnostics, duplicate)
            )
    return results


def load_file(found: tree.FoundFile, options: LoadOptions, *, now: datetime) -> FileResult:
    """One file to a FileResult; every problem becomes a diagnostic, never an exception."""
    reporter = _Reporter(found.relative)
    if found.problem is not None:
        reporter.error("file.unreadable", found.problem)
        return reporter.result()
    text = tree.read_text(found.path, options.max_file_bytes)
    if isinstance(text, tree.ReadProblem):
        reporter.error(text.code, text.message, line=text.line, column=text.column)
        return reporter.result()
    try:
        document = read_yaml(text)
    except YamlReadError as error:
        reporter.error(error.code, error.message, line=error.line, column=error.column)
        return reporter.result()
    reporter.document = document
    try:
        return _FileBuilder(reporter, document, options, now).build()
    except Exception as error:  # a bug of ours must cost this file, never the whole tree
        failed = _Reporter(found.relative)
        failed.workflow_id = reporter.workflow_id  # keep its schedule alone, as for any error
        failed.id_position = reporter.id_position
        failed.error(
            "internal.error",
            f"scheduled failed while checking this file ({type(error).__name__}: {error}); "
            "this is a bug in scheduled, please report it with the file",
            line=0,
            column=0,
        )
        return failed.result()


class _Reporter:
    def __init__(self, relative: str) -> None:
        self.relative = relative
        self.document: Document | None = None
        self.diagnostics: list[Diagnostic] = []
        self.workflow_id: str | None = None
        self.id_position = (1, 1)
        self.schedule: DesiredSchedule | None = None

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        *,
        path: Path_ = (),
        at_key: bool = False,
        line: int | None = None,
        column: int | None = None,
        column_offset: int = 0,
    ) -> None:
        if line is None and self.document is not None:
            position = self.document.position(path, key=at_key)
            line, column = position.line, position.column + column_offset
        self.diagnostics.append(
            Diagnostic(
                file=self.relative,
                line=line or 0,
                column=column or 0,
                severity=severity,
                code=code,
                message=message,
                path=format_path(path),
            )
        )

    def error(self, code: str, message: str, **where: Any) -> None:
        self.add(Severity.ERROR, code, message, **where)

    def warning(self, code: str, message: str, **where: Any) -> None:
        self.add(Severity.WARNING, code, message, **where)

    def has_errors(self) -> bool:
        return any(diagnostic.is_error for diagnostic in self.diagnostics)

    def result(self) -> FileResult:
        return FileResult(
            relative=self.relative,
            workflow_id=self.workflow_id,
            id_position=self.id_position,
            schedule=None if self.has_errors() else self.schedule,
            diagnostics=tuple(sorted(self.diagnostics, key=sort_key)),
        )


@cache
def _zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


@dataclass(frozen=True, slots=True, kw_only=True)
class _Compiled:
    """What one cron text compiles to, worked out once per distinct text (trees repeat crons)."""

    cron: CompiledCron
    calendar: Calendar | None  # with the cron text as its comment; None for @every
    warnings: tuple[str, ...]
    never_by_structure: bool  # no date at all can match (February 31)


@lru_cache(maxsize=4096)
def _compile(text: str) -> _Compiled:
    """Each calendar carries its cron text as the comment: Temporal's UI shows it, since the
    server keeps only the compiled calendar, never the string."""
    cron = compile_cron(text)
    calendar = None if cron.calendar is None else replace(cron.calendar, comment=text.strip())
    never = cron.calendar is not None and never_fires(cron.calendar)
    return _Compiled(
        cron=cron,
        calendar=calendar,
        warnings=tuple(warnings_for(cron)),
        never_by_structure=never,
    )


def _never_fires(compiled: _Compiled, zone: zoneinfo.ZoneInfo, now: datetime) -> bool:
    """No fire time from now on. Without a year the structural check is exact (every real date
    recurs, on every weekday, within 2000-2100), and no horizon can miss a rare date such as
    February 29 on a Monday; with years, search up to Temporal's last year."""
    calendar = compiled.cron.calendar
    if calendar is None:
        return False
    if compiled.never_by_structure:
        return True
    if not calendar.year:
        return False
    horizon = datetime(MAX_YEAR + 1, 1, 1, tzinfo=UTC) - now
    return not next_fire_times([calendar], [], zone, now, 1, horizon=horizon)


@lru_cache(maxsize=4096)
def _dst_problems(calendar: Calendar, zone: zoneinfo.ZoneInfo, today: date) -> tuple[str, ...]:
    """DST sentences for the coming twelve months, once per calendar, zone and day: finding a
    zone's transitions is the costly part of loading a tree."""
    since = datetime(today.year, today.month, today.day, tzinfo=UTC)
    return tuple(dst_problems(calendar, zone, range(today.year, today.year + 2), since=since))


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Cron:
    """One cron string of the file that compiled, with where it stands."""

    path: Path_
    text: str
    compiled: _Compiled

    @property
    def calendar(self) -> Calendar | None:
        return self.compiled.calendar


class _FileBuilder:
    """Turns one parsed document into a DesiredSchedule, collecting every problem on the way."""

    def __init__(
        self, reporter: _Reporter, document: Document, options: LoadOptions, now: datetime
    ) -> None:
        self.reporter = reporter
        self.document = document
        self.options = options
        self.now = now

    def build(self) -> FileResult:
        data = self.document.data
        bad_paths: set[Path_] = set()
        for problem in check_document(data):
            self.reporter.error(
                problem.code, problem.message, path=problem.path, at_key=problem.at_key
            )
            bad_paths.add(problem.path[:2])
        if not isinstance(data, dict):
            return self.reporter.result()
        workflow_id = data.get("id")
        if isinstance(workflow_id, str) and ("id",) not in bad_paths:
            self.reporter.workflow_id = workflow_id
            position = self.document.position(("id",))
            self.reporter.id_position = (position.line, position.column)
        block = data.get("schedule")
        if not isinstance(block, dict):
            return self.reporter.result()
        self.reporter.schedule = self._schedule(data, block, bad_paths)
        return self.reporter.result()

    # -- the schedule block -------------------------------------------------------------

    def _schedule(
        self, data: dict[str, Any], block: dict[str, Any], bad: set[Path_]
    ) -> DesiredSchedule | None:
        def ok(name: str) -> bool:
            return name in block and ("schedule", name) not in bad

        timezone_name = (
            block.get("timezone", "UTC") if ok("timezone") or "timezone" not in block else "UTC"
        )
        crons = self._crons(block.get("cron")) if ok("cron") else []
        cron_zones = {cron.compiled.cron.timezone for cron in crons if cron.compiled.cron.timezone}
        if cron_zones:
            timezone_name = self._cron_zone(cron_zones, block, timezone_name)
        zone = self._timezone(timezone_name)
        intervals = self._interval(block) if ok("every") else ()
        jitter = self._duration(block, "jitter") if ok("jitter") else None
        start_at = self._timestamp(block, "start_at", zone) if ok("start_at") else None
        end_at = self._timestamp(block, "end_at", zone) if ok("end_at") else None
        if start_at and end_at and start_at >= end_at:
            self.reporter.error(
                "schedule.start-after-end",
                f"`start_at` ({start_at.isoformat()}) is not before `end_at` "
                f"({end_at.isoformat()}); the schedule could never fire",
                path=("schedule", "end_at"),
            )
        # Each calendar carries its cron text as the comment: Temporal's UI shows it, since the
        # server keeps only the compiled calendar, never the string.
        calendars = tuple(cron.calendar for cron in crons if cron.calendar is not None)
        intervals += tuple(
            cron.compiled.cron.interval for cron in crons if cron.compiled.cron.interval is not None
        )
        if zone is not None:
            self._check_timing(crons, zone, jitter, end_at)
        action = self._action(data, block, bad)
        policies = Policies(
            overlap=OverlapPolicy(block.get("overlap_policy", "skip"))
            if ok("overlap_policy") or "overlap_policy" not in block
            else OverlapPolicy.SKIP,
            catchup_window=self._duration(block, "catchup_window")
            if ok("catchup_window")
            else None,
            pause_on_failure=bool(block.get("pause_on_failure", False)),
        )
        if self.reporter.has_errors() or action is None or zone is None:
            return None
        project = self.options.project
        spec = Spec(
            calendars=calendars,
            intervals=intervals,
            timezone=timezone_name,
            jitter=jitter or timedelta(0),
            start_at=start_at,
            end_at=end_at,
            cron_text=tuple(_as_list(block.get("cron"))),
        )
        return with_fingerprint(
            DesiredSchedule(
                workflow_id=data["id"],
                schedule_id=schedule_id_for(project, data["id"]),
                source=self.reporter.relative,
                spec=spec,
                policies=policies,
                action=action,
                enabled=bool(block.get("enabled", True)),
                note=str(block.get("note", "")),
            )
        )

    def _crons(self, value: Any) -> list[_Cron]:
        crons: list[_Cron] = []
        items = _as_list(value)
        for index, text in enumerate(items):
            path: Path_ = (
                ("schedule", "cron", index) if isinstance(value, list) else ("schedule", "cron")
            )
            try:
                compiled = _compile(text)
            except CronError as error:
                self.reporter.error(
                    "cron.invalid",
                    f"cron {text!r}: {error.message}",
                    path=path,
                    column_offset=error.column,
                )
                continue
            size = len(text.strip().encode())
            if compiled.calendar is not None and size > MAX_COMMENT_BYTES:
                self.reporter.error(
                    "cron.too-long",
                    f"cron {text!r} is {size} bytes long; Temporal keeps the cron text as the "
                    f"calendar's comment, which holds at most {MAX_COMMENT_BYTES} bytes, so "
                    "shorten its `# comment`",
                    path=path,
                )
                continue
            crons.append(_Cron(path=path, text=text, compiled=compiled))
        return crons

    def _cron_zone(self, zones: set[str], block: dict[str, Any], declared: str) -> str:
        if len(zones) > 1 or ("timezone" in block and declared not in zones):
            conflict = (
                f"set different zones ({', '.join(sorted(zones))})"
                if len(zones) > 1 and "timezone" not in block
                else f"set {', '.join(sorted(zones))}, which disagrees with `timezone: {declared}`"
            )
            self.reporter.error(
                "cron.timezone-conflict",
                f"the cron expressions' CRON_TZ prefixes {conflict}; a schedule has one time "
                "zone, so set it once with `timezone`",
                path=("schedule", "cron"),
            )
            return declared
        return next(iter(zones))

    def _timezone(self, name: Any) -> zoneinfo.ZoneInfo | None:
        zone = _zone(str(name))
        if zone is None:
            hint = did_you_mean(str(name), _zone_names())
            self.reporter.error(
                "schedule.timezone",
                f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC{hint}",
                path=("schedule", "timezone"),
            )
        return zone

    def _interval(self, block: dict[str, Any]) -> tuple[Interval, ...]:
        every = self._duration(block, "every")
        offset = self._duration(block, "offset") if "offset" in block else timedelta(0)
        if every is None or offset is None:
            return ()
        if every <= timedelta(0):
            self.reporter.error(
                "schedule.every-zero",
                "`every` must be longer than zero",
                path=("schedule", "every"),
            )
            return ()
        if offset >= every:
            self.reporter.error(
                "schedule.offset-too-large",
                f"`offset` ({block['offset']}) must be shorter than `every` ({block['every']})",
                path=("schedule", "offset"),
            )
            return ()
        return (Interval(every=every, offset=offset),)

    def _duration(
        self, block: dict[str, Any], name: str, path: Path_ = ("schedule",)
    ) -> timedelta | None:
        try:
            return parse_duration(str(block[name]))
        except ValueError as error:
            self.reporter.error("schedule.duration", str(error), path=(*path, name))
            return None

    def _timestamp(
        self, block: dict[str, Any], name: str, zone: zoneinfo.ZoneInfo | None
    ) -> datetime | None:
        text = str(block[name])
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            self.reporter.error(
                "schedule.timestamp",
                f"`{name}` {text!r} is not a real date-time (check the month, day and hour)",
                path=("schedule", name),
            )
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone or UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 moved across midnight by the offset
            self.reporter.error(
                "schedule.timestamp",
                f"`{name}` {text!r} is out of the range of dates this tool and Temporal handle",
                path=("schedule", name),
            )
            return None

    def _check_timing(
        self,
        crons: list[_Cron],
        zone: zoneinfo.ZoneInfo,
        jitter: timedelta | None,
        end_at: datetime | None,
    ) -> None:
        cron_path: Path_ = ("schedule", "cron")
        for cron in crons:
            never = _never_fires(cron.compiled, zone, self.now)
            for message in cron.compiled.warnings:
                self.reporter.warning("cron.warning", message, path=cron.path)
            if never:
                self.reporter.error(
                    "cron.never-fires",
                    f"cron {cron.text!r} can never fire (no date matches it); Temporal would "
                    "accept it and later delete the schedule",
                    path=cron.path,
                )
            elif cron.compiled.cron.calendar is not None and str(zone.key) != "UTC":
                # The calendar as compiled (no cron-text comment): one entry per distinct cron.
                for message in _dst_problems(cron.compiled.cron.calendar, zone, self.now.date()):
                    self.reporter.warning("schedule.dst", message, path=cron.path)
        calendars = [cron.calendar for cron in crons if cron.calendar is not None]
        if (
            calendars
            and not (jitter and jitter > timedelta(0))
            and any(_top_of_hour(calendar) for calendar in calendars)
        ):
            self.reporter.warning(
                "schedule.no-jitter",
                "fires at the top of the hour with no jitter: many schedules start in the same "
                "second there; add e.g. `jitter: 30s` to spread the load",
                path=cron_path,
            )
        if end_at is not None and end_at <= self.now:
            self.reporter.warning(
                "schedule.end-in-past",
                f"`end_at` ({end_at.isoformat()}) is in the past: the schedule will never fire "
                "again, and it is not created",
                path=("schedule", "end_at"),
            )

    # -- the action ----------------------------------------------------------------------

    def _action(
        self, data: dict[str, Any], block: dict[str, Any], bad: set[Path_]
    ) -> Action | None:
        workflow_type = data.get("workflow") or self.options.default_workflow
        task_queue = data.get("task_queue") or self.options.default_task_queue
        if not workflow_type and ("workflow",) not in bad:
            self.reporter.error(
                "workflow.no-type",
                "no workflow type: add `workflow: YourWorkflowType` to the file, or set "
                "`default_workflow` in the config",
                path=("id",),
            )
        if not task_queue and ("task_queue",) not in bad:
            self.reporter.error(
                "workflow.no-task-queue",
                "no task queue: add `task_queue: your-queue` to the file, or set "
                "`default_task_queue` in the config",
                path=("id",),
            )
        input_json = self._json(block, "input")
        memo_json = self._json(block, "memo")
        retry = (
            self._retry(block.get("retry"))
            if "retry" in block and ("schedule", "retry") not in bad
            else None
        )
        timeouts = {
            name: self._duration(block, name)
            if name in block and ("schedule", name) not in bad
            else None
            for name in ("execution_timeout", "run_timeout", "task_timeout")
        }
        if not (workflow_type and task_queue and input_json and memo_json) or not isinstance(
            data.get("id"), str
        ):
            return None
        return Action(
            workflow_type=str(workflow_type),
            task_queue=str(task_queue),
            workflow_id=workflow_id_for(self.options.project, data["id"]),
            input_json=input_json,
            memo_json=memo_json,
            retry=retry,
            **timeouts,
        )

    def _json(self, block: dict[str, Any], name: str) -> str | None:
        value = block.get(name, {})
        try:
            text = json.dumps(
                value, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False
            )
        except (TypeError, ValueError):
            self.reporter.error(
                "schedule.not-json",
                f"`{name}` holds a value JSON cannot carry (binary data, NaN or infinity); "
                "Temporal passes it as JSON",
                path=("schedule", name),
            )
            return None
        return text  # sorted keys, no spaces: canonical_json's form

    def _retry(self, value: Any) -> RetryPolicy | None:
        if not isinstance(value, dict):
            return None
        path: Path_ = ("schedule", "retry")
        initial = (
            self._duration(value, "initial_interval", path) if "initial_interval" in value else None
        )
        maximum = (
            self._duration(value, "maximum_interval", path) if "maximum_interval" in value else None
        )
        if initial and maximum and maximum < initial:
            self.reporter.error(
                "schedule.retry",
                "`retry.maximum_interval` is shorter than `retry.initial_interval`; "
                "Temporal rejects that",
                path=(*path, "maximum_interval"),
            )
        coefficient = value.get("backoff_coefficient")
        if isinstance(coefficient, float) and not math.isfinite(coefficient):
            self.reporter.error(
                "schedule.retry",
                "`retry.backoff_coefficient` must be a finite number",
                path=(*path, "backoff_coefficient"),
            )
        return RetryPolicy(
            maximum_attempts=value.get("maximum_attempts"),
            initial_interval=initial,
            backoff_coefficient=float(coefficient) if coefficient is not None else None,
            maximum_interval=maximum,
            non_retryable_error_types=tuple(value.get("non_retryable_error_types", ())),
        )


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _top_of_hour(calendar: Calendar) -> bool:
    def single_zero(ranges: tuple[Any, ...]) -> bool:
        return len(ranges) == 1 and ranges[0].start == 0 and ranges[0].end == 0

    return single_zero(calendar.second) and single_zero(calendar.minute)


def derive_project_name(root: Path) -> str:
    """The default project name: the root folder's name, made valid (lowercase, '-')."""
    # The link's own name, not its target's: under git-sync the target is a commit hash, and a
    # project named after it would change with every commit.
    name = root.absolute().name.lower() or Path.cwd().name.lower() or "scheduled"
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in name)
    cleaned = cleaned.strip("-_")[:63] or "scheduled"
    return cleaned
