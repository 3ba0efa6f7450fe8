"""Settings, resolved once: flag > environment (SCHEDULED_*) > config file > default.

The config file is TOML (`scheduled.toml`, or `--config`/`SCHEDULED_CONFIG`); its keys are the
long option names with `_` for `-`. The Temporal connection also honours Temporal's own
environment conventions (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
TEMPORAL_PROFILE and the envconfig profile file), which the gateway reads through temporalio.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from scheduled.errors import ScheduledError
from scheduled.model import PROJECT_PATTERN

DEFAULT_CONFIG_FILE = "scheduled.toml"


class ConfigError(ScheduledError):
    """The configuration is unreadable or holds a value that cannot work."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    project: str | None = None  # None: the root folder's name
    default_workflow: str | None = None
    default_task_queue: str | None = None
    address: str | None = None  # None: Temporal's env/profile, then localhost:7233
    namespace: str | None = None
    api_key: str | None = None
    tls: bool | None = None
    concurrency: int = 10
    rate_limit: float = 200.0  # Temporal calls per second, bursts up to one second's worth
    max_attempts: int = 6  # per call, for transient errors
    prune: bool = True
    max_delete_fraction: float = 0.5
    respect_operator_pause: bool = True
    debounce_ms: int = 300
    max_wait_ms: int = 2000
    resync_interval_s: float = 300.0
    http_address: str | None = None
    log_format: str = "auto"
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if self.project is not None and not PROJECT_PATTERN.match(self.project):
            raise ConfigError(
                f"project {self.project!r} is not valid: use lowercase letters, digits, '-' and "
                "'_', starting with a letter or digit, at most 63 characters"
            )
        if self.concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        if self.rate_limit <= 0:
            raise ConfigError("rate_limit must be a positive number of calls per second")
        if not 0 < self.max_delete_fraction <= 1:
            raise ConfigError("max_delete_fraction must be above 0 and at most 1 (e.g. 0.5)")


SETTING_NAMES = frozenset(field.name for field in fields(Settings))


def read_config_file(path: Path) -> dict[str, Any]:
    """The `[scheduled]` table (or the top level) of a TOML file, checked for unknown keys."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path} does not exist") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from error
    table = data.get("scheduled", data)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [scheduled] must be a table")
    unknown = sorted(set(table) - SETTING_NAMES)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(SETTING_NAMES))}"
        )
    return dict(table)


def build_settings(layers: list[dict[str, Any]]) -> Settings:
    """Merge layers, later ones winning (default < file < environment < flag)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({key: value for key, value in layer.items() if value is not None})
    try:
        return Settings(**merged)
    except TypeError as error:
        raise ConfigError(f"bad setting: {error}") from error
