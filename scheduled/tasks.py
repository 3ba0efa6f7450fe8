"""A task group whose one failure arrives as itself, not wrapped in an ExceptionGroup.

anyio wraps every failure of a task group in an ExceptionGroup. The callers here fan out reads
(list while loading, describe many) or run a pass beside a signal receiver, and handle typed
errors (`GatewayError`, `ScheduledError`) exactly as they would without concurrency; the first
failure cancels the rest, so the first is also the one worth reporting.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import anyio.abc


@contextlib.asynccontextmanager
async def task_group() -> AsyncIterator[anyio.abc.TaskGroup]:
    """`anyio.create_task_group()`, re-raising the first real failure of its tasks unwrapped."""
    try:
        async with anyio.create_task_group() as group:
            yield group
    except BaseExceptionGroup as failures:
        raise first_failure(failures) from None


def first_failure(failures: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf that is not a cancellation (cancellations follow from the failure)."""
    leaves = list(_leaves(failures))
    cancelled = anyio.get_cancelled_exc_class()
    return next((leaf for leaf in leaves if not isinstance(leaf, cancelled)), leaves[0])


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]
