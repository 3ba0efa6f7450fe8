"""The daemon's health: readiness, /status, metrics and systemd's STATUS=, written in one place.

Every state change goes through one method of `Health` (Temporal down, root gone, a pass done
or failed), and readiness is derived from that state in one place, so /readyz, the metrics,
/status and the status page at / can never disagree. It also serves the HTTP routes and logs
each result.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from loguru import logger

from scheduled.daemon.http_api import Response
from scheduled.daemon.metrics import DaemonMetrics
from scheduled.daemon.overview import Snapshot, overview
from scheduled.daemon.status_page import render
from scheduled.daemon.systemd import SystemdNotifier
from scheduled.format.loader import LoadResult
from scheduled.model.observed import Revision
from scheduled.reconcile.apply import ApplyReport, OperationResult, Outcome
from scheduled.reconcile.gateway import GatewayError

_ATTENTION = (Outcome.FAILED, Outcome.CONFLICT, Outcome.BLOCKED)
RECENT_PASSES = 10  # kept for /status and the status page


@dataclass(slots=True)
class DaemonStatus:
    """What /status, /readyz and the metrics report. Written only by `Health`."""

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
    recent_passes: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=RECENT_PASSES)
    )

    def not_ready_reason(self) -> str:
        if self.ready:
            return ""
        return self.degraded or (
            "first full reconcile not done" if not self.first_full_done else "Temporal unreachable"
        )

    def to_json(self, watcher_mode: str) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "not_ready_reason": self.not_ready_reason() or None,
            "temporal_up": self.temporal_up,
            "degraded": self.degraded or None,
            "activity": self.activity,
            "revision": self.revision.name or None,
            "watcher_mode": watcher_mode,
            "managed_schedules": self.managed,
            "invalid_files": self.invalid,
            "last_reconcile": self.last_pass or None,
            "recent_passes": list(self.recent_passes),  # oldest first; failed ones have "error"
            "uptime_s": round(time.time() - self.started_at, 1),
        }


class Health:
    """The daemon's state as others see it. Each transition updates status and metrics."""

    def __init__(self, root: Path, notifier: SystemdNotifier, *, project: str = "") -> None:
        self.root = root
        self.project = project
        self.notifier = notifier
        self.status = DaemonStatus()
        self.snapshot: Snapshot | None = None  # the schedules as the last pass left them
        self.metrics = DaemonMetrics()
        self.watcher_mode: Callable[[], str] = lambda: "starting"
        self.root_is_gone = False  # the watcher said the root vanished: nothing is decided

    # -- transitions ---------------------------------------------------------------------

    def activity(self, text: str) -> None:
        self.status.activity = text
        self.notifier.status(text)

    def temporal_down(self, error: GatewayError) -> None:
        if self.status.temporal_up or self.status.activity.startswith("reconciling"):
            logger.bind(error=str(error)).error("Temporal is unreachable; retrying with backoff")
        self.status.temporal_up = False
        self.metrics.temporal_up.set(0)
        self._refresh_ready()

    def temporal_back(self) -> None:
        if not self.status.temporal_up:
            logger.info("Temporal answers again")
        self.status.temporal_up = True
        self.metrics.temporal_up.set(1)
        self._refresh_ready()

    def root_gone(self, reason: str) -> None:
        self.root_is_gone = True
        self.status.degraded = f"root missing: {reason}"
        self.metrics.set_watcher_mode("stopped")
        logger.bind(reason=reason).error(
            "the tree is gone or unreadable: nothing is deleted; waiting for it to return"
        )
        self.activity("waiting for the tree to return")
        self._refresh_ready()

    def root_back(self) -> None:
        self.root_is_gone = False
        # Not ready yet: readiness returns with the full pass that follows.
        if self.status.degraded.startswith("root"):
            self.status.degraded = ""

    def root_unreadable(self, problem: str) -> None:
        # Never read as "every file was deleted": decide nothing, retry with backoff (the
        # watcher also reports the root's loss and return).
        self.status.degraded = f"root unreadable: {problem}"
        logger.bind(reason=problem).error("cannot read the tree; nothing is deleted")
        self._refresh_ready()

    def revision_seen(self, revision: Revision, problem: str = "") -> None:
        if revision != self.status.revision or (problem and not self.status.first_full_done):
            logger.bind(revision=revision.name or "(none)").info("applying revision")
            if problem:
                logger.bind(root=str(self.root)).warning(problem)
        self.status.revision = revision

    def tree_loaded(self, load: LoadResult, scope: frozenset[str] | None) -> None:
        """Per-file errors of the tree; logged for the files this pass looked at."""
        if self.status.degraded.startswith("root unreadable"):
            self.status.degraded = ""
        invalid: dict[str, list[str]] = {}
        for result in load.files:
            if result.valid:
                continue
            invalid[result.relative] = [d.render() for d in result.diagnostics if d.is_error]
            if scope is None or result.relative in scope:
                for diagnostic in result.diagnostics:
                    if diagnostic.is_error:
                        logger.bind(
                            file=diagnostic.file, line=diagnostic.line, code=diagnostic.code
                        ).error(
                            "{}: its schedule is kept as it is until the file is fixed",
                            diagnostic.render(),
                        )
        self.status.invalid = invalid
        self.metrics.invalid_files.set(len(invalid))

    def pass_failed(self, failure: BaseException) -> None:
        self.status.degraded = self.status.degraded or f"last pass failed: {failure}"
        self.status.recent_passes.append(
            {"finished_at": datetime.now(UTC).isoformat(), "error": str(failure) or repr(failure)}
        )
        logger.opt(exception=failure).bind(error=str(failure)).error(
            "the reconcile pass failed; retrying with backoff"
        )
        self._refresh_ready()

    def pass_done(
        self,
        *,
        kind: str,
        files: int,
        report: ApplyReport,
        managed: int,
        duration_s: float,
        snapshot: Snapshot | None = None,
        held: int = 0,
    ) -> None:
        """`snapshot`: the schedules as this pass left them, for the status page; `held`: the
        deletions the pass holds for a second look (not converged until that look is taken)."""
        self.status.temporal_up = True
        self.metrics.temporal_up.set(1)
        counts = {name: count for name, count in report.counts().items() if count}
        self.status.managed = managed
        self.status.last_pass = {
            "kind": kind,
            "finished_at": datetime.now(UTC).isoformat(),
            "duration_s": round(duration_s, 3),
            "files": files,
            "converged": report.converged and not held,
            "counts": counts,
            "held_for_a_second_look": held,
            "failures": [
                {
                    "schedule_id": result.schedule_id,
                    "file": result.source,
                    "outcome": str(result.outcome),
                    "reason": result.reason,
                }
                for result in report.results
                if result.outcome in _ATTENTION
            ],
        }
        self.status.recent_passes.append(self.status.last_pass)
        if snapshot is not None:
            self.snapshot = snapshot
        self.metrics.record_pass(kind, report, managed, time.time(), duration_s)
        if kind == "full" and not self.status.first_full_done:
            self.status.first_full_done = True
            self.notifier.ready(f"watching {self.root}: {managed} schedules")
        if not self.root_is_gone:
            self.status.degraded = ""
        self._refresh_ready()
        self.metrics.set_watcher_mode(self.watcher_mode())
        summary = ", ".join(f"{count} {name}" for name, count in counts.items()) or "nothing"
        logger.bind(
            kind=kind,
            duration_ms=round(duration_s * 1000, 1),
            revision=self.status.revision.name or None,
        ).info("reconciled: {}", summary)
        self.activity(
            f"watching {self.root}: {managed} schedules, "
            f"{len(self.status.invalid)} invalid files, last pass {summary}"
        )

    def _refresh_ready(self) -> None:
        """The one place readiness is written: ready once the first full pass converged
        enough to report, while Temporal answers and nothing is degraded."""
        self.status.ready = (
            self.status.first_full_done and self.status.temporal_up and not self.status.degraded
        )
        self.metrics.ready.set(1 if self.status.ready else 0)

    # -- HTTP ----------------------------------------------------------------------------

    def route(self, path: str) -> Response:
        if path == "/healthz":
            return Response(200, b"ok\n")
        if path == "/readyz":
            if self.status.ready:
                return Response(200, b"ready\n")
            return Response(503, f"not ready: {self.status.not_ready_reason()}\n".encode())
        if path == "/metrics":
            self.metrics.set_watcher_mode(self.watcher_mode())
            return Response(
                200, self.metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8"
            )
        if path == "/status":
            body = json.dumps(self.status.to_json(self.watcher_mode()), indent=2).encode()
            return Response(200, body + b"\n", "application/json")
        if path in ("/", "/index.html"):
            # The state is read here, on the event loop; the page is built from it in a thread.
            status = self.status.to_json(self.watcher_mode())
            page = partial(self._page, status, self.snapshot, datetime.now(UTC))
            return Response(200, b"", "text/html; charset=utf-8", deferred=page)
        return Response(404, b"not found: try /, /healthz, /readyz, /metrics or /status\n")

    def _page(self, status: Mapping[str, Any], snapshot: Snapshot | None, now: datetime) -> bytes:
        """The status page: /status and the last pass's schedules, in words."""
        project = self.project or (snapshot.context.project if snapshot else "")
        made = overview(status, snapshot, project=project, root=str(self.root), now=now)
        return render(made).encode()


def log_result(result: OperationResult) -> None:
    """One line per operation, with the fields an operator greps for."""
    bound = logger.bind(
        schedule_id=result.schedule_id,
        workflow_id=result.workflow_id,
        file=result.source,
        outcome=str(result.outcome),
        duration_ms=round(result.duration_s * 1000, 1),
    )
    if result.outcome is Outcome.UNCHANGED:
        bound.debug("unchanged")
    elif result.outcome in _ATTENTION:
        bound.error("{}: {}", result.outcome, result.reason)
    else:
        bound.info("{}{}", result.outcome, f": {result.reason}" if result.reason else "")
