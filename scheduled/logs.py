"""Logging through loguru: readable on a terminal, one JSON object per line for collectors.

journald and container log collectors want JSON lines; people at a terminal want text. Extra
fields bound with `logger.bind(...)` (schedule_id, workflow_id, file, outcome, duration_ms) are
kept as fields in JSON and appended as key=value in text, so both can be grepped.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any, TextIO

from loguru import logger

# Never written to a log, whatever a caller binds.
_SECRET_KEYS = frozenset({"api_key", "password", "token", "authorization"})


def _fields(extra: dict[str, Any]) -> dict[str, Any]:
    return {key: ("***" if key in _SECRET_KEYS else value) for key, value in extra.items()}


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
            entry["exception"] = "".join(
                traceback.format_exception(*record["exception"])
            ).rstrip()
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


def configure_logging(log_format: str = "auto", level: str = "INFO", stream: TextIO | None = None) -> str:
    """Route loguru to stderr in the chosen format; returns the format in effect."""
    stream = stream or sys.stderr
    chosen = log_format
    if chosen == "auto":
        chosen = "text" if stream.isatty() else "json"
    logger.remove()
    if chosen == "json":
        logger.add(_json_sink(stream), level=level.upper(), format="{message}")
    else:
        logger.add(stream, level=level.upper(), format=_text_format, colorize=stream.isatty())
    return chosen
