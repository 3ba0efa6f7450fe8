"""Logging through loguru: readable on a terminal, one JSON object per line for collectors.

journald and container log collectors want JSON lines; people at a terminal want text. Extra
fields bound with `logger.bind(...)` (schedule_id, workflow_id, file, outcome, duration_ms) are
kept as fields in JSON and appended as key=value in text, so both can be grepped.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from loguru import logger

# Never written to a log, whatever a caller binds.
_SECRET_KEYS = frozenset({"api_key", "password", "token", "authorization"})
REDACTED = "***"


def _fields(extra: dict[str, Any]) -> dict[str, Any]:
    return {key: (REDACTED if key in _SECRET_KEYS else value) for key, value in extra.items()}


def _redactor(secrets: tuple[str, ...]) -> Callable[[Any], None]:
    """A loguru patcher that blanks known secret values wherever they appear: in the message
    (an error text that quotes a header, say) and in every bound string field."""

    def scrub(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    def patch(record: Any) -> None:
        record["message"] = scrub(record["message"])
        for key, value in record["extra"].items():
            if isinstance(value, str):
                record["extra"][key] = scrub(value)

    return patch


def _json_sink(stream: TextIO) -> Any:
    def sink(message: Any) -> None:
        record = message.record
        entry = {
            "time": record["time"].isoformat(),
            "level": record["level"].name,
            "message": record["message"],
            **_fields(record["extra"]),
        }
        if record["exception"] is not None:
            entry["exception"] = "".join(traceback.format_exception(*record["exception"])).rstrip()
        stream.write(json.dumps(entry, default=str) + "\n")
        stream.flush()

    return sink


def _text_format(record: Any) -> str:
    fields = " ".join(f"{key}={value}" for key, value in _fields(record["extra"]).items())
    # The result is itself a loguru format string: escape braces and markup in the values.
    escaped = fields.replace("{", "{{").replace("}", "}}").replace("<", "\\<")
    tail = f" <dim>{escaped}</dim>" if fields else ""
    return (
        "<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
        "{message}" + tail + "\n{exception}"
    )


class _ToLoguru(logging.Handler):
    """Standard-library records (temporalio's SDK and Rust core) into loguru's sinks."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.bind(source=record.name).opt(exception=record.exc_info).log(
            level, record.getMessage()
        )


def configure_logging(
    log_format: str = "auto",
    level: str = "INFO",
    stream: TextIO | None = None,
    *,
    secrets: Iterable[str | None] = (),
) -> str:
    """Route loguru to stderr in the chosen format; returns the format in effect.

    `secrets` (the API key) are replaced by *** in every message and field, on top of the
    fields that are redacted by name.
    """
    stream = stream or sys.stderr
    chosen = log_format
    if chosen == "auto":
        chosen = "text" if stream.isatty() else "json"
    logger.remove()
    known = tuple(secret for secret in secrets if secret and len(secret) >= 4)
    logger.configure(patcher=_redactor(known) if known else None)
    if chosen == "json":
        logger.add(_json_sink(stream), level=level.upper(), format="{message}")
    else:
        # diagnose=False: loguru would otherwise print local variables (an API key among them)
        # in tracebacks.
        logger.add(
            stream,
            level=level.upper(),
            format=_text_format,
            colorize=stream.isatty(),
            diagnose=False,
        )
    logging.basicConfig(handlers=[_ToLoguru()], level=logging.WARNING, force=True)
    return chosen
