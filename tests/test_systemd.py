"""sd_notify against a real unix datagram socket, as systemd listens on $NOTIFY_SOCKET."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduled.daemon.systemd import SystemdNotifier, watchdog_interval_s


@pytest.fixture
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A bound datagram socket with a short path (unix socket paths are limited to 108 bytes)."""
    with tempfile.TemporaryDirectory(prefix="sd-", dir="/tmp") as folder:
        path = str(Path(folder) / "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(path)
            sock.settimeout(5)
            yield path, sock


def received(sock: socket.socket) -> list[str]:
    return sock.recv(65536).decode().split("\n")


def test_each_message_is_one_datagram_of_key_value_lines(
    listener: tuple[str, socket.socket],
) -> None:
    path, sock = listener
    notifier = SystemdNotifier(path)
    assert notifier.enabled
    notifier.ready("watching /srv/tree: 4 schedules")
    assert received(sock) == ["READY=1", "STATUS=watching /srv/tree: 4 schedules"]
    notifier.status("reconciling (full)")
    assert received(sock) == ["STATUS=reconciling (full)"]
    notifier.watchdog()
    assert received(sock) == ["WATCHDOG=1"]
    notifier.stopping()
    assert received(sock) == ["STOPPING=1"]


def test_reloading_carries_the_monotonic_clock(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    before = time.monotonic_ns() // 1000
    SystemdNotifier(path).reloading()
    reloading, monotonic = received(sock)
    after = time.monotonic_ns() // 1000
    assert reloading == "RELOADING=1"
    key, _, value = monotonic.partition("=")
    assert key == "MONOTONIC_USEC" and before <= int(value) <= after


def test_the_socket_comes_from_the_environment(
    listener: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sock = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    SystemdNotifier().status("hello")
    assert received(sock) == ["STATUS=hello"]


def test_an_abstract_socket() -> None:
    name = f"scheduled-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        SystemdNotifier("@" + name).status("abstract")
        assert received(sock) == ["STATUS=abstract"]


def test_outside_systemd_every_call_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = SystemdNotifier()
    assert not notifier.enabled
    notifier.ready("x")
    notifier.reloading()


def test_a_socket_nobody_listens_on_is_ignored(tmp_path: Path) -> None:
    SystemdNotifier(str(tmp_path / "gone")).ready("systemd went away")  # must not raise


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("2000000", None, 1.0),
        ("2000000", "self", 1.0),
        ("2000000", "1", None),  # meant for another process (e.g. the service's parent)
        ("", None, None),
        ("soon", None, None),
        (None, None, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, expected: float | None
) -> None:
    for name, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(os.getpid()) if value == "self" else value)
    assert watchdog_interval_s() == expected
