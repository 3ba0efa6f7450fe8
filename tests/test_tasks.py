"""The task group helper: a failure of one task arrives as itself, and cancels the others."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from scheduled.tasks import task_group


class Boom(Exception):
    pass


def test_one_failing_task_is_raised_unwrapped_and_cancels_its_siblings() -> None:
    finished: list[str] = []

    async def fails() -> None:
        await anyio.lowlevel.checkpoint()
        raise Boom("first")

    async def slow() -> None:
        await anyio.sleep(3600)
        finished.append("slow")

    async def main() -> None:
        async with task_group() as group:
            group.start_soon(slow)
            group.start_soon(fails)

    with pytest.raises(Boom, match="first"):
        anyio.run(main)
    assert finished == []


def test_a_failure_in_the_body_is_raised_as_itself_too() -> None:
    async def main() -> None:
        async with task_group() as group:
            group.start_soon(anyio.sleep, 3600)
            raise Boom("body")

    with pytest.raises(Boom, match="body"):
        anyio.run(main)
