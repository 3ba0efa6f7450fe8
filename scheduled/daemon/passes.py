"""The daemon's passes: which pass to run, and what it remembers from one pass to the next.

The sequence itself is `reconcile.phases.reconcile_pass`, the same one `plan` and `apply` run.
What is the daemon's own: the parameters (a full list, or describing what a changed set of
files can touch over the inventory; when to verify every schedule deeply), the state between
passes (the inventory, the last load, the file cache, recent deletions, held files), and a pass
that can neither take the process down nor outlive a stop.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial

import anyio
from loguru import logger

from scheduled.daemon.config import STOP_BACKSTOP_S, STOP_GRACE_S, DaemonConfig
from scheduled.daemon.health import Health, log_result
from scheduled.daemon.overview import Snapshot
from scheduled.daemon.triggers import Pending, RecentDeletions, files_under, loop_is_alive
from scheduled.daemon.vanished import HeldFiles, held_sources
from scheduled.errors import ScheduledError
from scheduled.format.loader import FileCache, FileResult, LoadResult, load_tree
from scheduled.format.revision import newer_by_ancestry, revision_problem, tree_revision
from scheduled.reconcile.apply import ApplyOptions, OperationResult, Outcome
from scheduled.reconcile.gateway import GatewayError, ScheduleGateway
from scheduled.reconcile.inventory import (
    Inventory,
    after_writes,
    files_known_after,
    files_sharing_ids,
    named_ids,
)
from scheduled.reconcile.phases import (
    DescribeChanged,
    ListAll,
    Observer,
    PassResult,
    reconcile_pass,
)
from scheduled.reconcile.plan import Plan, PlanOptions
from scheduled.settings import Settings, load_options, pass_options

GatewayFactory = Callable[[], Awaitable[ScheduleGateway]]


class PassOutcome(StrEnum):
    CONVERGED = "converged"  # nothing failed: the pending work is done
    RETRY = "retry"  # something failed: a full pass after a backoff
    STOPPED = "stopped"  # cancelled by a stop request


class TreeUnreadableError(ScheduledError):
    """The root is missing or unreadable, which proves nothing: the pass decides nothing."""


class PassRunner:
    """Runs the daemon's passes and keeps what one pass hands to the next."""

    def __init__(
        self,
        config: DaemonConfig,
        project: str,
        health: Health,
        gateway_factory: GatewayFactory,
        *,
        look_again: Callable[[frozenset[str]], None],
    ) -> None:
        self.config = config
        self.project = project
        self.health = health
        self._gateway_factory = gateway_factory
        self._look_again = look_again  # a quiet period on, a held file is looked at again
        self.gateway: ScheduleGateway | None = None  # connected by the first pass
        self._cache = FileCache()
        # Files the watcher reported since they were last read: every pass reads them afresh,
        # full ones too (a tool that keeps mtime and size would fool the cache's signature).
        self._unread: set[str] = set()
        self._inventory: Inventory | None = None  # None until a full pass listed everything
        self._last_load: LoadResult | None = None
        # Each file as last read, kept for a file that has gone until a pass had it in its
        # changed set: a pass may read the tree after a deletion that only the next pass's
        # changed set holds, and that pass must still know the id the file named (so the
        # other file of a duplicate is planned at once).
        self._named: dict[str, FileResult] = {}
        self._deletions = RecentDeletions(config.settings.resync_interval_s)
        self._held = HeldFiles(config.root)
        self._next_verify = 0.0  # monotonic; the first full pass verifies
        self._scope: anyio.CancelScope | None = None  # of the pass in progress
        self._applying = False  # the pass in progress is writing (a stop gives it a grace)
        self._busy_since: float | None = None  # when the pass in progress started
        self._progress_at = time.monotonic()  # the pass's last sign of progress
        self.passes = 0

    # -- what the loop tells it ------------------------------------------------------------

    def files_changed(self, paths: frozenset[str]) -> None:
        self._unread |= paths

    def forget_signatures(self) -> None:
        """A new checkout or a reload: cached file signatures (inode, mtime) mean nothing."""
        self._cache = FileCache()

    async def scope_of(self, pending: Pending) -> frozenset[str] | None:
        """The changed files of a pass, or None for a full pass: folders are expanded into
        the workflow files they hold (a walk, so in a worker thread)."""
        if pending.full:
            return None
        files = pending.files
        if pending.folders:
            inside = await anyio.to_thread.run_sync(
                files_under, self.config.root, pending.folders, list(self._named)
            )
            if inside is None:
                return None
            files |= inside
        return files_sharing_ids(files, self._named.values())

    def stop(self) -> None:
        """A graceful stop: writes in flight get their grace (apply_plan cancels its own
        stragglers), then a backstop; a list or describe is abandoned at once."""
        scope = self._scope
        if scope is None:
            return
        if self._applying:
            scope.deadline = min(scope.deadline, anyio.current_time() + STOP_BACKSTOP_S)
        else:
            scope.cancel()

    def alive(self, stall_s: float) -> bool:
        """For the watchdog: idle, or a pass that showed progress within `stall_s`."""
        return loop_is_alive(self._busy_since, self._progress_at, time.monotonic(), stall_s)

    # -- a pass ----------------------------------------------------------------------------

    async def run(
        self, scope: frozenset[str] | None, settings: Settings, stop: anyio.Event
    ) -> PassOutcome:
        """One pass that cannot take the daemon down: a failure is reported and retried."""
        with anyio.CancelScope() as pass_scope:
            self._scope = pass_scope
            self._busy_since = self._progress_at = time.monotonic()
            failure: BaseException | None = None
            try:
                return await self._pass(scope, settings, stop)
            except ExceptionGroup as group:  # from a task group inside one of the phases
                failure = group.exceptions[0] if len(group.exceptions) == 1 else group
            except Exception as error:
                # Expected failures are ScheduledError and OSError; anything else is a bug,
                # logged with its traceback, and the pass is retried with backoff rather
                # than taking the process (and every other file's schedule) down.
                failure = error
            finally:
                self._scope = None
                self._busy_since = None
                self._applying = False
            self.health.pass_failed(failure)
            return PassOutcome.RETRY
        return PassOutcome.STOPPED

    async def _pass(
        self, scope: frozenset[str] | None, settings: Settings, stop: anyio.Event
    ) -> PassOutcome:
        kind = "full" if scope is None else "changed"
        started = time.monotonic()
        self.health.activity(f"reconciling ({kind})")
        confirmed = await anyio.to_thread.run_sync(self._held.unchanged)
        plan_options, apply_options = await self._options(settings, confirmed)
        verify = scope is None and time.monotonic() >= self._next_verify
        try:
            if self.gateway is None:
                self.gateway = await self._gateway_factory()
            result = await reconcile_pass(
                self._tree_loader(scope, settings),
                self.gateway,
                plan_options,
                apply=apply_options,
                observer=self._observer(scope, settings, verify=verify),
                scope=scope,
                scope_ids=named_ids(scope, self.project, self._named.values())
                if scope is not None
                else frozenset(),
                order_revisions=partial(
                    newer_by_ancestry, self.config.root, plan_options.context.revision.name
                ),
                stop=stop,
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
        if verify:
            self._next_verify = time.monotonic() + settings.verify_interval_s
        await self._remember(result, confirmed, scope)
        assert result.report is not None, "the daemon's passes apply"
        self.health.pass_done(
            kind=kind,
            files=len(result.load.files) if scope is None else len(scope),
            report=result.report,
            managed=self._inventory.managed(self.project) if self._inventory else 0,
            duration_s=time.monotonic() - started,
            snapshot=self._snapshot(result),
            held=len(held_sources(result.plan)),
        )
        failed = any(r.outcome is Outcome.FAILED for r in result.report.results)
        return PassOutcome.RETRY if failed else PassOutcome.CONVERGED

    async def _options(
        self, settings: Settings, confirmed: frozenset[str]
    ) -> tuple[PlanOptions, ApplyOptions]:
        revision = await anyio.to_thread.run_sync(tree_revision, self.config.root)
        self.health.revision_seen(revision, revision_problem(self.config.root, revision))
        plan_options, apply_options = pass_options(
            settings,
            project=self.project,
            revision=revision,
            allow_mass_delete=self.config.allow_mass_delete,
            grace_s=STOP_GRACE_S,
        )
        plan_options = replace(
            plan_options,
            recently_deleted=self._deletions.total(time.monotonic()),
            hold_vanished_blocks=True,
            confirmed_vanished=confirmed,
        )
        return plan_options, apply_options

    def _snapshot(self, result: PassResult) -> Snapshot:
        """What the status page shows of the schedules: the inventory and the last load."""
        schedules = self._inventory.schedules.values() if self._inventory else ()
        return Snapshot(
            context=result.plan.context,
            observed=tuple(item for item in schedules if item.owner == self.project),
            desired=tuple(result.load.desired.values()),
            invalid_files=result.load.invalid_files,
        )

    async def _remember(
        self, result: PassResult, confirmed: frozenset[str], scope: frozenset[str] | None
    ) -> None:
        """Fold what the pass saw and did into the state the next pass starts from."""
        assert result.report is not None, "the daemon's passes apply"
        if result.journal_error:
            logger.bind(error=result.journal_error).warning("journal of recent writes not updated")
        self._last_load = result.load
        self._named = files_known_after(self._named, result.load.files, scope)
        self._inventory = after_writes(Inventory.of(result.observed), result.plan, result.report)
        self.passes += 1
        self._deletions.add(time.monotonic(), result.report.counts()[Outcome.DELETED])
        again = await anyio.to_thread.run_sync(self._held.after_pass, result.plan, confirmed)
        if again:
            self._look_again(again)

    def _tree_loader(
        self, scope: frozenset[str] | None, settings: Settings
    ) -> Callable[[], LoadResult]:
        options = replace(load_options(settings, self.config.root), project=self.project)
        cache, fresh = self._cache, frozenset(self._unread) | (scope or frozenset())

        def load() -> LoadResult:
            loaded = load_tree(
                self.config.root, options, now=datetime.now(UTC), cache=cache, fresh=fresh
            )
            if not loaded.readable:
                raise TreeUnreadableError(loaded.root_problem)
            return loaded

        return load

    def _observer(
        self, scope: frozenset[str] | None, settings: Settings, *, verify: bool
    ) -> Observer:
        if scope is None or self._inventory is None:
            return ListAll(
                verify=verify, concurrency=settings.concurrency, rate_limit=settings.rate_limit
            )
        previous = self._last_load.files if self._last_load is not None else ()
        return DescribeChanged(
            files=scope,
            inventory=self._inventory,
            previous=previous,
            concurrency=settings.concurrency,
        )

    # -- signs of progress (the watchdog) --------------------------------------------------

    def _tree_loaded(self, scope: frozenset[str] | None, load: LoadResult) -> None:
        self._progress_at = time.monotonic()
        # A file the globs leave out is never read, so it is done with as well.
        self._unread -= {result.relative for result in load.files} | load.excluded
        self.health.tree_loaded(load, scope)

    def _result(self, result: OperationResult) -> None:
        self._progress_at = time.monotonic()
        log_result(result)

    def _applying_plan(self, plan: Plan) -> None:
        self._progress_at = time.monotonic()
        if plan.guard_message:
            logger.bind(reason=plan.guard_message).warning("deletions refused by the prune guard")
        self._applying = True
