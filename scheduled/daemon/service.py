"""The daemon service: its lifecycle, and the loop that turns changes into reconcile passes.

One root task group owns everything: the signal receiver, the HTTP endpoints, the tree watcher,
the watchdog pinger and the reconcile loop. The first SIGTERM/SIGINT asks for a graceful stop
(no new Temporal calls, in-flight ones get a grace period), a second one cancels at once;
SIGHUP reloads the config and runs a full resync.

Each pass is the one reconcile pass (`phases.reconcile_pass`). A full pass lists every schedule
of the project; a pass over a changed set of files describes only the schedules those files
name and plans them against the inventory (`inventory.py`). What to do next is `triggers.py`'s
pure state; what others see of the daemon is `health.py`'s.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from loguru import logger

from scheduled.daemon.health import DaemonStatus, Health, log_result
from scheduled.daemon.http_api import serve_http
from scheduled.daemon.systemd import SystemdNotifier, watchdog_interval_s
from scheduled.daemon.triggers import (
    NOTHING,
    Backoff,
    Effect,
    Message,
    Pending,
    QuietPeriod,
    RecentDeletions,
    ReloadRequested,
    StopRequested,
    TemporalReachable,
    absorb,
    files_under,
    loop_is_alive,
)
from scheduled.daemon.watcher import FilesChanged, RescanNeeded, TreeReplaced, TreeWatcher, Trigger
from scheduled.devserver import DevServer, DevServerError, start_dev_server
from scheduled.errors import ScheduledError
from scheduled.exit_codes import ExitCode
from scheduled.format.loader import FileCache, LoadResult, load_tree
from scheduled.format.revision import revision_problem, tree_revision
from scheduled.logs import configure_logging
from scheduled.reconcile.apply import OperationResult, Outcome
from scheduled.reconcile.gateway import GatewayError, ScheduleGateway, TransientGatewayError
from scheduled.reconcile.inventory import Inventory, after_writes, files_sharing_ids
from scheduled.reconcile.phases import DescribeChanged, ListAll, Observer, reconcile_pass
from scheduled.reconcile.plan import HELD_VANISHED, Kind, Plan
from scheduled.settings import ConfigError, Settings, load_options, pass_options, project_name
from scheduled.signals import receive_stop_signals
from scheduled.temporal.connection import Connection, run_event_loop
from scheduled.temporal.gateway import TemporalGateway

# How often the watcher looks for changes; the quiet period itself is timed by the loop.
WATCH_STEP_MS = 25
# How often Temporal is asked whether it answers, so /readyz turns 503 within a few seconds of
# it going away even while no change waits (a pass would only notice at its next call).
HEALTH_PROBE_S = 2.0
STOP_GRACE_S = 5.0  # after SIGTERM, how long writes in flight may finish
STOP_BACKSTOP_S = STOP_GRACE_S + 3.0  # then the pass is cancelled, whatever it is doing


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonConfig:
    root: Path
    settings: Settings
    connection: Connection
    dev: bool = False
    state_dir: Path = Path(".scheduled-state")
    allow_mass_delete: bool = False
    reload_settings: Callable[[], Settings] | None = None
    manage_logging: bool = False  # the daemon owns loguru's sinks (re-applied on reload)


class PassOutcome(StrEnum):
    CONVERGED = "converged"  # nothing failed: the pending work is done
    RETRY = "retry"  # something failed: a full pass after a backoff
    STOPPED = "stopped"  # cancelled by a stop request


class TreeUnreadableError(ScheduledError):
    """The root is missing or unreadable, which proves nothing: the pass decides nothing."""


GatewayFactory = Callable[[], Awaitable[ScheduleGateway]]
WatcherFactory = Callable[[Path, MemoryObjectSendStream[Trigger]], TreeWatcher]


class Daemon:
    """The long-running service: keeps Temporal's schedules in step with a watched tree.

    It owns the root task group and the state between passes (the inventory, the last load,
    the file cache); deciding is the pass's job, and reporting is `Health`'s."""

    def __init__(
        self,
        config: DaemonConfig,
        *,
        gateway_factory: GatewayFactory | None = None,
        notifier: SystemdNotifier | None = None,
        watcher_factory: WatcherFactory | None = None,
    ) -> None:
        self.config = config
        self.settings = config.settings
        self.project = project_name(config.settings, config.root)
        self.notifier = notifier or SystemdNotifier()
        self.health = Health(config.root, self.notifier)
        self.health.watcher_mode = self.watcher_mode
        self._gateway_factory = gateway_factory or (
            lambda: TemporalGateway.connect(config.connection)
        )
        self._watcher_factory = watcher_factory or self._default_watcher
        self._gateway: ScheduleGateway | None = None
        self._cache = FileCache()
        # Files the watcher reported since they were last read: every pass reads them afresh,
        # full ones too (a tool that keeps mtime and size would fool the cache's signature).
        self._unread: set[str] = set()
        self._inventory: Inventory | None = None  # None until a full pass listed everything
        self._deletions = RecentDeletions(config.settings.resync_interval_s)
        self._next_verify = 0.0  # monotonic; the first full pass verifies
        # Files that lost their schedule block, with their signature when that was seen: their
        # schedules are deleted only if the same content is still there a quiet period later.
        self._held: dict[str, tuple[int, int] | None] = {}
        self._group: anyio.abc.TaskGroup | None = None
        self._last_load: LoadResult | None = None
        self._stop = anyio.Event()
        self._wake: MemoryObjectSendStream[Message] | None = None
        self._pass_scope: anyio.CancelScope | None = None
        self._applying = False  # the pass in progress is writing (SIGTERM gives it a grace)
        self._busy_since: float | None = None  # when the pass in progress started
        self._progress_at = time.monotonic()  # the pass's last sign of progress
        self._root_gone = False  # the watcher said the root vanished; nothing is decided
        self._reloading = False  # RELOADING=1 was sent; READY=1 follows the next full pass
        self.watcher: TreeWatcher | None = None
        self.http_port: int | None = None
        self.passes = 0

    @property
    def status(self) -> DaemonStatus:
        return self.health.status

    def watcher_mode(self) -> str:
        return self.watcher.state.mode if self.watcher else "starting"

    def _default_watcher(self, root: Path, send: MemoryObjectSendStream[Trigger]) -> TreeWatcher:
        step = min(WATCH_STEP_MS, self.settings.debounce_ms or WATCH_STEP_MS)
        return TreeWatcher(root, send, step_ms=step, max_wait_ms=self.settings.max_wait_ms)

    # -- lifecycle -------------------------------------------------------------------------

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> int:
        send, receive = anyio.create_memory_object_stream[Message](max_buffer_size=10_000)
        self._wake = send
        logger.bind(
            root=str(self.config.root), project=self.project, temporal=self._temporal_label()
        ).info("scheduled daemon starting")
        with send, receive:
            async with anyio.create_task_group() as group:
                self._group = group
                group.start_soon(self._receive_signals, send, group.cancel_scope)
                if self.settings.http_address:
                    try:
                        self.http_port = await group.start(
                            serve_http, self.settings.http_address, self.health.route
                        )
                    except (OSError, ValueError) as error:  # port taken, bad address
                        logger.bind(address=self.settings.http_address, error=str(error)).error(
                            "cannot serve HTTP on {}", self.settings.http_address
                        )
                        group.cancel_scope.cancel()
                        return ExitCode.FAILED
                self.watcher = self._watcher_factory(self.config.root, send)
                group.start_soon(self.watcher.run)
                group.start_soon(self._probe_temporal, send)
                interval = watchdog_interval_s()
                if interval:
                    group.start_soon(self._watchdog, interval)
                task_status.started()
                await self._reconcile_loop(receive)
                group.cancel_scope.cancel()
        logger.info("scheduled daemon stopped")
        return ExitCode.OK

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
            with contextlib.suppress(
                anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError
            ):
                self._wake.send_nowait(StopRequested())

    def _temporal_label(self) -> str:
        try:
            return self.config.connection.describe()
        except GatewayError as error:
            return f"(unresolved: {error})"

    async def _receive_signals(
        self, send: MemoryObjectSendStream[Message], scope: anyio.CancelScope
    ) -> None:
        def graceful(name: str) -> None:
            logger.bind(signal=name).info(
                "stop requested: finishing calls in flight, starting no new ones"
            )
            self.request_stop()

        def forced(name: str) -> None:
            logger.bind(signal=name).warning("second stop signal: stopping now")
            scope.cancel()

        async def reload() -> None:
            logger.bind(signal="SIGHUP").info("reload requested: re-reading config, full resync")
            await send.send(ReloadRequested())

        await receive_stop_signals(self._stop, graceful=graceful, forced=forced, reload=reload)

    async def _probe_temporal(self, send: MemoryObjectSendStream[Message]) -> None:
        while True:
            await anyio.sleep(HEALTH_PROBE_S)
            gateway = self._gateway
            if gateway is None or self._stop.is_set():
                continue  # not connected yet: the next pass connects and reports
            try:
                with anyio.fail_after(HEALTH_PROBE_S * 2):
                    await gateway.check_health()
            except TimeoutError:
                self.health.temporal_down(TransientGatewayError("Temporal does not answer"))
            except GatewayError as error:
                self.health.temporal_down(error)
            else:
                if not self.status.temporal_up and self.status.first_full_done:
                    self.health.temporal_back()
                    await send.send(TemporalReachable())

    async def _watchdog(self, interval: float) -> None:
        stall_s = interval * 2 * 0.9  # pings come every half WatchdogSec; keep a margin
        while True:
            if loop_is_alive(self._busy_since, self._progress_at, time.monotonic(), stall_s):
                self.notifier.watchdog()
            await anyio.sleep(interval)

    def _progressed(self, *_: object) -> None:
        self._progress_at = time.monotonic()

    # -- the loop --------------------------------------------------------------------------

    async def _reconcile_loop(self, receive: MemoryObjectReceiveStream[Message]) -> None:
        pending = Pending(full=True)
        backoff = Backoff()
        next_full = math.inf
        while not self._stop.is_set():
            if pending.empty:
                with anyio.move_on_after(max(0.0, next_full - time.monotonic())) as waited:
                    message = await receive.receive()
                if waited.cancelled_caught:
                    pending = Pending(full=True)
                    logger.debug("periodic full resync")
                else:
                    pending = self._absorb(pending, message)
                    if isinstance(message, FilesChanged):
                        pending = await self._until_quiet(receive, pending)
            pending = self._absorb_queued(receive, pending)
            if self._stop.is_set():
                break
            if self._root_gone:
                # Nothing is decided while the tree is gone; TreeReplaced asks for a full pass.
                pending = NOTHING
                self._finish_reload()
                continue
            scope = await self._scope_of(pending)
            was_full = scope is None
            outcome = await self._guarded_pass(scope)
            if was_full:
                self._finish_reload()
            if outcome is PassOutcome.STOPPED:
                break
            if outcome is PassOutcome.CONVERGED:
                backoff.reset()
                if was_full:
                    next_full = time.monotonic() + self.settings.resync_interval_s
                pending = NOTHING
                continue
            delay = backoff.next_delay()
            pending = Pending(full=True)  # after trouble, trust nothing partial
            self.health.activity(
                f"retrying in {delay:.0f} s ({self.status.degraded or 'see the log'})"
            )
            with anyio.move_on_after(delay):  # a change or a signal ends the wait early
                pending = self._absorb(pending, await receive.receive())

    def _absorb_queued(
        self, receive: MemoryObjectReceiveStream[Message], pending: Pending
    ) -> Pending:
        """Take everything already queued: one pass for all of it."""
        while True:
            try:
                message = receive.receive_nowait()
            except anyio.WouldBlock:
                return pending
            pending = self._absorb(pending, message)

    async def _until_quiet(
        self, receive: MemoryObjectReceiveStream[Message], pending: Pending
    ) -> Pending:
        quiet = QuietPeriod.starting(
            time.monotonic(),
            debounce_ms=self.settings.debounce_ms,
            max_wait_ms=self.settings.max_wait_ms,
        )
        while not self._stop.is_set():
            wait = quiet.wait(time.monotonic())
            if wait <= 0:
                break
            with anyio.move_on_after(wait) as waited:
                message = await receive.receive()
            if waited.cancelled_caught:
                break
            pending = self._absorb(pending, message)
        return pending

    def _absorb(self, pending: Pending, message: Message) -> Pending:
        if isinstance(message, FilesChanged):
            self._unread |= message.paths
        pending, effect = absorb(pending, message, root_gone=self._root_gone)
        if effect is Effect.RELOAD:
            self._reload()
        elif effect is Effect.ROOT_GONE:
            self._root_gone = True
            self.health.root_gone(getattr(message, "reason", ""))
        elif effect in (Effect.ROOT_BACK, Effect.ROOT_REPLACED):
            assert isinstance(message, TreeReplaced)
            what = "is back" if effect is Effect.ROOT_BACK else "was replaced"
            logger.bind(target=message.target).info(f"the tree {what}: full rescan")
            self._root_gone = False
            self.health.root_back()
            self._cache = FileCache()  # a new checkout: inode numbers mean nothing now
        elif effect is Effect.RESCAN:
            assert isinstance(message, RescanNeeded)
            logger.bind(reason=message.reason).info("full rescan")
        return pending

    async def _scope_of(self, pending: Pending) -> frozenset[str] | None:
        """The changed files of a pass, or None for a full pass: folders are expanded into
        the workflow files they hold (a walk, so in a worker thread)."""
        if pending.full:
            return None
        previous = self._last_load.files if self._last_load is not None else ()
        files = pending.files
        if pending.folders:
            known = [result.relative for result in previous]
            inside = await anyio.to_thread.run_sync(
                files_under, self.config.root, pending.folders, known
            )
            if inside is None:
                return None
            files |= inside
        return files_sharing_ids(files, previous)

    async def _guarded_pass(self, scope: frozenset[str] | None) -> PassOutcome:
        """One pass that cannot take the daemon down."""
        with anyio.CancelScope() as pass_scope:
            self._pass_scope = pass_scope
            self._busy_since = self._progress_at = time.monotonic()
            failure: BaseException | None = None
            try:
                return await self._pass(scope)
            except ExceptionGroup as group:  # from a task group inside one of the phases
                failure = group.exceptions[0] if len(group.exceptions) == 1 else group
            except Exception as error:
                # Expected failures are ScheduledError and OSError; anything else is a bug,
                # logged with its traceback, and the pass is retried with backoff rather
                # than taking the process (and every other file's schedule) down.
                failure = error
            finally:
                self._pass_scope = None
                self._busy_since = None
                self._applying = False
            self.health.pass_failed(failure)
            return PassOutcome.RETRY
        return PassOutcome.STOPPED

    def _finish_reload(self) -> None:
        """After RELOADING=1, systemd waits for READY=1: sent once the reload's pass is over."""
        if self._reloading:
            self._reloading = False
            self.notifier.ready(self.status.activity)

    def _reload(self) -> None:
        self._reloading = True
        self.notifier.reloading()
        self._cache = FileCache()
        if self.config.reload_settings is None:
            return
        try:
            settings = self.config.reload_settings()
        except ConfigError as error:
            logger.bind(error=str(error)).error("config reload failed; keeping the old config")
            return
        old, self.settings = self.settings, settings
        if self.config.manage_logging and (old.log_format, old.log_level) != (
            settings.log_format,
            settings.log_level,
        ):
            configure_logging(
                settings.log_format, settings.log_level, secrets=_secrets(self.config, settings)
            )
        if settings.project not in (None, self.project):
            logger.bind(project=settings.project).warning(
                "the project cannot change while the daemon runs; restart it to switch"
            )
        logger.info("config reloaded")

    # -- one pass --------------------------------------------------------------------------

    async def _pass(self, scope: frozenset[str] | None) -> PassOutcome:
        kind = "full" if scope is None else "changed"
        started = time.monotonic()
        self.health.activity(f"reconciling ({kind})")
        revision = await anyio.to_thread.run_sync(tree_revision, self.config.root)
        self.health.revision_seen(revision, revision_problem(self.config.root, revision))
        plan_options, apply_options = pass_options(
            self.settings,
            project=self.project,
            revision=revision,
            allow_mass_delete=self.config.allow_mass_delete,
            grace_s=STOP_GRACE_S,
        )
        confirmed = await anyio.to_thread.run_sync(self._unchanged_held_files)
        plan_options = replace(
            plan_options,
            recently_deleted=self._deletions.total(time.monotonic()),
            hold_vanished_blocks=True,
            confirmed_vanished=confirmed,
        )
        verify = scope is None and time.monotonic() >= self._next_verify
        try:
            gateway = await self._connected()
            result = await reconcile_pass(
                self._tree_loader(scope),
                gateway,
                plan_options,
                apply=apply_options,
                observer=self._observer(scope, verify=verify),
                scope=scope,
                stop=self._stop,
                on_load=partial(self._tree_loaded, scope),
                on_plan=self._applying_plan,
                on_result=self._result,
            )
        except TreeUnreadableError as error:
            self.health.root_unreadable(str(error))
            return PassOutcome.RETRY
        except GatewayError as error:
            self.health.temporal_down(error)
            return PassOutcome.RETRY
        finally:
            self._applying = False
        assert result.report is not None, "the daemon's passes apply"
        if result.journal_error:
            logger.bind(error=result.journal_error).warning("journal of recent writes not updated")
        self._last_load = result.load
        self._inventory = after_writes(Inventory.of(result.observed), result.plan, result.report)
        self.passes += 1
        await self._hold_vanished(result.plan, confirmed)
        if verify:
            self._next_verify = time.monotonic() + self.settings.verify_interval_s
        self._deletions.add(time.monotonic(), result.report.counts()[Outcome.DELETED])
        self.health.pass_done(
            kind=kind,
            files=len(result.load.files) if scope is None else len(scope),
            report=result.report,
            managed=self._inventory.managed(self.project),
            duration_s=time.monotonic() - started,
            root_gone=self._root_gone,
        )
        failed = any(r.outcome is Outcome.FAILED for r in result.report.results)
        return PassOutcome.RETRY if failed else PassOutcome.CONVERGED

    def _tree_loader(self, scope: frozenset[str] | None) -> Callable[[], LoadResult]:
        options = replace(load_options(self.settings, self.config.root), project=self.project)
        cache, fresh = self._cache, frozenset(self._unread) | (scope or frozenset())

        def load() -> LoadResult:
            loaded = load_tree(
                self.config.root, options, now=datetime.now(UTC), cache=cache, fresh=fresh
            )
            if not loaded.readable:
                raise TreeUnreadableError(loaded.root_problem)
            return loaded

        return load

    def _observer(self, scope: frozenset[str] | None, *, verify: bool) -> Observer:
        if scope is None or self._inventory is None:
            return ListAll(
                verify=verify,
                concurrency=self.settings.concurrency,
                rate_limit=self.settings.rate_limit,
            )
        previous = self._last_load.files if self._last_load is not None else ()
        return DescribeChanged(
            files=scope,
            inventory=self._inventory,
            previous=previous,
            concurrency=self.settings.concurrency,
        )

    def _unchanged_held_files(self) -> frozenset[str]:
        """Held files whose content is what it was when their schedule block was missed."""
        return frozenset(
            name for name, seen in self._held.items() if _signature(self.config.root / name) == seen
        )

    async def _hold_vanished(self, plan: Plan, confirmed: frozenset[str]) -> None:
        """Remember the files whose deletion waits, and look at them again a quiet period on."""
        held = {
            operation.source
            for operation in plan.operations
            if operation.kind is Kind.SKIP and operation.reasons == (HELD_VANISHED,)
        }
        for name in confirmed | (set(self._held) - held):
            self._held.pop(name, None)
        fresh: set[str] = set()
        for name in held:  # new, or changed again since: a quiet period from now
            seen = await anyio.to_thread.run_sync(_signature, self.config.root / name)
            if name not in self._held or self._held[name] != seen:
                self._held[name] = seen
                fresh.add(name)
        if fresh and self._group is not None and self._wake is not None:
            self._group.start_soon(self._look_again, self._wake, frozenset(fresh))

    async def _look_again(
        self, send: MemoryObjectSendStream[Message], names: frozenset[str]
    ) -> None:
        await anyio.sleep(max(self.settings.debounce_ms, WATCH_STEP_MS) / 1000)
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await send.send(FilesChanged(names))

    def _tree_loaded(self, scope: frozenset[str] | None, load: LoadResult) -> None:
        self._progressed()
        self._unread -= {result.relative for result in load.files}
        self.health.tree_loaded(load, scope)

    def _result(self, result: OperationResult) -> None:
        self._progressed()
        log_result(result)

    def _applying_plan(self, plan: Plan) -> None:
        self._progressed()
        if plan.guard_message:
            logger.bind(reason=plan.guard_message).warning("deletions refused by the prune guard")
        self._applying = True

    async def _connected(self) -> ScheduleGateway:
        if self._gateway is None:
            self._gateway = await self._gateway_factory()
        return self._gateway


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def _secrets(config: DaemonConfig, settings: Settings | None = None) -> tuple[str | None, ...]:
    """What logs must never show: the API key from the settings, and one that only an envconfig
    profile (or TEMPORAL_API_KEY) supplies."""
    try:
        from_profile = config.connection.resolve().get("api_key")
    except GatewayError:  # an unreadable profile is reported when connecting
        from_profile = None
    api_key = (settings or config.settings).api_key
    return (api_key, from_profile if isinstance(from_profile, str) else None)


def _dev_address_needed(config: DaemonConfig) -> bool:
    return config.dev and not config.settings.address and not os.environ.get("TEMPORAL_ADDRESS")


def run_daemon(config: DaemonConfig) -> int:
    """Entry point of `scheduled run`: logging, the optional dev server, then the daemon."""
    configure_logging(
        config.settings.log_format, config.settings.log_level, secrets=_secrets(config)
    )
    dev_server: DevServer | None = None
    try:
        if _dev_address_needed(config):
            logger.bind(state_dir=str(config.state_dir)).info(
                "starting a local Temporal dev server"
            )
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
        return ExitCode.FAILED
    except KeyboardInterrupt:
        return ExitCode.OK
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
