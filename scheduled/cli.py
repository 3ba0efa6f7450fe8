"""The command line: thin wrappers that parse options, call the core, print and pick the exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from scheduled import __version__
from scheduled.loader import LoadOptions, LoadResult, derive_project_name, load_tree
from scheduled.schema import schema_text
from scheduled.settings import (
    DEFAULT_CONFIG_FILE,
    ConfigError,
    Settings,
    build_settings,
    read_config_file,
)

# Exit codes, one meaning each, so CI can branch on them.
EXIT_OK = 0
EXIT_FAILED = 1  # invalid files, failed operations, not converged
EXIT_USAGE = 2  # bad flags or config (click's own usage errors use 2 as well)
EXIT_CHANGES_PENDING = 2  # `plan` only: the tree and Temporal differ

F = TypeVar("F", bound=Callable[..., Any])


def _setting_options(func: F) -> F:
    """Options every command shares; each also reads SCHEDULED_<NAME> from the environment."""
    options = [
        click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                     envvar="SCHEDULED_CONFIG",
                     help=f"TOML config file (default: ./{DEFAULT_CONFIG_FILE} when present)."),
        click.option("--project", envvar="SCHEDULED_PROJECT",
                     help="Project name, part of every schedule id (default: the root folder's name)."),
        click.option("--default-workflow", envvar="SCHEDULED_DEFAULT_WORKFLOW",
                     help="Workflow type for files that do not name one."),
        click.option("--default-task-queue", envvar="SCHEDULED_DEFAULT_TASK_QUEUE",
                     help="Task queue for files that do not name one."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def resolve_settings(ctx: click.Context, names: list[str]) -> Settings:
    """flag > environment > config file > default, in one place."""
    params = ctx.params
    config_file: Path | None = params.get("config_file")
    file_layer: dict[str, Any] = {}
    try:
        if config_file is not None:
            file_layer = read_config_file(config_file)
        elif Path(DEFAULT_CONFIG_FILE).is_file():
            file_layer = read_config_file(Path(DEFAULT_CONFIG_FILE))
        explicit = {
            name: params[name]
            for name in names
            if name in params
            and ctx.get_parameter_source(name)
            not in (None, click.core.ParameterSource.DEFAULT)
        }
        return build_settings([file_layer, explicit])
    except ConfigError as error:
        raise click.UsageError(str(error)) from error


def load_options(settings: Settings, root: Path) -> LoadOptions:
    return LoadOptions(
        project=settings.project or derive_project_name(root),
        default_workflow=settings.default_workflow,
        default_task_queue=settings.default_task_queue,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="scheduled")
def main() -> None:
    """GitOps for Temporal Schedules.

    A tree of workflow YAML files, each with an optional `schedule:` block, is the source of
    truth; `scheduled` keeps the Temporal schedules of a project equal to it.

    \b
    Start here:
      scheduled validate ROOT     check every file (CI, pre-commit)
      scheduled schema            the JSON Schema, for editors

    Settings come from flags, then SCHEDULED_* environment variables, then a TOML config file
    (./scheduled.toml or --config), then defaults.
    """


@main.command()
@click.argument("root", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json is stable for CI tools.")
@_setting_options
@click.pass_context
def validate(ctx: click.Context, root: Path, output_format: str, **_: Any) -> None:
    """Check every workflow file under ROOT against the format.

    Prints each problem as FILE:LINE:COLUMN, like a compiler. Exit status: 0 when no file has
    an error (warnings allowed), 1 when any file has an error, 2 on a usage error.
    """
    settings = resolve_settings(ctx, ["project", "default_workflow", "default_task_queue"])
    result = load_tree(root, load_options(settings, root), now=datetime.now(UTC))
    if output_format == "json":
        click.echo(json.dumps(_validation_json(result), indent=2))
    else:
        _print_validation(result)
    ctx.exit(EXIT_OK if result.readable and result.error_count == 0 else EXIT_FAILED)


def _validation_json(result: LoadResult) -> dict[str, Any]:
    return {
        "root": str(result.root),
        "readable": result.readable,
        "root_problem": result.root_problem or None,
        "files": len(result.files),
        "schedules": len(result.desired),
        "errors": result.error_count,
        "warnings": result.warning_count,
        "valid": result.readable and result.error_count == 0,
        "diagnostics": [diagnostic.to_json() for diagnostic in result.diagnostics],
    }


def _print_validation(result: LoadResult) -> None:
    if not result.readable:
        click.echo(f"error: {result.root_problem}", err=True)
        return
    for diagnostic in result.diagnostics:
        color = "red" if diagnostic.is_error else "yellow"
        click.echo(click.style(diagnostic.render(), fg=color) if sys.stdout.isatty()
                   else diagnostic.render())
    invalid = len(result.invalid_files)
    click.echo(
        f"checked {len(result.files)} file(s): {len(result.desired)} schedule(s), "
        f"{result.error_count} error(s) in {invalid} file(s), {result.warning_count} warning(s)"
    )


@main.command()
def schema() -> None:
    """Print the JSON Schema (2020-12) of a workflow file, for editors and other tools."""
    click.echo(schema_text(), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
