"""Settings, resolved once: flag > environment (SCHEDULED_*) > config file > default.

The config file is TOML (`scheduled.toml`, or `--config`/`SCHEDULED_CONFIG`); its keys are the
long option names with `_` for `-`. The Temporal connection also honours Temporal's own
environment conventions (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
TEMPORAL_PROFILE and the envconfig profile file), which the gateway reads through temporalio.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduled.errors import ScheduledError
from scheduled.format.globs import DEFAULT_INCLUDE, FileSelection, GlobError, compile_glob

if TYPE_CHECKING:  # imported where used: `scheduled --help` must not pay for them
    from scheduled.format.loader import LoadOptions
    from scheduled.model.observed import Revision
    from scheduled.reconcile.apply import ApplyOptions
    from scheduled.reconcile.plan import PlanOptions

DEFAULT_CONFIG_FILE = "scheduled.toml"


class ConfigError(ScheduledError):
    """The configuration is unreadable or holds a value that cannot work."""

    def __init__(self, message: str, *, setting: str = "") -> None:
        super().__init__(message)
        self.setting = setting  # which setting, when one is to blame


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Every setting of `scheduled`, validated once, whichever layer it came from.

    The one object the CLI hands to the core: commands and the daemon read settings only from
    here, so precedence and validation live in one place (this module)."""

    project: str | None = None  # None: the root folder's name
    default_workflow: str | None = None
    default_task_queue: str | None = None
    # Which YAML files are workflow files (format/globs.py). None: DEFAULT_INCLUDE, and a
    # YAML file without an `id` is "not a workflow file"; when set, it is an error.
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
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
    verify_interval_s: float = 3600.0  # deep verification: describe every managed schedule
    http_address: str | None = None
    log_format: str = "auto"
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        for name, problem in _problems(self):
            raise ConfigError(problem, setting=name)
        for name in _GLOB_SETTINGS:  # a TOML list or click's tuple: held as a tuple
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))


def _problems(settings: Settings) -> list[tuple[str, str]]:
    """Every (setting, why it cannot work), with the same ranges as the flags."""
    from scheduled.model.desired import PROJECT_PATTERN

    for name, kind in _KINDS.items():
        problem = _type_problem(name, kind, getattr(settings, name))
        if problem:
            return [(name, problem)]  # ranges below assume the types are right
    for name in _GLOB_SETTINGS:
        problem = _globs_problem(name, getattr(settings, name))
        if problem:
            return [(name, problem)]
    checks = [
        (
            "project",
            settings.project is not None and not PROJECT_PATTERN.match(settings.project),
            f"project {settings.project!r} is not valid: use lowercase letters, digits, '-' and "
            "'_', starting with a letter or digit, at most 63 characters",
        ),
        (
            "concurrency",
            not 1 <= settings.concurrency <= 256,
            "concurrency must be at least 1 (and at most 256)",
        ),
        (
            "rate_limit",
            settings.rate_limit < 0.1,
            "rate_limit must be a positive number of calls per second (at least 0.1)",
        ),
        ("max_attempts", settings.max_attempts < 1, "max_attempts must be at least 1"),
        (
            "max_delete_fraction",
            not 0 < settings.max_delete_fraction <= 1,
            "max_delete_fraction must be above 0 and at most 1 (e.g. 0.5)",
        ),
        ("debounce_ms", settings.debounce_ms < 0, "debounce_ms must be 0 or more milliseconds"),
        ("max_wait_ms", settings.max_wait_ms < 0, "max_wait_ms must be 0 or more milliseconds"),
        (
            "resync_interval_s",
            settings.resync_interval_s < 1,
            "resync_interval_s must be at least 1 second",
        ),
        (
            "verify_interval_s",
            settings.verify_interval_s < 1,
            "verify_interval_s must be at least 1 second",
        ),
        (
            "log_format",
            settings.log_format not in LOG_FORMATS,
            f"log_format {settings.log_format!r} is not one of {', '.join(LOG_FORMATS)}",
        ),
        (
            "log_level",
            settings.log_level.upper() not in LOG_LEVELS,
            f"log_level {settings.log_level!r} is not one of {', '.join(LOG_LEVELS)}",
        ),
    ]
    return [(name, message) for name, failed, message in checks if failed]


def _globs_problem(name: str, globs: tuple[str, ...] | None) -> str:
    if globs is None:
        return ""
    if name == "include" and not globs:
        return (
            "include needs at least one glob (with none, no file would be a workflow file); "
            f"the default is {' '.join(DEFAULT_INCLUDE)}"
        )
    for glob in globs:
        try:
            compile_glob(glob)
        except GlobError as error:
            return f"{name}: {error}"
    return ""


_GLOB_SETTINGS = ("include", "exclude")
LOG_FORMATS = ("auto", "text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_KINDS: dict[str, type] = {
    "project": str, "default_workflow": str, "default_task_queue": str, "include": list,
    "exclude": list, "address": str,
    "namespace": str, "api_key": str, "tls": bool, "concurrency": int, "rate_limit": float,
    "max_attempts": int, "prune": bool, "max_delete_fraction": float,
    "respect_operator_pause": bool, "debounce_ms": int, "max_wait_ms": int,
    "resync_interval_s": float, "verify_interval_s": float, "http_address": str, "log_format": str, "log_level": str,
}  # fmt: skip
_KIND_WORDS = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "a string",
    list: "a list of strings (globs)",
}


def _type_problem(name: str, kind: type, value: Any) -> str:
    """Why value cannot be the setting `name`, or "" (None means "not set" and is always fine).

    Checked as strictly as the flags: a TOML string "false" is not a boolean (Python would read
    it as true, and `prune = "false"` would prune), a boolean is not a number."""
    if value is None:
        return ""
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind is list:  # a single string is refused, not read as a list of its characters
        ok = isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)
    else:
        ok = isinstance(value, str)
    if ok:
        return ""
    shown = f"the string {value!r}" if isinstance(value, str) else repr(value)
    return f"`{name}` must be {_KIND_WORDS[kind]}, not {shown}"


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
            f"{path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(SETTING_NAMES))}"
        )
    for name, value in table.items():  # every value typed as strictly as its flag
        problem = _type_problem(name, _KINDS[name], value)
        if problem:
            raise ConfigError(f"{path}: {problem}", setting=name)
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


def resolve_settings(config_file: Path | None, explicit: Mapping[str, Any]) -> Settings:
    """flag or environment (`explicit`) > config file > default. With no config file named,
    ./scheduled.toml is read when present. Pure apart from reading the file, so the daemon
    re-resolves on SIGHUP without the command line."""
    file_layer: dict[str, Any] = {}
    if config_file is None and Path(DEFAULT_CONFIG_FILE).is_file():
        config_file = Path(DEFAULT_CONFIG_FILE)
    if config_file is not None:
        file_layer = read_config_file(config_file)
    try:
        return build_settings([file_layer, dict(explicit)])
    except ConfigError as error:
        from_file = error.setting in file_layer and explicit.get(error.setting) is None
        if from_file:  # say where the value came from
            raise ConfigError(f"{config_file}: {error}", setting=error.setting) from error
        raise


def derive_project_name(root: Path) -> str:
    """The default project name: the root folder's name, made valid (lowercase, '-')."""
    # The link's own name, not its target's: under git-sync the target is a commit hash, and a
    # project named after it would change with every commit.
    name = root.absolute().name.lower() or Path.cwd().name.lower() or "scheduled"
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in name)
    cleaned = cleaned.strip("-_")[:63] or "scheduled"
    return cleaned


def project_name(settings: Settings, root: Path) -> str:
    return settings.project or derive_project_name(root)


def load_options(settings: Settings, root: Path) -> LoadOptions:
    """How the tree at root is read under these settings."""
    from scheduled.format.loader import LoadOptions

    return LoadOptions(
        project=project_name(settings, root),
        default_workflow=settings.default_workflow,
        default_task_queue=settings.default_task_queue,
        selection=FileSelection(
            include=settings.include or DEFAULT_INCLUDE, exclude=settings.exclude
        ),
        ids_required=settings.include is not None,
    )


def pass_options(
    settings: Settings,
    *,
    project: str,
    revision: Revision,
    allow_mass_delete: bool = False,
    **apply_overrides: Any,
) -> tuple[PlanOptions, ApplyOptions]:
    """The options of one pass from the settings, the same for the CLI and the daemon."""
    from scheduled.reconcile.apply import ApplyOptions
    from scheduled.reconcile.plan import PassContext, PlanOptions

    plan_options = PlanOptions(
        context=PassContext(
            project=project,
            revision=revision,
            respect_operator_pause=settings.respect_operator_pause,
        ),
        now=datetime.now(UTC),
        prune=settings.prune,
        allow_mass_delete=allow_mass_delete,
        max_delete_fraction=settings.max_delete_fraction,
    )
    apply_options = ApplyOptions(
        concurrency=settings.concurrency,
        rate_limit=settings.rate_limit,
        max_attempts=settings.max_attempts,
        **apply_overrides,
    )
    return plan_options, apply_options
