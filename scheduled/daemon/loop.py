"""The reconcile loop: turns the daemon's messages into passes.

Changes are debounced (a quiet period, bounded by `max_wait_ms`), everything already queued
goes into one pass, trouble is followed by a full pass after a backoff, a full resync comes
every `resync_interval_s`, and SIGHUP reloads the config. What to do with each message is
`triggers.py`'s pure state; running a pass is `passes.py`'s.
"""

from __future__ import annotations

import math
import time

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream
from loguru import logger

from scheduled.daemon.config import DaemonConfig, secrets_of
from scheduled.daemon.health import Health
from scheduled.daemon.passes import PassOutcome, PassRunner
from scheduled.daemon.systemd import SystemdNotifier
from scheduled.daemon.triggers import (
    NOTHING,
    Backoff,
    Effect,
    Message,
    Pending,
    QuietPeriod,
    absorb,
)
from scheduled.daemon.watcher import FilesChanged, RescanNeeded, TreeReplaced
from scheduled.logs import configure_logging
from scheduled.settings import ConfigError


class ReconcileLoop:
    """Waits for work, runs one pass for all of it, and decides when the next one is due."""

    def __init__(
        self,
        config: DaemonConfig,
        project: str,
        runner: PassRunner,
        health: Health,
        notifier: SystemdNotifier,
    ) -> None:
        self.config = config
        self.project = project
        self.settings = config.settings  # replaced by a reload
        self.runner = runner
        self.health = health
        self.notifier = notifier
        self._reloading = False  # RELOADING=1 was sent; READY=1 follows the next full pass

    async def run(self, receive: MemoryObjectReceiveStream[Message], stop: anyio.Event) -> None:
        pending = Pending(full=True)
        backoff = Backoff()
        next_full = math.inf
        while not stop.is_set():
            if pending.empty:
                with anyio.move_on_after(max(0.0, next_full - time.monotonic())) as waited:
                    message = await receive.receive()
                if waited.cancelled_caught:
                    pending = Pending(full=True)
                    logger.debug("periodic full resync")
                else:
                    pending = self._absorb(pending, message)
                    if isinstance(message, FilesChanged):
                        pending = await self._until_quiet(receive, pending, stop)
            pending = self._absorb_queued(receive, pending)
            if stop.is_set():
                break
            if self.health.root_is_gone:
                # Nothing is decided while the tree is gone; TreeReplaced asks for a full pass.
                pending = NOTHING
                self._finish_reload()
                continue
            if pending.empty:  # a message that asks for no pass (the probe saw Temporal back)
                continue
            scope = await self.runner.scope_of(pending)
            outcome = await self.runner.run(scope, self.settings, stop)
            if scope is None:
                self._finish_reload()
            if outcome is PassOutcome.STOPPED:
                break
            if outcome is PassOutcome.CONVERGED:
                backoff.reset()
                if scope is None:
                    next_full = time.monotonic() + self.settings.resync_interval_s
                pending = NOTHING
                continue
            delay = backoff.next_delay()
            pending = Pending(full=True)  # after trouble, trust nothing partial
            self.health.activity(
                f"retrying in {delay:.0f} s ({self.health.status.degraded or 'see the log'})"
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
        self, receive: MemoryObjectReceiveStream[Message], pending: Pending, stop: anyio.Event
    ) -> Pending:
        quiet = QuietPeriod.starting(
            time.monotonic(),
            debounce_ms=self.settings.debounce_ms,
            max_wait_ms=self.settings.max_wait_ms,
        )
        while not stop.is_set():
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
            self.runner.files_changed(message.paths)
        pending, effect = absorb(pending, message, root_gone=self.health.root_is_gone)
        if effect is Effect.RELOAD:
            self._reload()
        elif effect is Effect.ROOT_GONE:
            self.health.root_gone(getattr(message, "reason", ""))
        elif effect in (Effect.ROOT_BACK, Effect.ROOT_REPLACED):
            assert isinstance(message, TreeReplaced)
            what = "is back" if effect is Effect.ROOT_BACK else "was replaced"
            logger.bind(target=message.target).info(f"the tree {what}: full rescan")
            self.health.root_back()
            self.runner.forget_signatures()  # a new checkout: inode numbers mean nothing now
        elif effect is Effect.RESCAN:
            assert isinstance(message, RescanNeeded)
            logger.bind(reason=message.reason).info("full rescan")
        return pending

    def _finish_reload(self) -> None:
        """After RELOADING=1, systemd waits for READY=1: sent once the reload's pass is over."""
        if self._reloading:
            self._reloading = False
            self.notifier.ready(self.health.status.activity)

    def _reload(self) -> None:
        self._reloading = True
        self.notifier.reloading()
        self.runner.forget_signatures()
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
                settings.log_format, settings.log_level, secrets=secrets_of(self.config, settings)
            )
        if settings.project not in (None, self.project):
            logger.bind(project=settings.project).warning(
                "the project cannot change while the daemon runs; restart it to switch"
            )
        logger.info("config reloaded")
