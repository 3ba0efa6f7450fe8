"""The daemon service: its lifecycle.

One root task group owns everything: the signal receiver, the HTTP endpoints, the tree watcher,
the Temporal health probe, the watchdog pinger and the reconcile loop. The first SIGTERM/SIGINT
asks for a graceful stop (no new Temporal calls, in-flight ones get a grace period), a second
one cancels at once; SIGHUP reloads the config and runs a full resync.

The parts: `loop.py` turns messages into passes, `passes.py` runs one pass and keeps the state
between passes, `triggers.py` is the pure state of what to do next, `health.py` is what others
see of the daemon.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectSendStream
from loguru import logger

from scheduled.daemon.config import WATCH_STEP_MS, DaemonConfig
from scheduled.daemon.health import DaemonStatus, Health
from scheduled.daemon.http_api import serve_http
from scheduled.daemon.loop import ReconcileLoop
from scheduled.daemon.passes import GatewayFactory, PassRunner
from scheduled.daemon.systemd import SystemdNotifier, watchdog_interval_s
from scheduled.daemon.triggers import Message, ReloadRequested, StopRequested, TemporalReachable
from scheduled.daemon.watcher import FilesChanged, TreeWatcher, Trigger
from scheduled.exit_codes import ExitCode
from scheduled.reconcile.gateway import GatewayError, TransientGatewayError
from scheduled.settings import Settings, project_name
from scheduled.signals import receive_stop_signals
from scheduled.temporal.gateway import TemporalGateway

# How often Temporal is asked whether it answers, so /readyz turns 503 within a few seconds of
# it going away even while no change waits (a pass would only notice at its next call).
HEALTH_PROBE_S = 2.0

WatcherFactory = Callable[[Path, MemoryObjectSendStream[Trigger]], TreeWatcher]


class Daemon:
    """The long-running service: keeps Temporal's schedules in step with a watched tree.

    It owns the root task group and every task in it; what a pass does is `PassRunner`'s,
    when passes run is `ReconcileLoop`'s, and reporting is `Health`'s."""

    def __init__(
        self,
        config: DaemonConfig,
        *,
        gateway_factory: GatewayFactory | None = None,
        notifier: SystemdNotifier | None = None,
        watcher_factory: WatcherFactory | None = None,
    ) -> None:
        self.config = config
        self.project = project_name(config.settings, config.root)
        self.notifier = notifier or SystemdNotifier()
        self.health = Health(config.root, self.notifier, project=self.project)
        self.health.watcher_mode = self.watcher_mode
        self.runner = PassRunner(
            config,
            self.project,
            self.health,
            gateway_factory or (lambda: TemporalGateway.connect(config.connection)),
            look_again=self._look_again,
        )
        self.loop = ReconcileLoop(config, self.project, self.runner, self.health, self.notifier)
        self._watcher_factory = watcher_factory or self._default_watcher
        self._group: anyio.abc.TaskGroup | None = None
        self._stop = anyio.Event()
        self._wake: MemoryObjectSendStream[Message] | None = None
        self.watcher: TreeWatcher | None = None
        self.http_port: int | None = None

    @property
    def status(self) -> DaemonStatus:
        return self.health.status

    @property
    def settings(self) -> Settings:
        return self.loop.settings

    @property
    def passes(self) -> int:
        return self.runner.passes

    def watcher_mode(self) -> str:
        return self.watcher.state.mode if self.watcher else "starting"

    def _default_watcher(self, root: Path, send: MemoryObjectSendStream[Trigger]) -> TreeWatcher:
        step = min(WATCH_STEP_MS, self.settings.debounce_ms or WATCH_STEP_MS)
        return TreeWatcher(root, send, step_ms=step, max_wait_ms=self.settings.max_wait_ms)

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
                await self.loop.run(receive, self._stop)
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
        self.runner.stop()
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
            gateway = self.runner.gateway
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
            if self.runner.alive(stall_s):
                self.notifier.watchdog()
            await anyio.sleep(interval)

    def _look_again(self, names: frozenset[str]) -> None:
        """A quiet period from now, report held files as changed: a second look."""
        if self._group is None or self._wake is None:
            return
        wake = self._wake

        async def later() -> None:
            await anyio.sleep(max(self.settings.debounce_ms, WATCH_STEP_MS) / 1000)
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await wake.send(FilesChanged(names))

        self._group.start_soon(later)
