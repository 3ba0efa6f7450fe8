"""The port to Temporal: the calls the reconciler makes, and the errors they raise, by kind.

`scheduled.temporal`'s TemporalGateway implements it against a real server; tests swap in an
in-memory fake (tests/fakes.py) that can inject every error kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from scheduled.errors import ScheduledError
from scheduled.model.desired import DesiredSchedule, OverlapPolicy, SearchAttribute
from scheduled.model.observed import ObservedSchedule, WriteRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleWrite:
    """A complete schedule to send: Temporal replaces spec, action, policies and state whole."""

    project: str
    schedule: DesiredSchedule
    paused: bool
    note: str
    record: WriteRecord
    # The schedule's own search attributes after the write, which Temporal keeps apart from
    # the schedule; None: none at create, and left as they are at update.
    search_attributes: tuple[SearchAttribute, ...] | None = None
    # The runs the server may still start (None: no limit): the file's `max_runs` when it is
    # new or changed, else the count the server holds, carried over (an update replaces it).
    remaining_runs: int | None = None
    trigger_immediately: bool = False  # create only: start one run at once


class GatewayError(ScheduledError):
    """A Temporal call failed; `schedule_id` says for which schedule ('' for list/connect)."""

    def __init__(self, message: str, *, schedule_id: str = "", status: str = "") -> None:
        super().__init__(message)
        self.schedule_id = schedule_id
        self.status = status


class TransientGatewayError(GatewayError):
    """Worth retrying: UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, a dropped connection."""


class PermanentGatewayError(GatewayError):
    """Retrying cannot help: INVALID_ARGUMENT, PERMISSION_DENIED and the like."""


class ScheduleExistsError(GatewayError):
    """Create found the id taken (list results lag behind writes)."""


class ScheduleNotFoundError(GatewayError):
    """Describe, update or delete found no schedule with the id."""


class ScheduleGateway(Protocol):
    """Everything the reconciler needs from Temporal, and nothing more: a few calls whose errors
    arrive as the kinds above. The port exists so the planner and apply never see the SDK, and
    so tests drive every failure through an in-memory fake instead of monkeypatching."""

    async def check_health(self) -> None:
        """Return when Temporal answers; TransientGatewayError when it does not (readiness)."""
        ...

    async def list_schedules(self, id_prefix: str, *, query: str = "") -> list[ObservedSchedule]:
        """Every schedule whose id starts with id_prefix ("": any id), owned or not, from the
        list API; `query`, a Temporal visibility query (`Team = "x"`), narrows it further.
        Never the project journals, which are scheduled's own storage."""
        ...

    async def run_status(self, workflow_id: str) -> str:
        """The execution status of the latest run of workflow_id (running, completed, failed,
        terminated, ...; "unknown" when there is none): list results carry a stale one."""
        ...

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        """One schedule with `detail` (policies and action) filled in."""
        ...

    async def read_journal(self, project: str) -> dict[str, float]:
        """The project's journal of recent writes (schedule id -> epoch seconds), read with a
        strongly consistent call; empty when there is none yet."""
        ...

    async def write_journal(self, project: str, journal: Mapping[str, float]) -> None:
        """Replace the project's journal of recent writes."""
        ...

    async def create(self, write: ScheduleWrite) -> None:
        """Create with the ownership marker; ScheduleExistsError when the id is taken."""
        ...

    async def update(self, write: ScheduleWrite) -> None:
        """Replace the whole schedule; ScheduleNotFoundError when it is gone."""
        ...

    async def delete(self, schedule_id: str) -> None:
        """ScheduleNotFoundError when it is gone already."""
        ...

    async def trigger(self, schedule_id: str, *, overlap: OverlapPolicy | None = None) -> None:
        """Start one run now (`scheduled trigger`); `overlap` None: the schedule's own policy.
        ScheduleNotFoundError when there is no such schedule."""
        ...

    async def backfill(
        self,
        schedule_id: str,
        *,
        start: datetime,
        end: datetime,
        overlap: OverlapPolicy | None = None,
    ) -> None:
        """Start the runs the schedule would have started from start to end, both included
        (`scheduled backfill`). ScheduleNotFoundError when there is no such schedule."""
        ...
