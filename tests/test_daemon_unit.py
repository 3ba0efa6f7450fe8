"""The Daemon in-process, with the in-memory FakeGateway and real files watched for real.

Each test runs `Daemon.serve` in a task group, changes the tree or the gateway, waits for the
outcome by polling, and asserts what the fake Temporal holds and what the daemon reports.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
import watchfiles
from daemon_helpers import http_get
from fakes import FakeGateway
from loguru import logger
from trees import workflow_yaml, write_workflow

from scheduled.daemon.config import STOP_GRACE_S, DaemonConfig
from scheduled.daemon.service import Daemon
from scheduled.daemon.systemd import SystemdNotifier
from scheduled.daemon.watcher import TreeWatcher
from scheduled.errors import ScheduledError
from scheduled.model.desired import schedule_id_for
from scheduled.reconcile.gateway import ScheduleGateway, TransientGatewayError
from scheduled.settings import ConfigError, Settings
from scheduled.temporal.connection import Connection

PROJECT = "unit"
NAMES = ("alpha", "beta", "gamma", "delta")


def sid(workflow_id: str) -> str:
    return schedule_id_for(PROJECT, workflow_id)


class RecordingNotifier(SystemdNotifier):
    """sd_notify without a socket: keeps every message."""

    def __init__(self) -> None:
        super().__init__(socket_path="")
        self.sent: list[tuple[str, ...]] = []

    def notify(self, *lines: str) -> None:
        self.sent.append(lines)

    def keys(self) -> list[str]:
        return [
            line.split("=", 1)[0]
            for message in self.sent
            for line in message
            if not line.startswith("STATUS=")
        ]


@pytest.fixture
def records() -> Iterator[list[dict[str, Any]]]:
    """Every loguru record emitted during the test."""
    found: list[dict[str, Any]] = []
    handler = logger.add(lambda message: found.append(message.record), level="DEBUG")
    yield found
    logger.remove(handler)


def make_tree(root: Path, names: tuple[str, ...] = NAMES, note: str = "v1") -> Path:
    for name in names:
        write_workflow(root, f"team/{name}.yaml", workflow_yaml(name, cron="0 9 * * *", note=note))
    return root


def make_daemon(
    root: Path,
    gateway: ScheduleGateway,
    *,
    notifier: SystemdNotifier | None = None,
    watcher_factory: Callable[..., TreeWatcher] | None = None,
    reload_settings: Callable[[], Settings] | None = None,
    gateway_factory: Callable[[], Awaitable[ScheduleGateway]] | None = None,
    **settings: Any,
) -> Daemon:
    values: dict[str, Any] = {
        "project": PROJECT,
        "debounce_ms": 50,
        "max_wait_ms": 500,
        "resync_interval_s": 3600.0,
    }
    values.update(settings)

    async def factory() -> ScheduleGateway:
        return gateway

    return Daemon(
        DaemonConfig(
            root=root,
            settings=Settings(**values),
            connection=Connection(),
            reload_settings=reload_settings,
        ),
        gateway_factory=gateway_factory or factory,
        notifier=notifier or RecordingNotifier(),
        watcher_factory=watcher_factory,
    )


def run_with(
    daemon: Daemon, body: Callable[[Daemon], Awaitable[None]], timeout: float = 60
) -> None:
    """Serve the daemon, run body against it, then stop it the way SIGTERM does."""

    async def main() -> None:
        with anyio.fail_after(timeout):
            async with anyio.create_task_group() as group:
                await group.start(daemon.serve)
                try:
                    await body(daemon)
                finally:
                    daemon.request_stop()

    anyio.run(main)


async def settled(daemon: Daemon, quiet_s: float = 0.5) -> None:
    """Until no pass has started for quiet_s (the watcher may still report the tree's own
    creation after the first pass): what a test needs before it counts passes."""
    while True:
        passes = daemon.passes
        await anyio.wait_all_tasks_blocked()
        await anyio.sleep(quiet_s)
        if daemon.passes == passes and not daemon.status.activity.startswith("reconciling"):
            return


async def eventually(check: Callable[[], Any], *, within: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}: last {value!r}")
        await anyio.sleep(0.02)


async def ready(daemon: Daemon) -> None:
    await eventually(lambda: daemon.status.ready, what="ready")


def note(gateway: FakeGateway, workflow_id: str) -> str | None:
    stored = gateway.stored.get(sid(workflow_id))
    return None if stored is None else stored.note


# -- passes ------------------------------------------------------------------------------------


def test_first_full_pass_creates_then_reports_ready_over_http(tmp_path: Path) -> None:
    gateway, notifier = FakeGateway(), RecordingNotifier()
    gateway.delay_s = 0.5  # the first pass is still running when /readyz is asked
    daemon = make_daemon(
        make_tree(tmp_path), gateway, notifier=notifier, http_address="127.0.0.1:0"
    )

    async def body(daemon: Daemon) -> None:
        assert daemon.http_port
        code, text = await anyio.to_thread.run_sync(http_get, daemon.http_port, "/readyz")
        assert code == 503 and text.startswith(b"not ready")
        gateway.delay_s = 0
        await ready(daemon)
        assert sorted(gateway.stored) == sorted(sid(name) for name in NAMES)
        assert notifier.keys().count("READY") == 1
        port = daemon.http_port
        code, text = await anyio.to_thread.run_sync(http_get, port, "/readyz")
        assert (code, text) == (200, b"ready\n")
        code, text = await anyio.to_thread.run_sync(http_get, port, "/status")
        status = json.loads(text)
        assert status["managed_schedules"] == 4
        assert status["last_reconcile"]["kind"] == "full"
        assert status["last_reconcile"]["counts"] == {"created": 4}
        assert status["watcher_mode"] == "inotify"
        code, text = await anyio.to_thread.run_sync(http_get, port, "/metrics")
        assert b'scheduled_operations_total{outcome="created"} 4.0' in text
        assert b"scheduled_managed_schedules 4.0" in text
        assert b'scheduled_watcher_mode{mode="inotify"} 1.0' in text
        assert b"scheduled_ready 1.0" in text
        assert (await anyio.to_thread.run_sync(http_get, port, "/nope"))[0] == 404
        assert (await anyio.to_thread.run_sync(http_get, port, "/healthz")) == (200, b"ok\n")

    run_with(daemon, body)


def test_a_changed_pass_describes_only_the_schedules_of_the_changed_files(tmp_path: Path) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    daemon = make_daemon(root, gateway)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        before = dict(gateway.calls)
        (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
        await eventually(lambda: note(gateway, "alpha") == "v2", what="the edit")
        await eventually(lambda: daemon.passes == 2, what="the pass to finish")
        assert gateway.calls["list"] == before["list"]
        assert gateway.calls["describe"] == before.get("describe", 0) + 1
        assert gateway.calls["update"] == 1
        assert daemon.status.last_pass["kind"] == "changed"
        assert daemon.status.last_pass["files"] == 1

    run_with(daemon, body)


def test_a_changed_pass_deletes_within_the_prune_guard(tmp_path: Path) -> None:
    # Regression: the inventory of the first full pass was the list taken before its creates,
    # so deleting one file of four looked like deleting every managed schedule.
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    daemon = make_daemon(root, gateway)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        (root / "team/alpha.yaml").unlink()
        await eventually(lambda: sid("alpha") not in gateway.stored, what="alpha deleted")
        # Two of the three left, at once: more than half, refused by the guard.
        (root / "team/beta.yaml").unlink()
        (root / "team/gamma.yaml").unlink()
        await eventually(
            lambda: daemon.status.last_pass.get("counts", {}).get("blocked") == 2,
            what="the blocked deletions",
        )
        assert {sid("beta"), sid("gamma"), sid("delta")} <= set(gateway.stored)
        assert gateway.calls["delete"] == 1
        assert daemon.status.last_pass["kind"] == "changed"
        assert daemon.status.managed == 3

    run_with(daemon, body)


def test_the_prune_guard_counts_deletions_across_batches_of_one_resync_interval(
    tmp_path: Path,
) -> None:
    names = tuple(f"wf-{index}" for index in range(8))
    gateway = FakeGateway()
    root = make_tree(tmp_path, names)
    daemon = make_daemon(root, gateway)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        for name in names[:4]:  # one file per batch: 4 of 8 is not more than half
            (root / f"team/{name}.yaml").unlink()
            await eventually(lambda n=name: sid(n) not in gateway.stored, what=f"{name} deleted")
        assert gateway.calls["delete"] == 4
        (root / f"team/{names[4]}.yaml").unlink()  # the fifth alone: 5 of 8 in one interval
        await eventually(
            lambda: daemon.status.last_pass.get("counts") == {"blocked": 1},
            what="the fifth deletion refused",
        )
        assert sid(names[4]) in gateway.stored and gateway.calls["delete"] == 4

    run_with(daemon, body)


def test_when_a_duplicate_id_goes_away_the_remaining_file_is_applied_at_once(
    tmp_path: Path,
) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    daemon = make_daemon(root, gateway)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        copy = root / "team/alpha-copy.yaml"
        copy.write_text(workflow_yaml("alpha", cron="0 9 * * *"))  # the same id twice
        await eventually(lambda: "team/alpha.yaml" in daemon.status.invalid, what="duplicate")
        (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
        await anyio.sleep(0.3)
        assert gateway.stored[sid("alpha")].note == "v1"  # both invalid: kept as it was
        copy.unlink()
        await eventually(
            lambda: gateway.stored[sid("alpha")].note == "v2",
            within=5,
            what="the remaining file applied",
        )
        assert daemon.status.last_pass["kind"] == "changed"

    run_with(daemon, body)


def test_a_folder_moved_as_a_whole_is_one_changed_pass(tmp_path: Path) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    write_workflow(root, "docs/README", "not a workflow")
    daemon = make_daemon(root, gateway)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        os.rename(root / "team", root / "crew")
        await eventually(
            lambda: all(
                gateway.stored[sid(name)].write.record.source == f"crew/{name}.yaml"
                for name in NAMES
            ),
            what="the new file names recorded",
        )
        await eventually(
            lambda: daemon.status.last_pass.get("counts") == {"updated": 4},
            what="the pass to finish",
        )
        assert daemon.status.last_pass["kind"] == "changed"
        assert gateway.calls["list"] == 1
        assert gateway.calls["delete"] == gateway.calls["create"] - 4 == 0

    run_with(daemon, body)


def test_the_changed_files_are_read_afresh_even_with_the_same_size_and_mtime(
    tmp_path: Path,
) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    path = root / "team/alpha.yaml"
    old = (1_600_000_000_000_000_000, 1_600_000_000_000_000_000)  # 2020: outside the racy window
    os.utime(path, ns=old)
    daemon = make_daemon(root, gateway)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        with path.open("r+", encoding="utf-8") as handle:  # same inode, same size
            handle.write(path.read_text().replace('"v1"', '"v2"'))
        os.utime(path, ns=old)
        await eventually(lambda: note(gateway, "alpha") == "v2", what="the edit read afresh")

    run_with(daemon, body)


def test_a_periodic_resync_restores_a_hand_edit(tmp_path: Path) -> None:
    gateway = FakeGateway()
    daemon = make_daemon(make_tree(tmp_path), gateway, resync_interval_s=1.0)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        gateway.stored[sid("beta")].note = "changed in the UI"
        await eventually(lambda: note(gateway, "beta") == "v1", what="the note restored")
        assert gateway.calls["list"] >= 2

    run_with(daemon, body)


# -- failures ----------------------------------------------------------------------------------


def test_temporal_down_at_start_keeps_retrying_then_converges(tmp_path: Path) -> None:
    gateway = FakeGateway()
    attempts = 0

    async def flaky() -> ScheduleGateway:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise TransientGatewayError("cannot connect", status="UNAVAILABLE")
        return gateway

    root = make_tree(tmp_path)
    daemon = make_daemon(root, gateway, gateway_factory=flaky)

    async def body(daemon: Daemon) -> None:
        await eventually(
            lambda: attempts >= 1 and daemon.status.activity.startswith("retrying"), what="a retry"
        )
        assert daemon.health.route("/readyz").status == 503
        assert not daemon.status.ready
        await ready(daemon)
        assert attempts == 3
        assert len(gateway.stored) == 4

    run_with(daemon, body)


def test_temporal_unreachable_while_idle_turns_readiness_off_and_back_on(tmp_path: Path) -> None:
    gateway = FakeGateway()
    daemon = make_daemon(make_tree(tmp_path), gateway)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        await settled(daemon)
        passes = daemon.passes
        gateway.down = True
        await eventually(lambda: daemon.health.route("/readyz").status == 503, what="503")
        assert not daemon.status.temporal_up
        gateway.down = False
        await eventually(lambda: daemon.health.route("/readyz").status == 200, what="200 again")
        assert daemon.passes == passes  # the probe, not a pass, noticed both

    run_with(daemon, body)


def test_temporal_down_during_a_changed_pass_is_retried_not_fatal(tmp_path: Path) -> None:
    # Regression: a describe failing inside the changed pass's task group escaped as an
    # ExceptionGroup and took the daemon down.
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    daemon = make_daemon(root, gateway)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        gateway.fail("describe", sid("alpha"), TransientGatewayError("down", status="UNAVAILABLE"))
        gateway.fail("list", "", TransientGatewayError("down", status="UNAVAILABLE"))
        (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
        await eventually(lambda: not daemon.status.temporal_up, what="Temporal reported down")
        assert daemon.health.route("/readyz").status == 503
        await eventually(lambda: note(gateway, "alpha") == "v2", what="the edit after recovery")
        await ready(daemon)
        assert daemon.status.temporal_up

    run_with(daemon, body)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param("list", ScheduledError("a bug in the list phase"), id="scheduled-error"),
        pytest.param("describe", OSError("disk trouble"), id="oserror-in-a-task-group"),
    ],
)
def test_an_unexpected_error_in_a_pass_is_logged_and_retried(
    tmp_path: Path, records: list[dict[str, Any]], call: str, error: Exception
) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    daemon = make_daemon(root, gateway, resync_interval_s=1.0)
    message = "the reconcile pass failed; retrying with backoff"

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        gateway.fail(call, sid("alpha") if call == "describe" else "", error)
        (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
        await eventually(lambda: any(r["message"] == message for r in records), what="the failure")
        await eventually(lambda: note(gateway, "alpha") == "v2", what="the edit")
        await ready(daemon)

    run_with(daemon, body)
    [failure] = [r for r in records if r["message"] == message]
    assert failure["exception"] is not None
    assert str(error) in failure["extra"]["error"]


def test_the_root_gone_decides_nothing_and_its_return_resumes(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path / "tree")
    daemon = make_daemon(root, gateway, resync_interval_s=1.0)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        away = tmp_path / "away"
        os.rename(root, away)
        await eventually(lambda: daemon.status.degraded.startswith("root missing"), what="gone")
        assert daemon.health.route("/readyz").status == 503
        lists = gateway.calls["list"]
        write_workflow(away, "team/alpha.yaml", workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
        resyncs = sum(1 for r in records if r["message"] == "periodic full resync")
        await eventually(  # two resync periods come while the root is gone ...
            lambda: (
                sum(1 for r in records if r["message"] == "periodic full resync") >= resyncs + 2
            ),
            what="two resync periods",
        )
        assert gateway.calls["list"] == lists  # ... and no pass ran
        os.rename(away, root)
        await eventually(lambda: note(gateway, "alpha") == "v2", what="the change made meanwhile")
        await ready(daemon)
        assert gateway.calls["delete"] == 0
        assert daemon.status.degraded == ""

    run_with(daemon, body)


# -- stopping ----------------------------------------------------------------------------------


async def serve_until_stopped(
    daemon: Daemon, stopped: anyio.Event, *, task_status: anyio.abc.TaskStatus[None]
) -> None:
    await daemon.serve(task_status=task_status)
    stopped.set()


def test_a_stop_during_a_slow_read_abandons_it_without_the_writes_grace(tmp_path: Path) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    daemon = make_daemon(root, gateway)

    async def main() -> None:
        stopped = anyio.Event()
        async with anyio.create_task_group() as group:
            await group.start(serve_until_stopped, daemon, stopped)
            await ready(daemon)
            gateway.delay_s = 3600  # Temporal hangs
            (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="1 9 * * *"))
            await eventually(lambda: gateway.in_flight == 1, what="the describe in flight")
            daemon.request_stop()
            with anyio.fail_after(STOP_GRACE_S):  # a read is not given the writes' grace
                await stopped.wait()

    anyio.run(main)
    assert ("describe", sid("alpha")) not in gateway.finished


def test_a_stop_during_apply_lets_writes_in_flight_finish(tmp_path: Path) -> None:
    gateway = FakeGateway()
    gateway.delay_s = 0.2
    names = tuple(f"wf-{index:02d}" for index in range(20))
    daemon = make_daemon(make_tree(tmp_path, names), gateway, concurrency=2)

    async def main() -> None:
        stopped = anyio.Event()
        async with anyio.create_task_group() as group:
            await group.start(serve_until_stopped, daemon, stopped)
            await eventually(lambda: len(gateway.stored) >= 4, what="creates under way")
            daemon.request_stop()
            with anyio.fail_after(STOP_GRACE_S):  # the writes in flight end, no new ones start
                await stopped.wait()

    anyio.run(main)
    assert 4 <= len(gateway.stored) < len(names)
    counts = daemon.status.last_pass["counts"]
    assert counts["created"] == len(gateway.stored)
    assert counts["created"] + counts["cancelled"] == len(names)
    assert not daemon.status.last_pass["converged"]


# -- signals and reload ------------------------------------------------------------------------


def test_sighup_reloads_the_config_and_systemd_hears_reloading_then_ready(tmp_path: Path) -> None:
    gateway, notifier = FakeGateway(), RecordingNotifier()
    root = make_tree(tmp_path, NAMES[1:])
    write_workflow(
        root, "team/alpha.yaml", workflow_yaml("alpha", task_queue=None, cron="0 9 * * *")
    )
    reloads: list[Settings | ConfigError] = [
        Settings(project=PROJECT, default_task_queue="queue-two", debounce_ms=50),
        ConfigError("scheduled.toml: unknown setting(s) nope"),
    ]

    def reload_settings() -> Settings:
        answer = reloads.pop(0)
        if isinstance(answer, ConfigError):
            raise answer
        return answer

    daemon = make_daemon(
        root,
        gateway,
        notifier=notifier,
        reload_settings=reload_settings,
        default_task_queue="queue-one",
    )

    def task_queue() -> str:
        return gateway.stored[sid("alpha")].write.schedule.action.task_queue

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        assert task_queue() == "queue-one"
        os.kill(os.getpid(), signal.SIGHUP)
        await eventually(lambda: task_queue() == "queue-two", what="the reloaded setting")
        await eventually(lambda: notifier.keys().count("READY") == 2, what="READY after reload")
        os.kill(os.getpid(), signal.SIGHUP)  # a broken config: the old one stays
        await eventually(lambda: notifier.keys().count("READY") == 3, what="READY after reload")
        assert daemon.settings.default_task_queue == "queue-two"
        assert task_queue() == "queue-two"

    run_with(daemon, body)
    keys = notifier.keys()
    assert keys == [
        "READY",
        "RELOADING",
        "MONOTONIC_USEC",
        "READY",
        "RELOADING",
        "MONOTONIC_USEC",
        "READY",
        "STOPPING",
    ]


# -- the watcher -------------------------------------------------------------------------------


async def _watch_limit_reached() -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
    raise OSError('OS file watch limit reached. about ["/tree"]')
    yield set()  # an async generator, like watchfiles.awatch


def limited_watch(
    *paths: Path, force_polling: bool | None = None, **options: Any
) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
    """watchfiles.awatch on a host whose inotify watches are used up: only polling works."""
    if not force_polling:
        return _watch_limit_reached()
    return watchfiles.awatch(*paths, force_polling=True, **options)


def test_the_inotify_watch_limit_falls_back_to_polling(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path)

    def watcher(root: Path, send: Any) -> TreeWatcher:
        return TreeWatcher(root, send, step_ms=50, max_wait_ms=500, watch=limited_watch)

    daemon = make_daemon(root, gateway, watcher_factory=watcher)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        await eventually(lambda: daemon.watcher_mode() == "polling", what="polling")
        status = json.loads(daemon.health.route("/status").body)
        assert status["watcher_mode"] == "polling"
        assert b'scheduled_watcher_mode{mode="polling"} 1.0' in daemon.health.route("/metrics").body
        (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
        await eventually(lambda: note(gateway, "alpha") == "v2", what="a change seen by polling")

    run_with(daemon, body)
    warnings = [r for r in records if r["level"].name == "WARNING"]
    assert any("falling back to polling" in r["message"] for r in warnings)


def test_an_http_address_that_cannot_be_served_stops_the_daemon_with_an_error(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    async def main() -> int:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with listener:
            daemon = make_daemon(
                make_tree(tmp_path), FakeGateway(), http_address=f"127.0.0.1:{port}"
            )
            with anyio.fail_after(10):
                return await daemon.serve()

    assert anyio.run(main) == 1
    assert any(r["message"].startswith("cannot serve HTTP") for r in records)


def test_a_vanished_schedule_block_is_deleted_only_after_one_more_quiet_period(
    tmp_path: Path,
) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    daemon = make_daemon(root, gateway)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        passes = daemon.passes
        (root / "team/alpha.yaml").write_text(workflow_yaml("alpha"))  # no schedule block
        await eventually(lambda: daemon.passes > passes, what="the first pass")
        assert sid("alpha") in gateway.stored  # held, not deleted
        assert daemon.status.last_pass["counts"].get("skipped") == 1
        await eventually(lambda: sid("alpha") not in gateway.stored, what="deleted after all")
        assert gateway.calls["delete"] == 1

    run_with(daemon, body)


def test_a_writer_that_pauses_mid_file_deletes_and_recreates_nothing(tmp_path: Path) -> None:
    gateway = FakeGateway()
    root = make_tree(tmp_path)
    daemon = make_daemon(root, gateway, debounce_ms=300)

    async def body(daemon: Daemon) -> None:
        await ready(daemon)
        passes = daemon.passes
        (root / "team/alpha.yaml").write_text(workflow_yaml("alpha"))  # the block not yet written
        await eventually(lambda: daemon.passes > passes, what="the pass of the half file")
        (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v1"))
        passes = daemon.passes
        await eventually(lambda: daemon.passes > passes, what="the pass of the whole file")
        await anyio.sleep(1.0)  # past the second look at the file: nothing may follow
        assert (gateway.calls["delete"], gateway.calls["create"]) == (0, len(NAMES))
        assert gateway.stored[sid("alpha")].note == "v1"

    run_with(daemon, body)
