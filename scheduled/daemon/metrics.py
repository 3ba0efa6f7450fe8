"""Prometheus metrics of one daemon, in a registry of its own (tests run several daemons)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from scheduled.reconcile.apply import ApplyReport


class DaemonMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconcile_duration = Histogram(
            "scheduled_reconcile_duration_seconds",
            "Duration of reconcile passes, by kind (full or changed).",
            ["kind"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.operations = Counter(
            "scheduled_operations_total",
            "Schedule operations by outcome (created, updated, deleted, failed, ...).",
            ["outcome"],
            registry=self.registry,
        )
        self.managed = Gauge(
            "scheduled_managed_schedules",
            "Schedules managed by this project.",
            registry=self.registry,
        )
        self.invalid_files = Gauge(
            "scheduled_invalid_files",
            "Workflow files that fail validation.",
            registry=self.registry,
        )
        self.watcher_mode = Gauge(
            "scheduled_watcher_mode",
            "1 for the file watcher mode in use.",
            ["mode"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "scheduled_last_success_timestamp_seconds",
            "Unix time of the last reconcile pass that converged.",
            registry=self.registry,
        )
        self.ready = Gauge("scheduled_ready", "1 when ready (see /readyz).", registry=self.registry)
        self.temporal_up = Gauge(
            "scheduled_temporal_up",
            "1 when the last call to Temporal succeeded.",
            registry=self.registry,
        )

    def record_pass(
        self, kind: str, report: ApplyReport, managed: int, now: float, duration_s: float
    ) -> None:
        """One finished pass: load, observe, plan and apply took duration_s in all."""
        self.reconcile_duration.labels(kind).observe(duration_s)
        for outcome, count in report.counts().items():
            if count and outcome != "unchanged":
                self.operations.labels(outcome).inc(count)
        self.managed.set(managed)
        if report.converged:
            self.last_success.set(now)

    def set_watcher_mode(self, mode: str) -> None:
        for known in ("inotify", "polling", "stopped"):
            self.watcher_mode.labels(known).set(1 if known == mode else 0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
