"""Health: readiness, /status and the metrics change together, in one place, for each transition."""

from __future__ import annotations

import json
from pathlib import Path

from test_plan import PROJECT, desired, observed

from scheduled.daemon.health import Health
from scheduled.daemon.overview import Snapshot
from scheduled.daemon.systemd import SystemdNotifier
from scheduled.reconcile.apply import ApplyReport
from scheduled.reconcile.gateway import TransientGatewayError
from scheduled.reconcile.plan import PassContext


class QuietNotifier(SystemdNotifier):
    def __init__(self) -> None:
        super().__init__(socket_path="")
        self.sent: list[tuple[str, ...]] = []

    def notify(self, *lines: str) -> None:
        self.sent.append(lines)


def healthy() -> Health:
    health = Health(Path("/srv/tree"), QuietNotifier())
    report = ApplyReport(results=(), elapsed_s=0.0)
    health.pass_done(kind="full", files=3, report=report, managed=3, duration_s=0.1)
    return health


def ready_gauge(health: Health) -> float:
    for line in health.route("/metrics").body.decode().splitlines():
        if line.startswith("scheduled_ready "):
            return float(line.split()[1])
    raise AssertionError("no scheduled_ready in /metrics")


def test_not_ready_before_the_first_full_pass() -> None:
    health = Health(Path("/srv/tree"), QuietNotifier())
    response = health.route("/readyz")
    assert (response.status, response.body) == (503, b"not ready: first full reconcile not done\n")


def test_the_first_full_pass_makes_it_ready_everywhere_at_once() -> None:
    health = healthy()
    assert health.route("/readyz").status == 200
    assert ready_gauge(health) == 1
    assert json.loads(health.route("/status").body)["ready"] is True
    assert isinstance(health.notifier, QuietNotifier)
    assert any("READY=1" in message for message in health.notifier.sent)


def test_temporal_down_turns_readiness_off_until_a_pass_succeeds() -> None:
    health = healthy()
    health.temporal_down(TransientGatewayError("down", status="UNAVAILABLE"))
    assert (health.route("/readyz").status, ready_gauge(health)) == (503, 0)
    assert health.route("/readyz").body == b"not ready: Temporal unreachable\n"


def test_a_vanished_root_is_not_ready_and_its_return_waits_for_the_next_pass() -> None:
    health = healthy()
    health.root_gone("unmounted")
    assert health.route("/readyz").body == b"not ready: root missing: unmounted\n"
    health.root_back()
    assert health.status.degraded == "" and health.route("/readyz").status == 503
    report = ApplyReport(results=(), elapsed_s=0.0)
    health.pass_done(kind="full", files=3, report=report, managed=3, duration_s=0.1)
    assert health.route("/readyz").status == 200


def test_a_failed_pass_says_why_it_is_not_ready() -> None:
    health = healthy()
    health.pass_failed(RuntimeError("boom"))
    assert health.route("/readyz").body == b"not ready: last pass failed: boom\n"


def test_an_unknown_path_names_the_known_ones() -> None:
    assert b"/healthz" in healthy().route("/nope").body


def test_the_status_page_is_served_at_the_root_from_the_last_snapshot() -> None:
    nightly = desired("nightly", source="ops/nightly.yaml")
    health = Health(Path("/srv/tree"), QuietNotifier(), project=PROJECT)
    report = ApplyReport(results=(), elapsed_s=0.0)
    snapshot = Snapshot(
        context=PassContext(project=PROJECT), observed=(observed(nightly),), desired=(nightly,)
    )
    health.pass_done(
        kind="full", files=1, report=report, managed=1, duration_s=0.1, snapshot=snapshot
    )
    response = health.route("/")
    assert (response.status, response.content_type) == (200, "text/html; charset=utf-8")
    html = response.content().decode()
    assert f"scheduled · {PROJECT}</title>" in html and "ops/nightly.yaml" in html
    assert '<span class="state ok">Ready</span>' in html


def test_status_keeps_the_last_ten_passes_failed_ones_included() -> None:
    health = healthy()
    report = ApplyReport(results=(), elapsed_s=0.0)
    for _ in range(12):
        health.pass_done(kind="changed", files=1, report=report, managed=3, duration_s=0.1)
    health.pass_failed(RuntimeError("boom"))
    status = json.loads(health.route("/status").body)
    assert len(status["recent_passes"]) == 10
    assert status["recent_passes"][-1]["error"] == "boom"
    assert status["recent_passes"][0]["kind"] == "changed"
    assert status["not_ready_reason"] == "last pass failed: boom"
