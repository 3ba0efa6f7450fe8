"""Plan options for tests, from flat keywords: the pass context's fields sit beside the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scheduled.model.observed import Revision
from scheduled.reconcile.plan import PassContext, PlanOptions


def plan_options(
    project: str,
    *,
    now: datetime | None = None,
    respect_operator_pause: bool = True,
    revision: str = "",
    commit_time: int = 0,
    newer_by_ancestry: dict[str, bool] | None = None,
    **rest: Any,
) -> PlanOptions:
    context = PassContext(
        project=project,
        revision=Revision(revision, commit_time),
        respect_operator_pause=respect_operator_pause,
        newer_by_ancestry=newer_by_ancestry or {},
    )
    return PlanOptions(context=context, now=now or datetime.now(UTC), **rest)
