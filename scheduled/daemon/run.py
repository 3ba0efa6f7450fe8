"""`scheduled run`: logging, the optional local dev server, then the daemon on its event loop."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import replace

from loguru import logger

from scheduled.daemon.config import DaemonConfig, secrets_of
from scheduled.daemon.service import Daemon
from scheduled.devserver import DevServer, DevServerError, start_dev_server
from scheduled.exit_codes import ExitCode
from scheduled.logs import configure_logging
from scheduled.temporal.connection import run_event_loop


def run_daemon(config: DaemonConfig) -> int:
    """Entry point of `scheduled run`; returns the process's exit code."""
    configure_logging(
        config.settings.log_format, config.settings.log_level, secrets=secrets_of(config)
    )
    dev_server: DevServer | None = None
    try:
        if _dev_address_needed(config):
            logger.bind(state_dir=str(config.state_dir)).info(
                "starting a local Temporal dev server"
            )
            with _stop_signals_interrupt():
                dev_server = start_dev_server(config.state_dir, ui=True)
            logger.bind(address=dev_server.address, ui=dev_server.ui_url or "").info(
                "Temporal dev server is up"
            )
            config = replace(
                config, connection=replace(config.connection, address=dev_server.address)
            )
        return run_event_loop(Daemon(replace(config, manage_logging=True)).serve)
    except DevServerError as error:
        logger.bind(error=str(error)).error("cannot start the Temporal dev server")
        return ExitCode.FAILED
    except KeyboardInterrupt:
        return ExitCode.OK
    finally:
        if dev_server is not None:
            dev_server.stop()
            logger.info("Temporal dev server stopped")


def _dev_address_needed(config: DaemonConfig) -> bool:
    return config.dev and not config.settings.address and not os.environ.get("TEMPORAL_ADDRESS")


@contextlib.contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """Outside the event loop (starting the dev server), SIGTERM must still unwind through
    `finally`, so the server process is not left behind: raise KeyboardInterrupt for it."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
