"""The daemon: lifecycle, signals, systemd, HTTP, and the watch → reconcile loop.

One root task group owns everything: the signal receiver, the HTTP endpoints, the tree watcher,
the watchdog pinger and the reconcile loop. Signal handlers only send a message to the loop; the
first SIGTERM/SIGINT asks for a graceful stop (no new Temporal calls, in-flight ones get a
grace period), a second one cancels at once. SIGHUP reloads the config and runs a full resync.

Each pass is load → observe → plan → apply. A full pass lists every schedule of the project; a
pass over a changed set of files describes only the schedules those files name, and plans them
against the inventory of the last full list (the prune guard needs the total), so a single edit
costs a few calls instead of a list of every schedule.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from loguru import logger

from scheduled.apply import ApplyReport, Outcome, Result, apply_plan
from scheduled.devserver import DevServer, DevServerError, start_dev_server
from scheduled.gateway import GatewayError, ScheduleGateway, ScheduleNotFoundError
from scheduled.http_api import Response, serve_http
from scheduled.loader import (
    FileCache,
    FileResult,
    LoadOptions,
    LoadResult,
    derive_project_name,
    load_tree,
)
from scheduled.logs import configure_logging
from scheduled.marker import record_for
from scheduled.metrics import DaemonMetrics
from scheduled.model import schedule_id_for
from scheduled.observed import ObservedSchedule
from scheduled.plan import Plan, make_plan
from scheduled.reconcile import Revision, desired_state, observe, pass_options, tree_revision
from scheduled.settings import ConfigError, Settings
from scheduled.systemd import SystemdNotifier, watchdog_interval_s
from scheduled.temporal_gateway import Connection, TemporalGateway, run_event_loop
from scheduled.tree import is_ignored_dir_name, is_workflow_file_name
from scheduled.watcher import (
    FilesChanged,
    RescanNeeded,
    TreeGone,
    TreeReplaced,
    TreeWatcher,
    Trigger,
)

EXIT_OK = 0
EXIT_FAILED = 1
# How often the watcher looks for changes; the quiet period itself is timed by the loop.
WATCH_STEP_MS = 25
SCOPED_DESCRIBE_LIMIT = 200  # past this many schedules in a changed set, one list is cheaper
RETRY_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
FOLDER_SCAN_LIMIT = 5_000  # a folder event holding more workflow files: rescan everything
STOP_GRACE_S = 5.0  # after SIGTERM, how long writes in flight may finish
STOP_BACKSTOP_S = STOP_GRACE_S + 3.0  # then the pass is cancelled, whatever it is doing
# A file modified this recently is never served from the cache: two saves within one tick of
# the file system clock, with the same size, would otherwise look unchanged ("racy git").
RACY_WINDOW_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class _Stop:
    force: bool


@dataclass(frozen=True, slots=True)
class _Reload:
    pass


_Message = Trigger | _Stop | _Reload


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonConfig:
    root: Path
    settings: Settings
    connection: Connection
    dev: bool = False
    state_dir: Path = Path(".scheduled-state")
    allow_mass_delete: bool = False
    config_file: Path | None = None
    reload_settings: Callable[[], Settings] | None = None
    manage_logging: bool = False  # the daemon owns loguru's sinks (re-applied on reload)


@dataclass(slots=True)
class DaemonStatus:
    """What /status, /readyz and the metrics report. Owned and written by the Daemon."""

    started_at: float = field(default_factory=time.time)
    ready: bool = False
    temporal_up: bool = False
    degraded: str = ""
    revision: Revision = field(default_factory=Revision)
    first_full_done: bool = False
    last_pass: dict[str, Any] = field(default_factory=dict)
    invalid: dict[str, list[str]] = field(default_factory=dict)
    managed: int = 0
    activity: str = "starting"

    def to_json(self, watcher_mode: str) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "temporal_up": self.temporal_up,
            "degraded": self.degraded or None,
            "activity": self.activity,
            "revision": self.revision.name or None,
            "watcher_mode": watcher_mode,
            "managed_schedules": self.managed,
            "invalid_files": self.invalid,
            "last_reconcile": self.last_pass or None,
            "uptime_s": round(time.time() - self.started_at, 1),
        }


GatewayFactory = Callable[[], Awaitable[ScheduleGateway]]


class _DaemonCache(FileCache):
    """The loader's cache, minus what a pass must read afresh: files the watcher reported
    changed (a tool that keeps mtime and size would fool the signature) and files modified in
    the last RACY_WINDOW_NS (two same-size saves within one tick of the file system clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.changed: frozenset[str] = frozenset()

    def get(self, relative: str, signature: tuple[int, int, int]) -> FileResult | None:
        return None if relative in self.changed else super().get(relative, signature)

    def put(self, relative: str, signature: tuple[int, int, int], result: FileResult) -> None:
        if time.time_ns() - signature[0] < RACY_WINDOW_NS:
            return
        super().put(relative, signature, result)


class Daemon:
    def __init__(
        self,
        config: DaemonConfig,
        *,
        gateway_factory: GatewayFactory | None = None,
        notifier: SystemdNotifier | None = None,
        watcher_factory: Callable[[Path, MemoryObjectSendStream[Trigger]], TreeWatcher] | None = None,
    ) -> None:
        self.config = config
        self.settings = config.settings
        self.project = config.settings.project or derive_project_name(config.root)
        self.status = DaemonStatus()
        self.metrics = DaemonMetrics()
        self.notifier = notifier or SystemdNotifier()
        self._gateway_factory = gateway_factory or (
            lambda: TemporalGateway.connect(config.connection)
        )
        self._watcher_factory = watcher_factory or (
            lambda root, send: TreeWatcher(
                root, send, step_ms=min(WATCH_STEP_MS, self.settings.debounce_ms or WATCH_STEP_MS),
                max_wait_ms=self.settings.max_wait_ms
            )
        )
        self._gateway: ScheduleGateway | None = None
        self._cache = _DaemonCache()
        self._inventory: dict[str, ObservedSchedule] = {}
        self._last_load: LoadResult | None = None
        self._stop = anyio.Event()
        self._wake: MemoryObjectSendStream[_Message] | None = None
        self._pass_scope: anyio.CancelScope | None = None
        self._applying = False  # the pass in progress is writing (SIGTERM gives it a grace)
        self._root_gone = False  # the watcher said the root vanished; nothing is decided
        self._reloading = False  # RELOADING=1 was sent; READY=1 follows the next full pass
        self.watcher: TreeWatcher | None = None
        self.http_port: int | None = None
        self.passes = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def serve(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> int:
        send, receive = anyio.create_memory_object_stream[_Message](max_buffer_size=10_000)
        self._wake = send
        logger.bind(root=str(self.config.root), project=self.project,
                    temporal=self._temporal_label()).info("scheduled daemon starting")
        with send, receive:
            async with anyio.create_task_group() as group:
                group.start_soon(self._receive_signals, send, group.cancel_scope)
                if self.settings.http_address:
                    try:
                        self.http_port = await group.start(
                            serve_http, self.settings.http_address, self._route
                        )
                    except (OSError, ValueError) as error:  # port taken, bad address
                        logger.bind(address=self.settings.http_address, error=str(error)).error(
                            "cannot serve HTTP on {}", self.settings.http_address
                        )
                        group.cancel_scope.cancel()
                        return EXIT_FAILED
                self.watcher = self._watcher_factory(self.config.root, send)
                group.start_soon(self.watcher.run)
                interval = watchdog_interval_s()
                if interval:
                    group.start_soon(self._watchdog, interval)
                task_status.started()
                await self._reconcile_loop(receive)
                group.cancel_scope.cancel()
        logger.info("scheduled daemon stopped")
        return EXIT_OK

    def request_stop(self) -> None:
        """A graceful stop (what SIGTERM does): no new Temporal calls, in-flight writes get
        STOP_GRACE_S, reads are abandoned at once. Call from the daemon's event loop."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.notifier.stopping()
        scope = self._pass_scope
        if scope is not None:
            if self._applying:  # apply_plan cancels its own stragglers after the grace
                scope.deadline = min(scope.deadline, anyio.current_time() + STOP_BACKSTOP_S)
            else:  # listing or describing: nothing is lost by abandoning it
                scope.cancel()
        if self._wake is not None:
            with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError,
                                     anyio.ClosedResourceError):
                self._wake.send_nowait(_Stop(force=False))

    def _temporal_label(self) -> str:
        try:
            return self.config.connection.describe()
        except GatewayError as error:
            return f"(unresolved: {error})"

    async def _receive_signals(self, send: MemoryObjectSendStream[_Message], scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
            async for signum in signals:
                name = signal.Signals(signum).name
                if signum == signal.SIGHUP:
                    logger.bind(signal=name).info("reload requested: re-reading config, full resync")
                    await send.send(_Reload())
                    continue
                if self._stop.is_set():
                    logger.bind(signal=name).warning("second stop signal: stopping now")
                    scope.cancel()
                    return
                logger.bind(signal=name).info(
                    "stop requested: finishing calls in flight, starting no new ones"
                )
                self.request_stop()

    async def _watchdog(self, interval: float) -> None:
        while True:
            self.notifier.watchdog()
            await anyio.sleep(interval)

    # -- HTTP ------------------------------------------------------------------------------

    def _route(self, path: str) -> Response:
        if path == "/healthz":
            return Response(200, b"ok\n")
        if path == "/readyz":
            if self.status.ready:
                return Response(200, b"ready\n")
            reason = self.status.degraded or (
                "first full reconcile not done" if not self.status.first_full_done
                else "Temporal unreachable"
            )
            return Response(503, f"not ready: {reason}\n".encode())
        if path == "/metrics":
            self.metrics.set_watcher_mode(self._watcher_mode())
            return Response(200, self.metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8")
        if path == "/status":
            body = json.dumps(self.status.to_json(self._watcher_mode()), indent=2).encode()
            return Response(200, body + b"\n", "application/json")
        return Response(404, b"not found: try /healthz, /readyz, /metrics or /status\n")

    def _watcher_mode(self) -> str:
        return self.watcher.state.mode if self.watcher else "starting"

    # -- the loop --------------------------------------------------------------------------

    async def _reconcile_loop(self, receive: MemoryObjectReceiveStream[_Message]) -> None:
        full_needed = True
        pending: set[str] = set()
        failures = 0
        next_full = math.inf
        while not self._stop.is_set():
            if not full_needed and not pending:
                timeout = max(0.0, next_full - time.monotonic())
                with anyio.move_on_after(timeout) as waited:
                    message = await receive.receive()
                if waited.cancelled_caught:
                    full_needed = True
                    logger.debug("periodic full resync")
                else:
                    full_needed, pending = self._absorb(message, full_needed, pending)
                    if isinstance(message, FilesChanged):
                        full_needed, pending = await self._until_quiet(
                            receive, full_needed, pending
                        )
            while True:  # take everything already queued: one pass for all of it
                try:
                    message = receive.receive_nowait()
                except anyio.WouldBlock:
                    break
                full_needed, pending = self._absorb(message, full_needed, pending)
            if self._stop.is_set():
                break
            if self._root_gone:
                # Nothing is decided while the tree is gone; TreeReplaced asks for a full pass.
                full_needed, pending = False, set()
                self._finish_reload()
                continue
            was_full = full_needed
            ok = await self._guarded_pass(None if full_needed else frozenset(pending))
            if was_full:
                self._finish_reload()
            if ok is None:  # cancelled by a stop request
                break
            if ok:
                failures = 0
                if was_full:
                    next_full = time.monotonic() + self.settings.resync_interval_s
                full_needed, pending = False, set()
            else:
                delay = RETRY_BACKOFF_S[min(failures, len(RETRY_BACKOFF_S) - 1)]
                failures += 1
                full_needed = True  # after trouble, trust nothing partial
                self._set_activity(f"retrying in {delay:.0f} s ({self.status.degraded or 'see the log'})")
                with anyio.move_on_after(delay):  # a change or a signal ends the wait early
                    message = await receive.receive()
                    full_needed, pending = self._absorb(message, full_needed, pending)

    async def _until_quiet(
        self, receive: MemoryObjectReceiveStream[_Message], full: bool, pending: set[str]
    ) -> tuple[bool, set[str]]:
        """The debounce: keep taking changes until none came for `debounce_ms`, or for at most
        `max_wait_ms` under a steady stream of saves. The watcher reports changes within
        WATCH_STEP_MS, so the quiet period is timed here, from each batch's arrival."""
        quiet = self.settings.debounce_ms / 1000
        deadline = time.monotonic() + self.settings.max_wait_ms / 1000
        while not self._stop.is_set():
            wait = min(quiet, deadline - time.monotonic())
            if wait <= 0:
                break
            with anyio.move_on_after(wait) as waited:
                message = await receive.receive()
            if waited.cancelled_caught:
                break
            full, pending = self._absorb(message, full, pending)
        return full, pending

    async def _guarded_pass(self, scope: frozenset[str] | None) -> bool | None:
        """One pass that cannot take the daemon down: True converged, False retry later,
        None cancelled by a stop request."""
        with anyio.CancelScope() as pass_scope:
            self._pass_scope = pass_scope
            failure: BaseException | None = None
            try:
                return await self._pass(scope)
            except ExceptionGroup as group:  # from a task group inside one of the phases
                failure = group.exceptions[0] if len(group.exceptions) == 1 else group
            except Exception as error:
                # Expected failures are ScheduledError and OSError; anything else is a bug,
                # logged with its traceback below, and the pass is retried with backoff rather
                # than taking the process (and every other file's schedule) down.
                failure = error
            finally:
                self._pass_scope = None
                self._applying = False
            self.status.ready = False
            self.metrics.ready.set(0)
            self.status.degraded = self.status.degraded or f"last pass failed: {failure}"
            logger.opt(exception=failure).bind(error=str(failure)).error(
                "the reconcile pass failed; retrying with backoff"
            )
            return False
        return None

    def _finish_reload(self) -> None:
        """After RELOADING=1, systemd waits for READY=1: sent once the reload's pass is over."""
        if self._reloading:
            self._reloading = False
            self.notifier.ready(self.status.activity)

    def _absorb(self, message: _Message, full: bool, pending: set[str]) -> tuple[bool, set[str]]:
        if isinstance(message, _Stop):
            return full, pending
        if isinstance(message, _Reload):
            self._reload()
            return True, pending
        if isinstance(message, TreeGone):
            self._root_gone = True
            self.status.degraded = f"root missing: {message.reason}"
            self.status.ready = False
            self.metrics.ready.set(0)
            self.metrics.set_watcher_mode("stopped")
            logger.bind(reason=message.reason).error(
                "the tree is gone or unreadable: nothing is deleted; waiting for it to return"
            )
            self._set_activity("waiting for the tree to return")
            return False, set()
        if isinstance(message, TreeReplaced):
            if self._root_gone:
                logger.bind(target=message.target).info("the tree is back: full rescan")
            else:
                logger.bind(target=message.target).info("the tree was replaced: full rescan")
            self._root_gone = False
            if self.status.degraded.startswith("root"):
                self.status.degraded = ""
            self._cache = _DaemonCache()  # a new checkout: inode numbers mean nothing now
            return True, set()
        if isinstance(message, RescanNeeded):
            logger.bind(reason=message.reason).info("full rescan")
            return True, pending
        assert isinstance(message, FilesChanged)
        changed = set(message.paths)
        for other in message.others:
            inside = self._workflow_files_under(other)
            if inside is None:
                return True, pending
            changed |= inside
        return full, pending | changed

    def _workflow_files_under(self, relative: str) -> set[str] | None:
        """The workflow files a changed non-YAML path holds now or held at the last load: a
        folder created, moved or removed as a whole is reported as the folder alone, and
        inotify may miss files written into a new folder before it is watched. None: too many
        to list here, rescan everything instead."""
        if relative in ("", "."):
            return set()  # the root itself: the watcher reports its loss and its return
        prefix = relative.rstrip("/") + "/"
        known = self._last_load.files if self._last_load is not None else ()
        found = {result.relative for result in known if result.relative.startswith(prefix)}
        folder = self.config.root / relative
        if folder.is_dir() and not folder.is_symlink():
            for current, folders, files in os.walk(folder):
                folders[:] = [name for name in folders if not is_ignored_dir_name(name)]
                base = Path(current).relative_to(self.config.root).as_posix()
                found |= {f"{base}/{name}" for name in files if is_workflow_file_name(name)}
                if len(found) > FOLDER_SCAN_LIMIT:
                    return None
        elif folder.is_symlink():
            return None  # a linked folder: the tree walk's rules decide what it holds
        return found

    def _reload(self) -> None:
        self._reloading = True
        self.notifier.reloading()
        if self.config.reload_settings is not None:
            try:
                settings = self.config.reload_settings()
            except ConfigError as error:
                logger.bind(error=str(error)).error("config reload failed; keeping the old config")
            else:
                old, self.settings = self.settings, settings
                if self.config.manage_logging and (
                    (old.log_format, old.log_level) != (settings.log_format, settings.log_level)
                ):
                    configure_logging(
                        settings.log_format, settings.log_level, secrets=(settings.api_key,)
                    )
                if settings.project not in (None, self.project):
                    logger.bind(project=settings.project).warning(
                        "the project cannot change while the daemon runs; restart it to switch"
                    )
                logger.info("config reloaded")
        self._cache = _DaemonCache()

    def _set_activity(self, text: str) -> None:
        self.status.activity = text
        self.notifier.status(text)

    # -- one pass --------------------------------------------------------------------------

    async def _pass(self, scope: frozenset[str] | None) -> bool:
        kind = "full" if scope is None else "changed"
        started = time.monotonic()
        self._set_activity(f"reconciling ({kind})")
        options = LoadOptions(
            project=self.project,
            default_workflow=self.settings.default_workflow,
            default_task_queue=self.settings.default_task_queue,
        )
        self._cache.changed = scope or frozenset()
        load = await anyio.to_thread.run_sync(
            lambda: load_tree(self.config.root, options, now=datetime.now(UTC), cache=self._cache)
        )
        if not load.readable:
            # Never read as "every file was deleted": decide nothing, retry with backoff (the
            # watcher also reports the root's loss and return).
            self.status.degraded = f"root unreadable: {load.root_problem}"
            self.status.ready = False
            self.metrics.ready.set(0)
            logger.bind(reason=load.root_problem).error("cannot read the tree; nothing is deleted")
            return False
        if self.status.degraded.startswith("root unreadable"):
            self.status.degraded = ""
        self._report_invalid(load, scope)
        revision = await anyio.to_thread.run_sync(tree_revision, self.config.root)
        if revision != self.status.revision:
            logger.bind(revision=revision.name or "(none)").info("applying revision")
        self.status.revision = revision
        try:
            gateway = await self._connected()
            observed = await self._observe(gateway, load, scope)
        except GatewayError as error:
            self._temporal_down(error)
            return False
        self._last_load = load
        plan_options, apply_options = pass_options(
            self.settings,
            project=self.project,
            revision=revision,
            allow_mass_delete=self.config.allow_mass_delete,
            grace_s=STOP_GRACE_S,
        )
        plan = make_plan(
            desired_state(load, self.project, scope),
            observed,
            plan_options,
        )
        if plan.guard_message:
            logger.bind(reason=plan.guard_message).warning("deletions refused by the prune guard")
        self._applying = True
        report = await apply_plan(
            plan,
            gateway,
            apply_options,
            stop=self._stop,
            on_result=self._log_result,
        )
        self._applying = False
        self._remember_writes(plan, report, revision)
        self._after_pass(kind, scope, report, plan.managed, started, len(load.files))
        return not any(result.outcome is Outcome.FAILED for result in report.results)

    async def _connected(self) -> ScheduleGateway:
        if self._gateway is None:
            self._gateway = await self._gateway_factory()
        return self._gateway

    async def _observe(
        self, gateway: ScheduleGateway, load: LoadResult, scope: frozenset[str] | None
    ) -> list[ObservedSchedule]:
        if scope is not None:
            ids = self._ids_for(scope, load)
            if len(ids) <= SCOPED_DESCRIBE_LIMIT and self.status.first_full_done:
                fresh = await self._describe_all(gateway, ids)
                for schedule_id in ids:
                    if schedule_id in fresh:
                        self._inventory[schedule_id] = fresh[schedule_id]
                    else:
                        self._inventory.pop(schedule_id, None)
                return list(self._inventory.values())
        listed = await observe(gateway, self.project)
        self._inventory = {item.schedule_id: item for item in listed}
        return listed

    def _ids_for(self, scope: frozenset[str], load: LoadResult) -> set[str]:
        """Schedule ids the changed files name now, named before, or are recorded against."""
        ids = {
            schedule_id_for(self.project, result.workflow_id)
            for result in load.files
            if result.relative in scope and result.workflow_id
        }
        if self._last_load is not None:
            ids |= {
                schedule_id_for(self.project, result.workflow_id)
                for result in self._last_load.files
                if result.relative in scope and result.workflow_id
            }
        ids |= {
            schedule_id
            for schedule_id, item in self._inventory.items()
            if item.record is not None and item.record.source in scope
        }
        return ids

    async def _describe_all(self, gateway: ScheduleGateway, ids: Iterable[str]) -> dict[str, ObservedSchedule]:
        found: dict[str, ObservedSchedule] = {}
        errors: list[GatewayError] = []
        limiter = anyio.CapacityLimiter(self.settings.concurrency)

        async def one(schedule_id: str, cancel: anyio.CancelScope) -> None:
            async with limiter:
                try:
                    found[schedule_id] = await gateway.describe(schedule_id)
                except ScheduleNotFoundError:
                    return
                except GatewayError as error:  # not raised here: a task group would wrap it
                    errors.append(error)
                    cancel.cancel()  # the pass fails as a whole; the rest is not needed

        async with anyio.create_task_group() as group:
            for schedule_id in sorted(ids):
                group.start_soon(one, schedule_id, group.cancel_scope)
        if errors:
            raise errors[0]
        return found

    def _temporal_down(self, error: GatewayError) -> None:
        if self.status.temporal_up or self.status.activity.startswith("reconciling"):
            logger.bind(error=str(error)).error("Temporal is unreachable; retrying with backoff")
        self.status.temporal_up = False
        self.status.ready = False
        self.metrics.temporal_up.set(0)
        self.metrics.ready.set(0)

    def _report_invalid(self, load: LoadResult, scope: frozenset[str] | None) -> None:
        invalid: dict[str, list[str]] = {}
        for result in load.files:
            if result.valid:
                continue
            invalid[result.relative] = [d.render() for d in result.diagnostics if d.is_error]
            if scope is None or result.relative in scope:
                for diagnostic in result.diagnostics:
                    if diagnostic.is_error:
                        logger.bind(file=diagnostic.file, line=diagnostic.line, code=diagnostic.code).error(
                            "{}: its schedule is kept as it is until the file is fixed", diagnostic.render()
                        )
        self.status.invalid = invalid
        self.metrics.invalid_files.set(len(invalid))

    def _log_result(self, result: Result) -> None:
        bound = logger.bind(
            schedule_id=result.schedule_id,
            workflow_id=result.workflow_id,
            file=result.source,
            outcome=str(result.outcome),
            duration_ms=round(result.duration_s * 1000, 1),
        )
        if result.outcome is Outcome.UNCHANGED:
            bound.debug("unchanged")
        elif result.outcome in (Outcome.FAILED, Outcome.CONFLICT, Outcome.BLOCKED):
            bound.error("{}: {}", result.outcome, result.reason)
        else:
            bound.info("{}{}", result.outcome, f": {result.reason}" if result.reason else "")

    def _remember_writes(self, plan: Plan, report: ApplyReport, revision: Revision) -> None:
        """Bring the inventory up to date with this pass's writes.

        The inventory is what a changed-set pass plans against besides the few schedules it
        describes: the prune guard's total and the files each schedule was written from. A full
        pass's list was taken before its writes, so without this a schedule created by the first
        pass would be missing, and deleting one file would look like deleting all of them.
        """
        operations = {operation.schedule_id: operation for operation in plan.operations}
        for result in report.results:
            operation = operations.get(result.schedule_id)
            if result.outcome is Outcome.DELETED:
                self._inventory.pop(result.schedule_id, None)
            elif result.outcome in (Outcome.CREATED, Outcome.UPDATED) and operation is not None:
                schedule = operation.desired
                if schedule is None:
                    continue
                self._inventory[result.schedule_id] = ObservedSchedule(
                    schedule_id=result.schedule_id,
                    owner=self.project,
                    record=record_for(
                        schedule, revision=revision.name, generation=revision.generation
                    ),
                    spec=schedule.spec,
                    workflow_type=schedule.action.workflow_type,
                    paused=operation.paused,
                    note=operation.note,
                )

    def _after_pass(
        self,
        kind: str,
        scope: frozenset[str] | None,
        report: ApplyReport,
        managed: int,
        started: float,
        files: int,
    ) -> None:
        self.passes += 1
        self.status.temporal_up = True
        self.metrics.temporal_up.set(1)
        counts = {name: count for name, count in report.counts().items() if count}
        self.status.managed = sum(
            1 for item in self._inventory.values() if item.owner == self.project
        )
        self.status.last_pass = {
            "kind": kind,
            "finished_at": datetime.now(UTC).isoformat(),
            "duration_s": round(time.monotonic() - started, 3),
            "files": files if scope is None else len(scope),
            "converged": report.converged,
            "counts": counts,
            "failures": [
                {"schedule_id": r.schedule_id, "file": r.source, "outcome": str(r.outcome),
                 "reason": r.reason}
                for r in report.results
                if r.outcome in (Outcome.FAILED, Outcome.CONFLICT, Outcome.BLOCKED)
            ],
        }
        self.metrics.record_pass(
            kind, report, self.status.managed, time.time(), time.monotonic() - started
        )
        if kind == "full":
            was_ready = self.status.first_full_done
            self.status.first_full_done = True
            if not was_ready:
                self.notifier.ready(f"watching {self.config.root}: {self.status.managed} schedules")
        if not self._root_gone:
            self.status.degraded = ""
        self.status.ready = (
            self.status.first_full_done and self.status.temporal_up and not self.status.degraded
        )
        self.metrics.ready.set(1 if self.status.ready else 0)
        if self.watcher is not None:
            self.metrics.set_watcher_mode(self.watcher.state.mode)
        summary = ", ".join(f"{count} {name}" for name, count in counts.items()) or "nothing"
        logger.bind(kind=kind, duration_ms=round((time.monotonic() - started) * 1000, 1),
                    revision=self.status.revision.name or None).info("reconciled: {}", summary)
        self._set_activity(
            f"watching {self.config.root}: {self.status.managed} schedules, "
            f"{len(self.status.invalid)} invalid files, last pass {summary}"
        )


def _dev_address_needed(config: DaemonConfig) -> bool:
    return config.dev and not config.settings.address and not os.environ.get("TEMPORAL_ADDRESS")


def run_daemon(config: DaemonConfig) -> int:
    """Entry point of `scheduled run`: logging, the optional dev server, then the daemon."""
    configure_logging(
        config.settings.log_format, config.settings.log_level, secrets=(config.settings.api_key,)
    )
    dev_server: DevServer | None = None
    try:
        if _dev_address_needed(config):
            logger.bind(state_dir=str(config.state_dir)).info("starting a local Temporal dev server")
            with _stop_signals_interrupt():
                dev_server = start_dev_server(config.state_dir, ui=True)
            logger.bind(address=dev_server.address, ui=dev_server.ui_url or "").info(
                "Temporal dev server is up"
            )
            config = replace(
                config, connection=replace(config.connection, address=dev_server.address)
            )
        return run_event_loop(Daemon(replace(config, manage_logging=True)).serve)
    except DevServerError as error:
        logger.bind(error=str(error)).error("cannot start the Temporal dev server")
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        if dev_server is not None:
            dev_server.stop()
            logger.info("Temporal dev server stopped")


@contextlib.contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """Outside the event loop (starting the dev server), SIGTERM must still unwind through
    `finally`, so the server process is not left behind: raise KeyboardInterrupt for it."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
