"""Stop on SIGTERM/SIGINT: the first asks for a graceful stop, a second forces it (uvicorn's rule).

Shared by `scheduled apply` and the daemon, so both stop the same way. The handlers only call
back; what "graceful" means (no new Temporal calls, a grace period for calls in flight) belongs
to the caller.
"""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable

import anyio


async def receive_stop_signals(
    stop: anyio.Event,
    *,
    graceful: Callable[[str], None],
    forced: Callable[[str], None],
    reload: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run until a forced stop. `graceful(name)` must set `stop`; a signal that arrives once
    `stop` is set (by a signal or by the program) calls `forced(name)` and returns. With
    `reload`, SIGHUP calls it instead of stopping."""
    watched = [signal.SIGTERM, signal.SIGINT] + ([signal.SIGHUP] if reload else [])
    with anyio.open_signal_receiver(*watched) as received:
        async for signum in received:
            name = signal.Signals(signum).name
            if signum == signal.SIGHUP and reload is not None:
                await reload()
            elif stop.is_set():
                forced(name)
                return
            else:
                graceful(name)
