"""The plan: desired + observed → operations. A pure function; no I/O, no clock, no Temporal.

Rules, each forced by how Temporal behaves (see ../shared/TEMPORAL_NOTES.md):

* Compare structures, never cron text: the server keeps only compiled calendars.
* Skip no-op updates: an update between the nominal and the jittered fire time has dropped runs,
  and an unchanged tree must make zero writes. "Unchanged" = the stored write record carries the
  desired fingerprint *and* the listed spec, workflow type, note and pause state still match
  (a hand edit in the UI shows up there and is restored).
* Touch only schedules whose ownership memo names this project: an id prefix is not ownership.
* An operator's pause (or unpause) stands until the file changes `enabled`.
* The server counts `max_runs` down: the count is never compared, only whether there is a
  limit, and an update for another reason carries the server's count over (the update would
  reset it); only a change of `max_runs` in the file restarts it.
* A file that exists but is invalid keeps its schedule exactly as it is; so does one that still
  exists but is no longer read as a workflow file (left out by the include/exclude globs, or
  YAML without an `id`): only a file that is really gone deletes its schedule.
* Deletions are guarded: an unreadable or empty tree deletes nothing, and a pass that would
  delete more than a share of the managed schedules is refused unless explicitly allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any

from scheduled.model.desired import DesiredSchedule, Spec, attribute_values, schedule_id_prefix
from scheduled.model.observed import (
    LIST_CALENDAR_LIMIT,
    Detail,
    ObservedSchedule,
    Revision,
    search_attributes_match,
)
from scheduled.model.server_defaults import effective_catchup_window, effective_retry


class Kind(StrEnum):
    """What the plan does with one schedule."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    SKIP = "skip"  # deliberately left alone (invalid file, ended, pruning off, newer replica)
    CONFLICT = "conflict"  # the id is taken by a schedule this project does not own
    BLOCKED = "blocked"  # a deletion refused by the prune guard


WRITES = frozenset({Kind.CREATE, Kind.UPDATE, Kind.DELETE})
# A writer that pauses mid-file must not delete and re-create (that loses history and an
# operator's pause): the deletion waits until the same content is seen once more.
HELD_VANISHED = (
    "its file still exists but has no schedule block: deleted if it stays so for one more "
    "quiet period"
)
# A file moved between folders while a pass walks the tree can be in neither folder's listing
# (os.scandir lists one folder at a time: the target before the move, the source after), and a
# checkout may delete before it writes: a file that is gone is looked for once more as well.
HELD_GONE = (
    "its file is gone: deleted if it is still gone after one more quiet period (a move or a "
    "checkout may be half done)"
)
HELD_FOR_A_SECOND_LOOK = frozenset({(HELD_VANISHED,), (HELD_GONE,)})
# A glob edit that leaves files out, or a file that lost its `id`, says nothing about whether
# the schedule is still wanted; deleting on it would be a mass deletion by configuration.
EXCLUDED = (
    "its file still exists but the include/exclude globs leave it out: the schedule is kept "
    "as it is until the file is removed"
)
NOT_A_WORKFLOW = (
    "its file still exists but is no longer a workflow file (it has no `id`): the schedule "
    "is kept as it is until the file is removed"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldChange:
    """One field of an update, before and after, as people read it (filled in by the diff),
    and as data for tools (JSON values: durations in seconds, times in ISO 8601)."""

    name: str
    before: str
    after: str
    before_value: Any = None
    after_value: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """The decision for one schedule, with everything apply needs to carry it out (the complete
    schedule to write, the pause and note to keep) and the reasons a person reads."""

    kind: Kind
    schedule_id: str
    workflow_id: str
    source: str
    desired: DesiredSchedule | None = None
    observed: ObservedSchedule | None = None
    paused: bool = False  # the pause state to write (create/update)
    note: str = ""  # the note to write (create/update)
    remaining_runs: int | None = None  # the run limit to write (create/update); None: none
    # Write the count the server holds instead (read by apply just before the update): the
    # file's limit is unchanged, and the list, which the plan saw, does not show the count.
    carry_remaining: bool = False
    reasons: tuple[str, ...] = ()
    changes: tuple[FieldChange, ...] = ()

    @property
    def writes(self) -> bool:
        return self.kind in WRITES


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredState:
    """Everything the planner needs from the loaded tree."""

    schedules: Mapping[str, DesiredSchedule]  # by schedule id
    invalid_sources: frozenset[str] = frozenset()  # files that exist but failed validation
    claimed_schedule_ids: frozenset[str] = frozenset()  # named by invalid files: kept as is
    # Files that exist but are not read as workflow files: kept as is, like invalid ones.
    excluded_sources: frozenset[str] = frozenset()  # left out by the include/exclude globs
    not_workflow_sources: frozenset[str] = frozenset()  # YAML that names no `id`
    readable: bool = True
    file_count: int = 0  # workflow files, valid or not
    present_sources: frozenset[str] = frozenset()  # every workflow file in the tree
    scope: frozenset[str] | None = None  # only these files (a daemon's changed set)
    # ...and the schedules those files named in the daemon's previous load: a file renamed or
    # deleted may have held an id whose schedule's record names another file.
    scope_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class PassContext:
    """Who writes what: the project, the tree's revision and whether an operator's pause stands.

    The planner decides with it and apply writes it (ownership marker, write record); a create
    that finds its schedule already there is planned again with the same context."""

    project: str
    revision: Revision = field(default_factory=Revision)  # newer ones applied elsewhere win
    respect_operator_pause: bool = True
    # Revisions seen in Temporal's write records, ordered against ours by git ancestry: True
    # when that revision descends from ours (newer), False when ours descends from it or it is
    # ours. A revision not in here is ordered by commit time (git could not tell).
    newer_by_ancestry: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanOptions:
    context: PassContext
    now: datetime
    prune: bool = True
    allow_mass_delete: bool = False
    max_delete_fraction: float = 0.5
    recently_deleted: int = 0  # by earlier passes of this window (the daemon's resync interval)
    # The daemon's rule for a file that lost its `schedule:` block or is gone: delete only once
    # the same content (or the same absence) is seen again a quiet period later
    # (`confirmed_vanished`).
    hold_vanished_blocks: bool = False
    confirmed_vanished: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Every decision of one pass, sorted by schedule id, before anything is written.

    It exists so that `plan` can show exactly what `apply` would do, and so the decisions can be
    tested as a pure function: apply only carries out its writes."""

    operations: tuple[Operation, ...]
    managed: int  # schedules owned by this project before the plan
    context: PassContext
    guard_message: str = ""  # why deletions were refused, if they were

    def of_kind(self, *kinds: Kind) -> list[Operation]:
        return [operation for operation in self.operations if operation.kind in kinds]

    @property
    def has_changes(self) -> bool:
        return any(operation.writes for operation in self.operations)

    def counts(self) -> dict[str, int]:
        counts = {str(kind): 0 for kind in Kind}
        for operation in self.operations:
            counts[str(operation.kind)] += 1
        return counts


def make_plan(
    desired: DesiredState, observed: Iterable[ObservedSchedule], options: PlanOptions
) -> Plan:
    """Decide, for each schedule of the tree and each managed one in Temporal, what to do.

    Pure: the same inputs give the same plan. Never writes and never raises for content."""
    project = options.context.project
    prefix = schedule_id_prefix(project)
    observed_by_id = {
        item.schedule_id: item for item in observed if item.schedule_id.startswith(prefix)
    }
    managed = [item for item in observed_by_id.values() if item.owner == project]
    operations: list[Operation] = []

    in_scope = _scope_filter(desired)
    for schedule_id, schedule in sorted(desired.schedules.items()):
        if not in_scope(schedule.source, schedule_id):
            continue
        operations.append(
            plan_schedule(schedule, observed_by_id.get(schedule_id), options.context, options.now)
        )

    deletions: list[Operation] = []
    for item in sorted(managed, key=lambda entry: entry.schedule_id):
        if item.schedule_id in desired.schedules:
            continue
        source = item.record.source if item.record else ""
        if not in_scope(source, item.schedule_id):
            continue
        operation = _plan_orphan(item, source, desired, options, prefix)
        (deletions if operation.kind is Kind.DELETE else operations).append(operation)

    guard_message = _guard_message(desired, len(deletions), len(managed), options)
    if guard_message:
        deletions = [
            _replace_kind(operation, Kind.BLOCKED, guard_message) for operation in deletions
        ]
    operations.extend(deletions)
    behind = _behind_message(managed, options.context)
    if behind:
        # A replica on an older commit must write nothing at all: not overwrite, not delete,
        # and not re-create what the newer one deleted (a deletion leaves no record to compare).
        operations = [
            _replace_kind(operation, Kind.BLOCKED, behind) if operation.writes else operation
            for operation in operations
        ]
    operations.sort(key=lambda operation: operation.schedule_id)
    return Plan(
        operations=tuple(operations),
        managed=len(managed),
        context=options.context,
        guard_message=guard_message or behind,
    )


def _behind_message(managed: list[ObservedSchedule], context: PassContext) -> str:
    """Why this tree must not write: a newer revision was applied here already. Only comparable
    when both revisions are known: a tree that is not a git checkout never blocks or is
    blocked. Git ancestry decides where git knows both commits (a revert is a new commit, so
    it is newer; a reset to an old commit is older); otherwise the commit times do."""
    if not context.revision.commit_time:
        return ""
    newer = [
        item.record
        for item in managed
        if item.record is not None
        and _is_newer(item.record.revision, item.record.commit_time, context)
    ]
    if not newer:
        return ""
    newest = max(newer, key=lambda record: record.commit_time)
    return (
        f"a newer revision ({newest.revision or newest.commit_time}) was applied, probably by "
        "another replica: this tree is behind, so it writes nothing (to roll back, commit a "
        "revert rather than resetting to an older commit)"
    )


def _is_newer(name: str, commit_time: int, context: PassContext) -> bool:
    if name and name == context.revision.name:
        return False
    if name in context.newer_by_ancestry:
        return context.newer_by_ancestry[name]
    return bool(commit_time) and commit_time > context.revision.commit_time


def revisions_to_order(observed: Iterable[ObservedSchedule], context: PassContext) -> set[str]:
    """The revisions of the write records that git should order against ours."""
    if not context.revision.name or not context.revision.commit_time:
        return set()
    return {
        item.record.revision
        for item in observed
        if item.record is not None
        and item.record.revision
        and item.record.revision != context.revision.name
        and item.owner == context.project
    }


def _scope_filter(desired: DesiredState) -> Callable[[str, str], bool]:
    if desired.scope is None:
        return lambda source, schedule_id: True
    scope = desired.scope
    scoped_ids = {
        schedule_id
        for schedule_id, schedule in desired.schedules.items()
        if schedule.source in scope
    }
    scoped_ids |= desired.scope_ids
    return lambda source, schedule_id: source in scope or schedule_id in scoped_ids


def plan_schedule(
    schedule: DesiredSchedule,
    observed: ObservedSchedule | None,
    context: PassContext,
    now: datetime,
) -> Operation:
    """The operation for one desired schedule. Also used by apply when a create finds the
    schedule already there (the list was behind) and it has been described."""
    base = partial(
        Operation,
        schedule_id=schedule.schedule_id,
        workflow_id=schedule.workflow_id,
        source=schedule.source,
        desired=schedule,
        observed=observed,
    )
    if observed is None:
        end_at = schedule.spec.end_at
        if end_at is not None and end_at <= now:
            return base(kind=Kind.SKIP, reasons=("end_at is in the past: not created",))
        return base(
            kind=Kind.CREATE,
            paused=schedule.paused,
            note=schedule.note,
            remaining_runs=schedule.max_runs,
            reasons=("new in the tree",),
        )
    if observed.owner != context.project:
        owner = f"project {observed.owner!r}" if observed.owner else "no scheduled project"
        return base(
            kind=Kind.CONFLICT,
            reasons=(
                f"a schedule with this id already exists and belongs to {owner}; it is left "
                "alone (use `scheduled adopt` to take it over)",
            ),
        )
    paused, note, kept_by_operator = _pause_and_note(schedule, observed, context)
    remaining, carry = runs_to_write(schedule, observed)
    runs = partial(base, paused=paused, note=note, remaining_runs=remaining, carry_remaining=carry)
    reasons = _update_reasons(schedule, observed, paused=paused, note=note)
    if not reasons:
        kept = (_kept_pause(observed),) if kept_by_operator and paused else ()
        return runs(kind=Kind.UNCHANGED, reasons=kept)
    return runs(kind=Kind.UPDATE, reasons=tuple(reasons))


def runs_to_write(schedule: DesiredSchedule, observed: ObservedSchedule) -> tuple[int | None, bool]:
    """The run limit an update writes, and whether apply must read the server's count first.

    Temporal's update replaces the state whole, so the count the server has counted down to
    must be sent back, or every edit (a cron change) would restart it. A `max_runs` that is
    new or changed in the file restarts the count at the new value."""
    wanted = schedule.max_runs
    record = observed.record
    if wanted is None or record is None or record.max_runs != wanted:
        return wanted, False
    detail = observed.detail
    if detail is not None and detail.remaining_runs is None:
        return wanted, False  # a limit removed outside scheduled is restored at the file's value
    # Read again just before the update even when the plan described the schedule: a pass of
    # many schedules can take long enough for a busy one to fire several times meanwhile.
    held = detail.remaining_runs if detail is not None else None
    return (held if held is not None else wanted), True


def _kept_pause(observed: ObservedSchedule) -> str:
    if observed.paused_on_failure:
        return f"paused by pause_on_failure ({observed.note}); kept until someone unpauses it"
    return "paused by an operator; kept"


def _pause_and_note(
    schedule: DesiredSchedule, observed: ObservedSchedule, context: PassContext
) -> tuple[bool, str, bool]:
    """The pause state and note to write, and whether they are an operator's that stand: a
    pause (or unpause) made in the UI or CLI stays until the file changes `enabled`."""
    record = observed.record
    operator_override = record is not None and observed.paused != (not record.enabled)
    file_changed_enabled = record is None or record.enabled != schedule.enabled
    keep = context.respect_operator_pause and operator_override and not file_changed_enabled
    if keep:
        return observed.paused, observed.note, True
    return schedule.paused, schedule.note, False


def _update_reasons(
    schedule: DesiredSchedule, observed: ObservedSchedule, *, paused: bool, note: str
) -> list[str]:
    """Why the schedule must be written; empty when Temporal already holds the file."""
    record = observed.record
    reasons: list[str] = []
    file_changed = record is None or record.fingerprint != schedule.fingerprint
    if record is None:
        reasons.append(
            "no write record of scheduled on the schedule (first write, or edited by hand)"
        )
    elif record.fingerprint != schedule.fingerprint:
        reasons.append("the file changed")
    # With an unchanged file, a difference in what Temporal shows can only be an edit made
    # outside scheduled (the UI, the CLI, an SDK): say so, and restore the file's version.
    if not file_changed:
        if not spec_matches(schedule.spec, observed.spec):
            reasons.append("the spec in Temporal differs from the file (edited outside scheduled?)")
        if observed.workflow_type != schedule.action.workflow_type:
            reasons.append(
                "the workflow type in Temporal differs from the file (edited outside scheduled?)"
            )
        if observed.note != note:
            reasons.append("the note in Temporal differs")
        if not search_attributes_match(schedule, observed):
            reasons.append(
                "the search attributes in Temporal differ from the file (edited outside scheduled?)"
            )
        drifted = detail_drift(schedule, observed.detail) if observed.detail else []
        if drifted:
            reasons.append(
                f"{', '.join(drifted)} in Temporal differ from the file (edited outside scheduled?)"
            )
    if observed.paused != paused:
        reasons.append("pause" if paused else "unpause")
    if record is not None and record.source != schedule.source:
        reasons.append(f"the file moved from {record.source}")
    return reasons


def detail_drift(schedule: DesiredSchedule, detail: Detail) -> list[str]:
    """The fields only a describe shows (action, policies) where Temporal differs from the
    file, compared as Temporal holds them: a default the server filled in is no difference."""
    desired, held = schedule.action, detail.action
    pairs: list[tuple[str, object, object]] = [
        ("task_queue", desired.task_queue, held.task_queue),
        ("workflow_id", desired.workflow_id, held.workflow_id),
        ("args", desired.args_json, held.args_json),
        ("memo", desired.memo_json, held.memo_json),
        ("summary", desired.summary, held.summary),
        ("details", desired.details, held.details),
        ("priority", desired.priority, held.priority),
        (
            "workflow_search_attributes",
            attribute_values(desired.search_attributes),
            attribute_values(held.search_attributes),
        ),
        ("retry", effective_retry(desired.retry), effective_retry(held.retry)),
        ("overlap_policy", schedule.policies.overlap, detail.policies.overlap),
        (
            "catchup_window",
            effective_catchup_window(schedule.policies.catchup_window),
            effective_catchup_window(detail.policies.catchup_window),
        ),
        ("pause_on_failure", schedule.policies.pause_on_failure, detail.policies.pause_on_failure),
        # Whether there is a limit, never the count: the server counts it down.
        ("max_runs", schedule.max_runs is not None, detail.remaining_runs is not None),
    ]
    for name in ("execution_timeout", "run_timeout", "task_timeout"):
        # Temporal reads an unset timeout back as zero.
        pairs.append((name, getattr(desired, name) or None, getattr(held, name) or None))
    return [name for name, want, have in pairs if want != have]


def _plan_orphan(
    item: ObservedSchedule,
    source: str,
    desired: DesiredState,
    options: PlanOptions,
    prefix: str,
) -> Operation:
    base = partial(
        Operation,
        schedule_id=item.schedule_id,
        workflow_id=item.schedule_id.removeprefix(prefix),
        source=source,
        observed=item,
        paused=item.paused,
        note=item.note,
    )
    if (
        _protected(source, desired.invalid_sources)
        or item.schedule_id in desired.claimed_schedule_ids
    ):
        return base(
            kind=Kind.SKIP,
            reasons=("its file is invalid: the schedule is kept as it is until the file is fixed",),
        )
    if _protected(source, desired.excluded_sources):
        return base(kind=Kind.SKIP, reasons=(EXCLUDED,))
    if source in desired.not_workflow_sources:
        return base(kind=Kind.SKIP, reasons=(NOT_A_WORKFLOW,))
    if not options.prune:
        return base(kind=Kind.SKIP, reasons=("its file is gone, but pruning is off",))
    if options.hold_vanished_blocks and source not in options.confirmed_vanished:
        held = HELD_VANISHED if source in desired.present_sources else HELD_GONE
        return base(kind=Kind.SKIP, reasons=(held,))
    return base(kind=Kind.DELETE, reasons=("its file is gone or has no schedule",))


def _protected(source: str, sources: frozenset[str]) -> bool:
    """The file is one of these, or lies in a folder among them that could not be read (listed
    as `folder/`)."""
    if source in sources:
        return True
    return any(folder.endswith("/") and source.startswith(folder) for folder in sources)


def _guard_message(
    desired: DesiredState, deletions: int, managed: int, options: PlanOptions
) -> str:
    if deletions == 0:
        return ""
    if not desired.readable:
        return "the tree cannot be read (unmounted or missing?): nothing is deleted"
    if desired.file_count == 0:
        return "the tree has no workflow files (empty checkout?): nothing is deleted"
    if options.allow_mass_delete:
        return ""
    # Deletions already made in this window count too: a mass deletion spread over several
    # small batches (a slow `git pull`, a script removing files one by one) is still one.
    recent = options.recently_deleted
    total, base = deletions + recent, managed + recent
    if base and total > options.max_delete_fraction * base:
        earlier = f" ({recent} of them deleted in the last resync interval)" if recent else ""
        return (
            f"this would delete {total} of the {base} managed schedules{earlier}, more than "
            f"{options.max_delete_fraction:.0%}; check the tree, then pass --allow-mass-delete "
            "if it is meant"
        )
    return ""


def _replace_kind(operation: Operation, kind: Kind, reason: str) -> Operation:
    return replace(operation, kind=kind, reasons=(reason,))


def spec_matches(desired: Spec, observed: Spec) -> bool:
    """Compare what `list` shows: the list cuts each calendar list to its first 10 entries."""
    return (
        desired.calendars[:LIST_CALENDAR_LIMIT] == observed.calendars[:LIST_CALENDAR_LIMIT]
        and desired.intervals[:LIST_CALENDAR_LIMIT] == observed.intervals[:LIST_CALENDAR_LIMIT]
        and desired.timezone == observed.timezone
        and desired.jitter == observed.jitter
        and desired.start_at == observed.start_at
        and desired.end_at == observed.end_at
        # The write record is the first exclude calendar, so a list shows 9 of the file's.
        and desired.skip[: LIST_CALENDAR_LIMIT - 1] == observed.skip[: LIST_CALENDAR_LIMIT - 1]
    )


def desired_state_from(
    schedules: Iterable[DesiredSchedule],
    *,
    invalid_sources: Iterable[str] = (),
    claimed_workflow_ids: Iterable[str] = (),
    excluded_sources: Iterable[str] = (),
    not_workflow_sources: Iterable[str] = (),
    project: str,
    readable: bool = True,
    file_count: int = 0,
    present_sources: Iterable[str] = (),
    scope: Iterable[str] | None = None,
    scope_ids: Iterable[str] = (),
) -> DesiredState:
    prefix = schedule_id_prefix(project)
    return DesiredState(
        schedules={schedule.schedule_id: schedule for schedule in schedules},
        invalid_sources=frozenset(invalid_sources),
        claimed_schedule_ids=frozenset(
            prefix + workflow_id for workflow_id in claimed_workflow_ids
        ),
        excluded_sources=frozenset(excluded_sources),
        not_workflow_sources=frozenset(not_workflow_sources),
        readable=readable,
        file_count=file_count,
        present_sources=frozenset(present_sources),
        scope=frozenset(scope) if scope is not None else None,
        scope_ids=frozenset(scope_ids),
    )


__all__ = [
    "DesiredState",
    "FieldChange",
    "Kind",
    "Operation",
    "PassContext",
    "Plan",
    "PlanOptions",
    "desired_state_from",
    "make_plan",
    "plan_schedule",
    "revisions_to_order",
    "runs_to_write",
    "spec_matches",
]
