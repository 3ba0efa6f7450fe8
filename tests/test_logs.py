"""loguru routed as JSON lines or text, with secrets kept out."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from loguru import logger

from scheduled.logs import configure_logging


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_loguru() -> Iterator[None]:
    yield
    logger.remove()
    logger.configure(patcher=None)
    logger.add(sys.stderr)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_bound_fields() -> None:
    stream = io.StringIO()
    assert configure_logging("json", "INFO", stream) == "json"
    logger.bind(
        schedule_id="schedule-p-a",
        workflow_id="a",
        file="team/a.yaml",
        outcome="updated",
        duration_ms=12.5,
    ).info("updated: {}", "the file changed")
    logger.debug("not at INFO")
    [entry] = json_lines(stream)
    assert entry["message"] == "updated: the file changed"
    assert entry["level"] == "INFO"
    assert {key: entry[key] for key in ("schedule_id", "workflow_id", "file", "outcome")} == {
        "schedule_id": "schedule-p-a",
        "workflow_id": "a",
        "file": "team/a.yaml",
        "outcome": "updated",
    }
    assert entry["duration_ms"] == 12.5
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None


def test_auto_is_json_off_a_terminal_and_text_on_one() -> None:
    assert configure_logging("auto", "INFO", io.StringIO()) == "json"
    terminal = Terminal()
    assert configure_logging("auto", "INFO", terminal) == "text"
    logger.bind(file="a {b} <c>.yaml").warning("hello")
    line = terminal.getvalue()
    assert "hello" in line and "WARNING" in line
    assert "file=a {b} <c>.yaml" in line  # braces and markup in values are escaped


def test_exceptions_are_kept_in_json() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    try:
        raise OSError("disk trouble")
    except OSError:
        logger.exception("the pass failed")
    [entry] = json_lines(stream)
    assert "OSError: disk trouble" in entry["exception"]


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_secrets_never_reach_the_log(log_format: str) -> None:
    secret = "sk-live-0123456789abcdef"
    stream = io.StringIO()
    configure_logging(log_format, "DEBUG", stream, secrets=(secret, None))
    logger.bind(api_key=secret, token="t0ken-value").info("connecting")
    logger.bind(error=f"PERMISSION_DENIED: bad key {secret}").error("Temporal said {}", secret)
    text = stream.getvalue()
    assert secret not in text
    assert "t0ken-value" not in text
    assert text.count("***") >= 4


def test_without_secrets_nothing_is_redacted_by_value() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream, secrets=("",))
    logger.info("plain text")
    assert json_lines(stream)[0]["message"] == "plain text"
