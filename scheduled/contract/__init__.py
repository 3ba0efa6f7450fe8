"""The JSON contract: what `--format json` prints, versioned, with published JSON Schemas.

Every command prints one object with `format_version` and `command`, and the same vocabulary:
an operation's `kind` is what the plan decided (create, update, delete, unchanged, skip,
conflict, blocked) in `plan` and `apply` alike, and `apply` adds each one's `status` (done,
failed, cancelled). Counts are keyed by those words. The diagnostics of invalid files are in
every document that loaded the tree. `scheduled schema --output NAME` prints the schemas; the
tests validate real outputs against them. A change that breaks a reader bumps FORMAT_VERSION.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from scheduled.format.loader import LoadResult
from scheduled.reconcile.apply import ApplyReport, OperationResult, Outcome
from scheduled.reconcile.plan import Kind, Operation, Plan

FORMAT_VERSION = 1
DOCUMENTS = ("validate", "plan", "apply", "list", "get", "trigger", "backfill", "error")
KINDS = tuple(str(kind) for kind in Kind)
STATUSES = ("done", "failed", "cancelled")
_STATUS = {Outcome.FAILED: "failed", Outcome.CANCELLED: "cancelled"}


def schema_text(name: str) -> str:
    """The JSON Schema of one document (`DOCUMENTS`)."""
    return resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")


def _document(command: str, **fields: Any) -> dict[str, Any]:
    return {"format_version": FORMAT_VERSION, "command": command, **fields}


def _tree(load: LoadResult, display: str) -> dict[str, Any]:
    return {
        "root": display,
        "readable": load.readable,
        "root_problem": load.root_problem or None,
        "files": len(load.files),
        "schedules": len(load.desired),
        "errors": load.error_count,
        "warnings": load.warning_count,
        "invalid_files": sorted(load.invalid_files),
        "not_workflow_files": sorted(load.not_workflow_files),
        "excluded_files": sorted(load.excluded),
    }


def diagnostics(load: LoadResult, path_of: Any = str) -> list[dict[str, Any]]:
    """Each diagnostic, with `file` as the caller displays it (relative to where it runs)."""
    return [{**item.to_json(), "file": path_of(item.file)} for item in load.diagnostics]


def validate_document(load: LoadResult, *, root: str, path_of: Any = str) -> dict[str, Any]:
    return _document(
        "validate",
        valid=load.readable and load.error_count == 0,
        tree=_tree(load, root),
        diagnostics=diagnostics(load, path_of),
    )


def operation_data(operation: Operation) -> dict[str, Any]:
    return {
        "kind": str(operation.kind),
        "schedule_id": operation.schedule_id,
        "workflow_id": operation.workflow_id,
        "source": operation.source,
        "reasons": list(operation.reasons),
        "changes": [
            {
                "field": change.name,
                "before": change.before_value,
                "after": change.after_value,
                "text": f"{change.name}: {change.before} → {change.after}",
            }
            for change in operation.changes
        ],
        "paused": operation.paused if operation.writes else None,
    }


def plan_document(plan: Plan, load: LoadResult, *, root: str, path_of: Any = str) -> dict[str, Any]:
    return _document(
        "plan",
        changes_pending=plan.has_changes,
        counts=plan.counts(),
        managed=plan.managed,
        guard=plan.guard_message or None,
        revision=plan.context.revision.name or None,
        operations=[operation_data(operation) for operation in plan.operations],
        tree=_tree(load, root),
        diagnostics=diagnostics(load, path_of),
    )


def result_data(result: OperationResult) -> dict[str, Any]:
    return {
        "kind": str(result.kind),
        "status": _STATUS.get(result.outcome, "done"),
        "schedule_id": result.schedule_id,
        "workflow_id": result.workflow_id,
        "source": result.source,
        "reason": result.reason,
        "duration_s": round(result.duration_s, 4),
        "attempts": result.attempts,
    }


def apply_counts(report: ApplyReport) -> dict[str, int]:
    """Done operations by kind, then the failed and the cancelled ones."""
    counts = dict.fromkeys((*KINDS, "failed", "cancelled"), 0)
    for result in report.results:
        status = _STATUS.get(result.outcome, "done")
        counts[str(result.kind) if status == "done" else status] += 1
    return counts


def apply_document(
    report: ApplyReport,
    load: LoadResult,
    *,
    root: str,
    converged: bool,
    journal_error: str = "",
    path_of: Any = str,
) -> dict[str, Any]:
    return _document(
        "apply",
        converged=converged,
        stopped=report.stopped,
        elapsed_s=round(report.elapsed_s, 3),
        counts=apply_counts(report),
        journal_error=journal_error or None,
        operations=[result_data(result) for result in report.results],
        tree=_tree(load, root),
        diagnostics=diagnostics(load, path_of),
    )


def list_document(
    rows: list[dict[str, Any]], load: LoadResult, *, root: str, path_of: Any = str
) -> dict[str, Any]:
    return _document(
        "list", schedules=rows, tree=_tree(load, root), diagnostics=diagnostics(load, path_of)
    )


def get_document(row: dict[str, Any]) -> dict[str, Any]:
    return _document("get", schedule=row)


def runs_document(command: str, sent: dict[str, Any]) -> dict[str, Any]:
    """What `trigger` and `backfill` sent: the schedule, and the backfill's window."""
    return _document(command, **sent)


def error_document(command: str, message: str, *, kind: str) -> dict[str, Any]:
    """What a command prints on stdout with --format json when it could not do its work."""
    return _document(command, error={"kind": kind, "message": message})
