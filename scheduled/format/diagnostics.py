"""Diagnostics: one problem in one file, located by `file:line:column`, in words a person reads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    file: str  # relative to the tree's root, with forward slashes
    line: int  # 1-based; 0 when the problem concerns the whole file
    column: int  # 1-based; 0 when unknown
    severity: Severity
    code: str  # stable identifier for tools, e.g. "schema.unknown-key"
    message: str
    path: str = ""  # where inside the document, e.g. "schedule.cron[1]"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        if self.line <= 0:
            return self.file
        if self.column <= 0:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"

    def render(self) -> str:
        where = f" (at {self.path})" if self.path else ""
        return f"{self.location()}: {self.severity}: {self.message}{where} [{self.code}]"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
            "path": self.path,
        }


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    return (diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.code)


def format_path(path: tuple[str | int, ...]) -> str:
    """`("schedule", "cron", 1)` → `schedule.cron[1]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text
