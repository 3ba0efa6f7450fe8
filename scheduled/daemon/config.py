"""What the daemon is started with, the timing of its stop, and what its logs must never show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scheduled.reconcile.gateway import GatewayError
from scheduled.settings import Settings
from scheduled.temporal.connection import Connection

# How often the watcher looks for changes; the quiet period itself is timed by the loop.
WATCH_STEP_MS = 25
STOP_GRACE_S = 5.0  # after SIGTERM, how long writes in flight may finish
STOP_BACKSTOP_S = STOP_GRACE_S + 3.0  # then the pass is cancelled, whatever it is doing


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonConfig:
    root: Path
    settings: Settings
    connection: Connection
    dev: bool = False
    state_dir: Path = Path(".scheduled-state")
    allow_mass_delete: bool = False
    reload_settings: Callable[[], Settings] | None = None
    manage_logging: bool = False  # the daemon owns loguru's sinks (re-applied on reload)


def secrets_of(config: DaemonConfig, settings: Settings | None = None) -> tuple[str | None, ...]:
    """What logs must never show: the API key from the settings, and one that only an envconfig
    profile (or TEMPORAL_API_KEY) supplies."""
    try:
        from_profile = config.connection.resolve().get("api_key")
    except GatewayError:  # an unreadable profile is reported when connecting
        from_profile = None
    api_key = (settings or config.settings).api_key
    return (api_key, from_profile if isinstance(from_profile, str) else None)
