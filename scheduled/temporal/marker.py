"""How `scheduled` encodes what it stores inside Temporal (ownership, write record), and reads it back.

Two places, both returned by `list_schedules` (checked against a real server), so a full resync
needs no call per schedule:

* Ownership lives in the schedule-level memo, `{"scheduled": {"project": ..., "managed_by":
  "scheduled"}}`. Temporal accepts a schedule memo only at create ("memo updates are not
  supported on workflow-backed schedules"), which suits a fact that never changes.
* The record of the last write (fingerprint, source file, the file's `enabled` and `max_runs`,
  revision, the names of the schedule search attributes it set) lives in the comment of one
  extra *exclude* calendar that matches only the year 2000, sent first, before the file's own
  exclusions (`skip`): list results keep only the first 10.
  Temporal returns cron text nowhere and replaces spec, action, policies and state whole on
  update, so the record must be part of the spec; the note would not do, since pausing in the UI
  or CLI overwrites the note with the pause reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from scheduled.model.calendar import Calendar, Range
from scheduled.model.observed import WriteRecord

MEMO_KEY = "scheduled"
MANAGED_BY = "scheduled"
COMMENT_PREFIX = "managed by scheduled: "
# Far in the past and inside the server's accepted year range [2000, 2100]: never excludes a run.
MARKER_YEAR = 2000


def ownership_memo(project: str) -> dict[str, Any]:
    return {MEMO_KEY: {"project": project, "managed_by": MANAGED_BY}}


def owner_from_memo(memo: dict[str, Any] | None) -> str | None:
    """The project that owns a schedule, or None when it is not managed by scheduled."""
    entry = (memo or {}).get(MEMO_KEY)
    if isinstance(entry, dict) and entry.get("managed_by") == MANAGED_BY:
        project = entry.get("project")
        return project if isinstance(project, str) else None
    return None


# The journal of recent writes (scheduled/journal.py) is one paused schedule per project, its
# entries in the note: describe reads it strongly consistent, and an update replaces it whole.
# The id lies outside every project's `schedule-{project}-` prefix, so no pass ever plans it.
JOURNAL_PREFIX = "scheduled-journal-"
JOURNAL_MANAGED_BY = "scheduled-journal"


def journal_schedule_id(project: str) -> str:
    return JOURNAL_PREFIX + project


def journal_memo(project: str) -> dict[str, Any]:
    return {MEMO_KEY: {"project": project, "managed_by": JOURNAL_MANAGED_BY}}


def is_journal_memo(memo: Mapping[str, Any] | None) -> bool:
    """The memo of a project's journal: scheduled's own storage, never a schedule to show."""
    entry = (memo or {}).get(MEMO_KEY)
    return isinstance(entry, dict) and entry.get("managed_by") == JOURNAL_MANAGED_BY


def journal_note(journal: Mapping[str, float]) -> str:
    """Compact JSON: whole seconds are precise enough for a window of minutes."""
    entries = {schedule_id: round(at) for schedule_id, at in sorted(journal.items())}
    return json.dumps({"v": 1, "writes": entries}, separators=(",", ":"))


def parse_journal_note(note: str) -> dict[str, float]:
    """The entries of a journal note; a damaged or foreign note reads as empty."""
    try:
        payload = json.loads(note)
        writes = payload["writes"]
        return {str(key): float(value) for key, value in writes.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def record_calendar(record: WriteRecord) -> Calendar:
    payload: dict[str, Any] = {
        "fp": record.fingerprint,
        "src": record.source,
        "en": record.enabled,
        "rev": record.revision,
        "gen": record.commit_time,
    }
    if record.search_attribute_names:  # absent when none: older records read the same
        payload["sa"] = list(record.search_attribute_names)
    if record.max_runs is not None:  # only when set: records without a limit stay as they were
        payload["max"] = record.max_runs
    return Calendar(
        second=(Range(0, 0, 1),),
        minute=(Range(0, 0, 1),),
        hour=(Range(0, 0, 1),),
        day_of_month=(Range(1, 1, 1),),
        month=(Range(1, 1, 1),),
        year=(Range(MARKER_YEAR, MARKER_YEAR, 1),),
        day_of_week=(Range(0, 6, 1),),
        comment=COMMENT_PREFIX + json.dumps(payload, separators=(",", ":"), sort_keys=True),
    )


def is_record_calendar(calendar: Calendar) -> bool:
    return calendar.comment.startswith(COMMENT_PREFIX)


def parse_record(comment: str) -> WriteRecord | None:
    """The record in a calendar comment; None for any other comment or a damaged one."""
    if not comment.startswith(COMMENT_PREFIX):
        return None
    try:
        payload = json.loads(comment.removeprefix(COMMENT_PREFIX))
        return WriteRecord(
            fingerprint=str(payload["fp"]),
            source=str(payload["src"]),
            enabled=bool(payload["en"]),
            revision=str(payload.get("rev", "")),
            commit_time=int(payload.get("gen", 0)),
            search_attribute_names=tuple(str(name) for name in payload.get("sa", ())),
            max_runs=int(payload["max"]) if payload.get("max") is not None else None,
        )
    except (ValueError, KeyError, TypeError):
        return None
