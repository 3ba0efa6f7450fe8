"""systemd's service notification protocol (sd_notify), for `Type=notify` units.

The protocol is one datagram of `KEY=value` lines to the socket named in $NOTIFY_SOCKET, so it is
written here in a few lines instead of depending on the unmaintained `sdnotify` package. Outside
systemd (no $NOTIFY_SOCKET) every call is a no-op.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Protocol


class Notifier(Protocol):
    def notify(self, *lines: str) -> None: ...


class SystemdNotifier:
    def __init__(self, socket_path: str | None = None) -> None:
        path = socket_path if socket_path is not None else os.environ.get("NOTIFY_SOCKET", "")
        if path.startswith("@"):  # an abstract socket
            path = "\0" + path[1:]
        self._address = path or None

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, *lines: str) -> None:
        if self._address is None:
            return
        # systemd may have gone away (e.g. during shutdown): then there is nobody to tell.
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock, contextlib.suppress(OSError):
            sock.sendto("\n".join(lines).encode(), self._address)

    def ready(self, status: str) -> None:
        self.notify("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.notify(f"STATUS={status}")

    def reloading(self) -> None:
        # systemd >= 253 wants MONOTONIC_USEC with RELOADING=1 (Type=notify-reload).
        self.notify("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")


def watchdog_interval_s() -> float | None:
    """Half of WatchdogSec when systemd asked for pings for this process, else None."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000 / 2
