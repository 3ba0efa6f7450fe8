"""Helpers for the daemon tests: a polling wait, Temporal seen from a test, and `scheduled run`
as a real subprocess with its HTTP endpoints and JSON log.

    daemon = start_daemon(tmp_path, root, project, address, "--resync-interval-s", "2")
    daemon.wait_ready()
    write_workflow(root, "a.yaml", workflow_yaml("a", cron="0 9 * * *", note="v2"))
    wait_until(lambda: temporal.note(sid(project, "a")) == "v2", what="the edit in Temporal")

Waits poll with a generous timeout and never stand in for an assertion: a test asserts on what
Temporal holds (describe) once the wait is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import temporalio.client as tc
import temporalio.service
from prometheus_client.parser import text_string_to_metric_families

from scheduled.devserver import free_port, start_dev_server
from scheduled.model.desired import schedule_id_for

T = TypeVar("T")
WAIT_S = 45.0  # generous: the dev server and the daemon share two cores with other tests


def wait_until(
    predicate: Callable[[], T], *, timeout: float = WAIT_S, interval: float = 0.1, what: str = ""
) -> T:
    """Poll until predicate() is truthy and return that value; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f} s waiting for {what or predicate}: last {value!r}"
            )
        time.sleep(interval)


def sid(project: str, workflow_id: str) -> str:
    return schedule_id_for(project, workflow_id)


# -- Temporal, from the test's side ------------------------------------------------------------


class TemporalProbe:
    """Synchronous access to Temporal for sync tests: one client on an event loop in a thread."""

    def __init__(self, address: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.client: tc.Client = self.run(tc.Client.connect(address))

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def describe(self, schedule_id: str) -> tc.ScheduleDescription | None:
        """The schedule as the server has it now (strongly consistent), or None when absent."""

        async def describe() -> tc.ScheduleDescription | None:
            try:
                return await self.client.get_schedule_handle(schedule_id).describe()
            except temporalio.service.RPCError as error:
                if error.status == temporalio.service.RPCStatusCode.NOT_FOUND:
                    return None
                raise

        return self.run(describe())

    def describe_many(
        self, schedule_ids: Iterable[str]
    ) -> dict[str, tc.ScheduleDescription | None]:
        ids = list(schedule_ids)

        async def describe_all() -> list[tc.ScheduleDescription | None]:
            limiter = asyncio.Semaphore(16)

            async def one(schedule_id: str) -> tc.ScheduleDescription | None:
                async with limiter:
                    try:
                        return await self.client.get_schedule_handle(schedule_id).describe()
                    except temporalio.service.RPCError as error:
                        if error.status == temporalio.service.RPCStatusCode.NOT_FOUND:
                            return None
                        raise

            return list(await asyncio.gather(*(one(schedule_id) for schedule_id in ids)))

        return dict(zip(ids, self.run(describe_all()), strict=True))

    def note(self, schedule_id: str) -> str | None:
        """The schedule's note, or None when the schedule does not exist."""
        description = self.describe(schedule_id)
        return None if description is None else (description.schedule.state.note or "")

    def notes(self, schedule_ids: Iterable[str]) -> dict[str, str | None]:
        return {
            schedule_id: None if found is None else (found.schedule.state.note or "")
            for schedule_id, found in self.describe_many(schedule_ids).items()
        }

    def exists(self, schedule_id: str) -> bool:
        return self.describe(schedule_id) is not None

    def listed_ids(self, id_prefix: str) -> set[str]:
        """The ids the list shows under a prefix. Eventually consistent: a schedule created or
        deleted a moment ago may be missing or still there; describe is the truth."""

        async def listed() -> set[str]:
            query = f'ScheduleId STARTS_WITH "{id_prefix}"'
            return {
                entry.id
                async for entry in await self.client.list_schedules(query)
                if entry.id.startswith(id_prefix)
            }

        return self.run(listed())


class RestartableServer:
    """A dev server of the test's own, stopped and started again on the same port and database
    (an outage and its recovery, as the daemon sees them), with a probe that follows it."""

    def __init__(self, tmp_path: Path) -> None:
        self.state_dir, self.port = tmp_path / "server", free_port()
        self.server = start_dev_server(self.state_dir, port=self.port)
        self.probe = TemporalProbe(self.server.address)
        self._probing = True

    @property
    def address(self) -> str:
        return self.server.address

    def stop(self) -> None:
        self._close_probe()
        self.server.stop()

    def start(self) -> None:
        self.server = start_dev_server(self.state_dir, port=self.port)
        self.probe = TemporalProbe(self.server.address)
        self._probing = True

    def close(self) -> None:
        """Whatever state the test left it in (stopped, started, SIGSTOPped)."""
        if self.server.process.poll() is None:
            self.server.process.send_signal(signal.SIGCONT)
        self._close_probe()
        self.server.stop()

    def _close_probe(self) -> None:
        if self._probing:
            self._probing = False
            self.probe.close()


def schedule_state(description: tc.ScheduleDescription | None) -> Any:
    """What a write can change (spec, action, policies, state), comparable between describes."""
    assert description is not None, "the schedule does not exist"
    schedule = description.schedule
    return (repr(schedule.spec), repr(schedule.action), repr(schedule.policy), repr(schedule.state))


# -- the daemon as a subprocess ----------------------------------------------------------------


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """(status, body); status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()
    except OSError:
        return 0, b""


@dataclass
class DaemonProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    args: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def get(self, path: str) -> tuple[int, bytes]:
        return http_get(self.port, path)

    def status(self) -> dict[str, Any]:
        code, body = self.get("/status")
        assert code == 200, f"/status answered {code}: {body!r}; log:\n{self.log_tail()}"
        result: dict[str, Any] = json.loads(body)
        return result

    def ready(self) -> bool:
        self.check_alive()
        return self.get("/readyz")[0] == 200

    def wait_ready(self, timeout: float = WAIT_S) -> None:
        wait_until(self.ready, timeout=timeout, what="/readyz to answer 200")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"the daemon exited with {self.process.returncode}; log:\n{self.log_tail()}"
            )

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        code, body = self.get("/metrics")
        assert code == 200, f"/metrics answered {code}"
        found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return found

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)

    def operations(self, outcome: str) -> float:
        return self.metric("scheduled_operations_total", outcome=outcome)

    def passes(self, kind: str) -> float:
        return self.metric("scheduled_reconcile_duration_seconds_count", kind=kind)

    def wait_passes(self, kind: str, more_than: float) -> float:
        return wait_until(
            lambda: (count := self.passes(kind)) > more_than and count,
            what=f"more than {more_than:g} {kind} passes",
        )

    def log_lines(self) -> list[str]:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def logs(self) -> list[dict[str, Any]]:
        """The JSON log entries (the Temporal SDK's own Rust core writes plain lines too)."""
        entries = []
        for line in self.log_lines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    entries.append(json.loads(line))
        return entries

    def log_tail(self, count: int = 40) -> str:
        return "\n".join(self.log_lines()[-count:])

    def send(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait; kill (and fail) when it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the daemon did not stop within {timeout:.0f} s") from None


def start_daemon(
    workdir: Path,
    root: Path,
    project: str,
    address: str | None,
    *extra: str,
    env: dict[str, str] | None = None,
    name: str = "daemon",
    debounce_ms: int = 100,
) -> DaemonProcess:
    """`python -m scheduled run ROOT` with JSON logs to workdir/<name>.log and HTTP on a free port."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TEMPORAL_", "SCHEDULED_", "NOTIFY_SOCKET", "WATCHDOG_"))
    }
    if address is not None:
        environment["TEMPORAL_ADDRESS"] = address
    environment.update(env or {})
    args = [
        sys.executable,
        "-m",
        "scheduled",
        "run",
        str(root),
        "--project",
        project,
        "--http-address",
        f"127.0.0.1:{port}",
        "--log-format",
        "json",
        "--debounce-ms",
        str(debounce_ms),
        "--max-wait-ms",
        "1500",
        *extra,
    ]
    cwd = workdir / f"{name}-cwd"  # no scheduled.toml from wherever pytest runs
    cwd.mkdir(exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            args,
            cwd=cwd,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return DaemonProcess(process=process, port=port, log_path=log_path, args=args)


def process_exists(pid: int) -> bool:
    """Whether a live (not zombie) process has this pid."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False
    return state != "Z"


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains text (for orphan checks)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command and process_exists(int(entry.name)):
            found.append(int(entry.name))
    return found
