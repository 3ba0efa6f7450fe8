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
from scheduled.format.loader import load_tree
from scheduled.logs import configure_logging
from scheduled.model.desired import AttributeType
from scheduled.settings import load_options
from scheduled.temporal.connection import run_event_loop

# Temporal's names of the types, as `temporal server start-dev --search-attribute` takes them.
_DEV_SERVER_TYPES = {
    AttributeType.KEYWORD: "Keyword",
    AttributeType.TEXT: "Text",
    AttributeType.INT: "Int",
    AttributeType.DOUBLE: "Double",
    AttributeType.BOOL: "Bool",
    AttributeType.DATETIME: "Datetime",
    AttributeType.KEYWORD_LIST: "KeywordList",
}


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
            attributes = search_attributes_of_tree(config)
            with _stop_signals_interrupt():
                dev_server = start_dev_server(
                    config.state_dir, ui=True, search_attributes=attributes
                )
            logger.bind(
                address=dev_server.address,
                ui=dev_server.ui_url or "",
                search_attributes=",".join(attributes),
            ).info("Temporal dev server is up")
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


def search_attributes_of_tree(config: DaemonConfig) -> tuple[str, ...]:
    """The custom search attributes the tree's files use, as `NAME=Type` for the dev server.

    A fresh dev server knows none, and a file naming one the namespace lacks fails to apply
    (INVALID_ARGUMENT): on a laptop that would be a trap, not a check. The first type seen for
    a name wins; a file stating another type then fails with the server's type error, worded.
    Attributes added to the tree later need a restart of `run --dev`."""
    load = load_tree(config.root, load_options(config.settings, config.root))
    types: dict[str, AttributeType] = {}
    for schedule in load.desired.values():
        for attribute in (*schedule.search_attributes, *schedule.action.search_attributes):
            types.setdefault(attribute.name, attribute.type)
    return tuple(f"{name}={_DEV_SERVER_TYPES[kind]}" for name, kind in sorted(types.items()))


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
