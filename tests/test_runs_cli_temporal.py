"""`scheduled trigger` and `scheduled backfill` against the real dev server, through click's
CliRunner (the `cli` fixture of test_cli_temporal), and how `list`/`get` show `max_runs`.
Started runs are counted by listing the workflows the schedule started."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from reconcile_helpers import Env
from test_cli_temporal import CRON, Cli, assert_matches, contract

from scheduled.devserver import free_port

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


def started(cli: Cli, workflow_id: str, at_least: int) -> list[str]:
    found: list[str] = []

    async def count(env: Env) -> None:
        found.extend(await env.started_workflows(workflow_id, at_least=at_least))
        await env.terminate_started(workflow_id)

    cli.env(count)
    return found


def applied(cli: Cli, **fields: object) -> None:
    cli.write("job", **fields)
    assert cli("apply", str(cli.root)).exit_code == 0


def test_trigger_starts_one_run_per_call(cli: Cli) -> None:
    applied(cli, cron=CRON)
    first = cli("trigger", "job", str(cli.root))
    assert first.exit_code == 0, first.output
    assert f"triggered schedule-{cli.project}-job: one run starts now" in first.output
    # A triggered run's id is the workflow id plus the time to the second: a second trigger
    # within the same second would find that id taken and start nothing (seen on a dev server).
    time.sleep(1.1)
    again = cli("trigger", "job", str(cli.root), "--overlap", "allow_all")
    assert again.exit_code == 0, again.output
    assert len(started(cli, "job", at_least=2)) == 2


def test_trigger_json_follows_its_contract(cli: Cli) -> None:
    applied(cli, cron=CRON)
    done = cli("trigger", "job", str(cli.root), "--format", "json", "--overlap", "allow")
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert_matches("trigger", document)
    assert (document["workflow_id"], document["overlap"]) == ("job", "allow_all")
    assert len(started(cli, "job", at_least=1)) == 1


def test_backfill_starts_the_runs_of_the_window_read_in_the_schedules_zone(cli: Cli) -> None:
    applied(cli, cron=CRON, timezone="Europe/Berlin")  # 09:00 in Berlin is 08:00Z in winter
    done = cli(
        "backfill",
        "job",
        str(cli.root),
        "--from",
        "2026-01-01T00:00",
        "--to",
        "2026-01-03T09:00",  # both ends are included
        "--overlap",
        "allow_all",
        "--format",
        "json",
    )
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert_matches("backfill", document)
    assert (document["from"], document["to"]) == (
        "2026-01-01T00:00:00+01:00",
        "2026-01-03T09:00:00+01:00",
    )
    runs = started(cli, "job", at_least=3)
    assert [run[-20:] for run in runs] == [
        "2026-01-01T08:00:00Z",
        "2026-01-02T08:00:00Z",
        "2026-01-03T08:00:00Z",
    ]


def test_backfill_says_what_it_sent(cli: Cli) -> None:
    applied(cli, cron=CRON)
    done = cli(
        "backfill", "job", str(cli.root), "--from", "2026-02-01", "--to", "2026-02-01T09:00Z"
    )
    assert done.exit_code == 0, done.output
    assert "the runs from 2026-02-01T00:00:00+00:00 to 2026-02-01T09:00:00+00:00" in done.output
    assert len(started(cli, "job", at_least=1)) == 1


def test_an_unknown_id_is_a_usage_error(cli: Cli) -> None:
    applied(cli, cron=CRON)
    done = cli("trigger", f"schedule-{cli.project}-job", str(cli.root))
    assert done.exit_code == 64
    assert "no workflow file under the tree has id" in done.stderr
    assert "the file's `id`, not the schedule id" in done.stderr


def test_a_schedule_not_applied_yet_asks_for_apply(cli: Cli) -> None:
    cli.write("job", cron=CRON)
    for command in (["trigger"], ["backfill", "--from", "2026-01-01", "--to", "2026-01-02"]):
        name, *flags = command
        done = cli(name, "job", str(cli.root), *flags)
        assert done.exit_code == 1, done.output
        assert "is not in Temporal yet; run `scheduled apply` first" in done.stderr


def test_from_not_before_to_is_a_usage_error_and_sends_nothing(cli: Cli) -> None:
    applied(cli, cron=CRON)
    done = cli(
        "backfill",
        "job",
        str(cli.root),
        "--from",
        "2026-01-02",
        "--to",
        "2026-01-01",
        "--format",
        "json",
    )
    assert done.exit_code == 64
    assert "must be before --to" in done.stderr
    document = json.loads(done.stdout)
    assert not list(contract("error").iter_errors(document))
    assert (document["command"], document["error"]["kind"]) == ("backfill", "usage")
    assert started(cli, "job", at_least=0) == []


def test_a_time_that_is_not_iso_8601_is_a_usage_error(cli: Cli) -> None:
    applied(cli, cron=CRON)
    done = cli("backfill", "job", str(cli.root), "--from", "yesterday", "--to", "2026-01-01")
    assert done.exit_code == 64
    assert "--from 'yesterday' is not an ISO 8601 time" in done.output


def test_a_schedule_this_project_does_not_manage_is_refused(cli: Cli) -> None:
    async def unmarked(env: Env) -> None:
        await env.create_unmarked("job")

    cli.env(unmarked)
    cli.write("job", cron=CRON)
    done = cli("trigger", "job", str(cli.root))
    assert done.exit_code == 1
    assert "belongs to no scheduled project" in done.stderr
    assert started(cli, "job", at_least=0) == []


def test_list_and_get_show_the_runs_left(cli: Cli) -> None:
    applied(cli, cron=CRON, max_runs=4)
    cli.settled()
    row = cli.get("job")
    assert (row["max_runs"], row["runs_left"], row["in_sync"]) == (4, 4, True)
    listed = cli("list", str(cli.root), "--format", "json")
    document = json.loads(listed.stdout)
    assert_matches("list", document)
    (schedule,) = document["schedules"]
    assert (schedule["max_runs"], schedule["runs_left"]) == (4, 4)
    assert "at 09:00; 4 of 4 runs left" in cli("list", str(cli.root)).output


def test_a_reversed_range_in_one_zone_is_refused_before_any_server_is_asked(
    cli: Cli, tmp_path: Path
) -> None:
    cli.write("job", cron=CRON)
    closed = f"127.0.0.1:{free_port()}"  # nothing listens: a connection would fail with 1
    for first, last in (("2026-01-02", "2026-01-01"), ("2026-01-01T10:00Z", "2026-01-01T09:00Z")):
        done = cli(
            "backfill", "job", str(cli.root), "--from", first, "--to", last, "--address", closed
        )
        assert done.exit_code == 64, done.output
        assert "must be before --to" in done.stderr
