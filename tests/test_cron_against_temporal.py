"""The cron compiler against a real Temporal server: same calendars, same rejections, same times.

One schedule per corpus string, created paused, described and deleted, 16 at a time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest
from cron_corpus import (
    ACCEPTED,
    REJECTED,
    SHAPE_STARTS,
    SKIP_SHAPES,
    STRICTER_THAN_TEMPORAL,
    WHEN_SHAPES,
)
from file_loading import load_text
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError

from scheduled.format.cron import compile_cron
from scheduled.format.workflow_file import LoadOptions
from scheduled.format.workflow_file import load_text as load_file_text
from scheduled.model.calendar import Interval, next_fire_times
from scheduled.model.desired import DesiredSchedule
from scheduled.model.observed import WriteRecord
from scheduled.reconcile.gateway import ScheduleWrite
from scheduled.temporal.convert import calendar_from_sdk, observed_schedule, sdk_schedule

pytestmark = pytest.mark.temporal

CONCURRENCY = 16


def _temporal_equivalent(text: str) -> str:
    """What to send Temporal for a string scheduled rejects: 6 seconds-first fields get a year."""
    rest = text.strip()
    prefix = ""
    if rest.startswith(("TZ=", "CRON_TZ=")) and " " in rest:
        zone, rest = rest.split(" ", 1)
        prefix = zone + " "
    body, hash_sign, comment = rest.partition("#")
    if len(body.split()) == 6 and not body.lstrip().startswith("@"):
        body = body.rstrip() + " * "
    return prefix + body + hash_sign + comment


async def _each(items: Sequence[str], work: Callable[[int, str], Awaitable[None]]) -> None:
    limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def one(index: int, item: str) -> None:
        async with limiter:
            await work(index, item)

    async with anyio.create_task_group() as group:
        for index, item in enumerate(items):
            group.start_soon(one, index, item)


async def _create_describe_delete(
    client: Client, schedule_id: str, spec: ScheduleSpec
) -> ScheduleDescription:
    handle = await client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                "cron-corpus", id=f"wf-{schedule_id}", task_queue="cron-corpus"
            ),
            spec=spec,
            state=ScheduleState(paused=True),
        ),
    )
    try:
        return await handle.describe()
    finally:
        await handle.delete()


def test_temporal_compiles_every_accepted_string_as_we_do(temporal_address: str) -> None:
    run = uuid.uuid4().hex[:8]
    mismatches: list[str] = []

    async def check(index: int, text: str) -> None:
        compiled = compile_cron(text)
        description = await _create_describe_delete(
            client,
            f"cron-ok-{run}-{index}",
            ScheduleSpec(cron_expressions=[compiled.temporal_form]),
        )
        spec = description.schedule.spec
        theirs = (
            [calendar_from_sdk(c) for c in spec.calendars],
            [Interval(i.every, i.offset or timedelta(0)) for i in spec.intervals],
            spec.time_zone_name or None,
        )
        ours = (
            [compiled.calendar] if compiled.calendar else [],
            [compiled.interval] if compiled.interval else [],
            # Temporal drops CRON_TZ on @every (intervals count in UTC)
            compiled.timezone if compiled.calendar else None,
        )
        if theirs != ours:
            mismatches.append(f"{text!r}:\n  temporal {theirs}\n  ours     {ours}")

    async def main() -> None:
        nonlocal client
        client = await Client.connect(temporal_address)
        await _each(ACCEPTED, check)

    client: Client
    anyio.run(main)
    assert not mismatches, "\n".join(mismatches)


def test_temporal_rejects_what_we_reject(temporal_address: str) -> None:
    run = uuid.uuid4().hex[:8]
    wrong: list[str] = []

    async def check(index: int, text: str) -> None:
        sent = _temporal_equivalent(text)
        try:
            await _create_describe_delete(
                client, f"cron-bad-{run}-{index}", ScheduleSpec(cron_expressions=[sent])
            )
        except (RPCError, ValueError):
            if text in STRICTER_THAN_TEMPORAL:
                wrong.append(f"{sent!r}: Temporal rejects it; drop it from STRICTER_THAN_TEMPORAL")
        else:
            if text not in STRICTER_THAN_TEMPORAL:
                wrong.append(f"{sent!r}: Temporal accepts it but we reject {text!r}")

    async def main() -> None:
        nonlocal client
        client = await Client.connect(temporal_address)
        await _each([text for text, _ in REJECTED], check)

    client: Client
    anyio.run(main)
    assert not wrong, "\n".join(wrong)


# Lists whose entries disagree on CRON_TZ; the server judges the list, not each string.
ZONE_LISTS: list[tuple[tuple[str, ...], str]] = [
    (("CRON_TZ=Asia/Tokyo 0 9 * * *", "0 18 * * *"), ""),
    (("0 18 * * *", "CRON_TZ=Asia/Tokyo 0 9 * * *"), ""),
    (("0 18 * * *", "CRON_TZ=Asia/Tokyo 0 9 * * *"), "Asia/Tokyo"),
    (("CRON_TZ=UTC 0 18 * * *", "0 9 * * *"), ""),
    (("CRON_TZ=Asia/Tokyo 0 9 * * *", "CRON_TZ=Europe/Berlin 0 9 * * *"), ""),
    (("CRON_TZ=Asia/Tokyo 0 9 * * *",), "UTC"),
]
ZONE_LISTS_ACCEPTED: list[tuple[tuple[str, ...], str]] = [
    (("CRON_TZ=Asia/Tokyo 0 9 * * *", "CRON_TZ=Asia/Tokyo 0 18 * * *"), ""),
    (("CRON_TZ=Asia/Tokyo 0 9 * * *",), "Asia/Tokyo"),
]


@pytest.mark.parametrize(("crons", "zone"), [*ZONE_LISTS, *ZONE_LISTS_ACCEPTED])
def test_validate_and_temporal_agree_on_cron_lists_mixing_zones(
    temporal_address: str, tmp_path: Path, crons: tuple[str, ...], zone: str
) -> None:
    lines = "".join(f'    - "{cron}"\n' for cron in crons)
    timezone = f"  timezone: {zone}\n" if zone else ""
    result = load_text(
        tmp_path, f"id: zones\nworkflow: Job\ntask_queue: q\nschedule:\n{timezone}  cron:\n{lines}"
    )
    we_accept = result.schedule is not None

    async def temporal_accepts() -> bool:
        client = await Client.connect(temporal_address)
        try:
            await _create_describe_delete(
                client,
                f"cron-zones-{uuid.uuid4().hex[:8]}",
                ScheduleSpec(cron_expressions=list(crons), time_zone_name=zone),
            )
        except RPCError:
            return False
        return True

    assert we_accept == anyio.run(temporal_accepts), [d.render() for d in result.diagnostics]
    assert we_accept == ((crons, zone) in ZONE_LISTS_ACCEPTED)


# Around the 2027 DST changes (start times in the future, so the server lists them).
DST_CASES: list[tuple[str, str, datetime]] = [
    (cron, zone, start)
    for zone, starts in (
        (
            "America/New_York",
            (datetime(2027, 3, 13, 12), datetime(2027, 11, 6, 12), datetime(2027, 11, 7, 5, 50)),
        ),
        (
            "Europe/Berlin",
            (datetime(2027, 3, 27, 12), datetime(2027, 10, 30, 12), datetime(2027, 10, 31, 0, 50)),
        ),
        ("Australia/Lord_Howe", (datetime(2027, 4, 3, 12), datetime(2027, 10, 2, 12))),
    )
    for start in starts
    for cron in (
        "30 1 * * *",
        "30 2 * * *",
        "0 2 * * *",
        "*/15 1-2 * * *",
        "*/20 * * * *",
        "15 1,2 * * *",
        "0 30 2 * * *",
        "59 59 1 * * * *",
        "0 9 * * 1-5",
        # carries across months and years
        "0 9 31 * *",
        "0 0 29 2 *",
        "0 12 * JAN-MAR MON",
        "0 0 0 1 1 * */3",
        "0 9 13 * 5",
    )
]


def test_next_fire_times_match_temporal_across_dst(temporal_address: str) -> None:
    run = uuid.uuid4().hex[:8]
    mismatches: list[str] = []
    labels = [f"{cron}|{zone}|{start.isoformat()}" for cron, zone, start in DST_CASES]

    async def check(index: int, label: str) -> None:
        cron, zone, start = DST_CASES[index]
        start_at = start.replace(tzinfo=UTC)
        compiled = compile_cron(cron)
        description = await _create_describe_delete(
            client,
            f"cron-dst-{run}-{index}",
            ScheduleSpec(
                cron_expressions=[compiled.temporal_form], time_zone_name=zone, start_at=start_at
            ),
        )
        theirs = list(description.info.next_action_times)
        assert compiled.calendar is not None
        ours = next_fire_times(
            [compiled.calendar],
            [],
            ZoneInfo(zone),
            datetime.now(UTC),
            len(theirs),
            start_at=start_at,
            horizon=timedelta(days=366 * 80),  # the server has no horizon
        )
        if theirs != ours:
            mismatches.append(f"{label}:\n  temporal {theirs}\n  ours     {ours}")

    async def main() -> None:
        nonlocal client
        client = await Client.connect(temporal_address)
        await _each(labels, check)

    client: Client
    anyio.run(main)
    assert not mismatches, "\n".join(mismatches)


def test_the_first_fire_after_start_at_is_the_servers_with_or_without_a_fraction(
    temporal_address: str,
) -> None:
    run = uuid.uuid4().hex[:8]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    start = start.replace(hour=9, minute=0, second=0)
    cases = {
        "exact": start,  # a fire exactly at start_at is the first one
        "fraction": start + timedelta(microseconds=500_000),  # 09:00:00.5
    }
    calendar = compile_cron("0 9 * * *").calendar
    assert calendar is not None
    found: dict[str, tuple[datetime, datetime]] = {}

    async def main() -> None:
        client = await Client.connect(temporal_address)
        for name, start_at in cases.items():
            spec = ScheduleSpec(cron_expressions=["0 9 * * *"], start_at=start_at)
            description = await _create_describe_delete(client, f"start-{run}-{name}", spec)
            theirs = description.info.next_action_times[0]
            ours = next_fire_times(
                [calendar], [], ZoneInfo("UTC"), datetime.now(UTC), 1, start_at=start_at
            )[0]
            found[name] = (theirs, ours)

    anyio.run(main)
    assert found["exact"] == (start, start)
    # Measured: the server counts start_at in whole seconds, so 09:00:00.5 still fires at 09:00.
    assert found["fraction"] == (start, start)


def _shape_file(when: str, skip: str, zone: str, first_day: str) -> str:
    start = date.fromisoformat(first_day)
    skip = re.sub(r"<(-?\d+)>", lambda day: (start + timedelta(days=int(day[1]))).isoformat(), skip)
    return (
        "id: shape\nworkflow: Job\ntask_queue: q\nschedule:\n"
        f"  timezone: {zone}\n  start_at: {first_day}T00:00:00\n  {when}\n"
        f"  skip: {skip}\n"
    )


SHAPE_CASES: list[str] = [
    _shape_file(when, skip, zone, first_day)
    for when in WHEN_SHAPES
    for skip in SKIP_SHAPES
    for zone, first_day in SHAPE_STARTS
]


def _accepted(text: str) -> DesiredSchedule | str:
    """The schedule `validate` accepts in the text, or its errors."""
    result = load_file_text(
        "shape.yaml", text, LoadOptions(project="shapes"), now=datetime(2026, 12, 1, tzinfo=UTC)
    )
    if result.schedule is None:
        return "; ".join(d.render() for d in result.diagnostics if d.is_error)
    return result.schedule


def test_several_specs_and_exclusions_reach_temporal_as_sent_and_fire_as_previewed(
    temporal_address: str,
) -> None:
    """What validate accepts the server accepts, reads back equal (so an unchanged file is no
    update), and fires at the times the preview says: exclusions, several crons, several
    intervals, crons with intervals, in three zones (DST and a new year among the days)."""
    assert len(SHAPE_CASES) >= 200
    run = uuid.uuid4().hex[:8]
    mismatches: list[str] = []
    record = WriteRecord(fingerprint="f", source="shape.yaml", enabled=True)

    async def check(index: int, text: str) -> None:
        schedule = _accepted(text)
        if isinstance(schedule, str):
            mismatches.append(f"{text}\n  validate refused it: {schedule}")
            return
        write = ScheduleWrite(
            project="shapes", schedule=schedule, paused=True, note="", record=record
        )
        try:
            description = await _create_sdk_describe_delete(
                client, f"shape-{run}-{index}", sdk_schedule(write)
            )
        except RPCError as error:
            mismatches.append(f"{text}\n  Temporal refused it: {error}")
            return
        spec = description.schedule.spec
        held = observed_schedule(
            "x", {}, spec, "Job", paused=True, note="", next_runs=(), recent=()
        ).spec
        sent = schedule.spec
        if (held.calendars, held.intervals, held.skip, held.timezone) != (
            sent.calendars,
            sent.intervals,
            sent.skip,
            sent.timezone,
        ):
            mismatches.append(f"{text}\n  reads back as {held}\n  sent          {sent}")
        theirs = list(description.info.next_action_times)
        ours = next_fire_times(
            sent.calendars,
            sent.intervals,
            ZoneInfo(sent.timezone),
            datetime.now(UTC),
            len(theirs),
            start_at=sent.start_at,
            horizon=timedelta(days=366 * 80),
            excludes=sent.skip,
        )
        if not theirs or theirs != ours:
            mismatches.append(f"{text}\n  temporal {theirs}\n  ours     {ours}")

    async def main() -> None:
        nonlocal client
        client = await Client.connect(temporal_address)
        await _each(SHAPE_CASES, check)

    client: Client
    anyio.run(main)
    assert not mismatches, "\n".join(mismatches)


async def _create_sdk_describe_delete(
    client: Client, schedule_id: str, schedule: Schedule
) -> ScheduleDescription:
    handle = await client.create_schedule(schedule_id, schedule)
    try:
        return await handle.describe()
    finally:
        await handle.delete()
