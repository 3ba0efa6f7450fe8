"""`scheduled plan/apply/list/get/adopt` against the real dev server, through click's CliRunner
(TEMPORAL_ADDRESS in the environment, as a user would set it)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import temporalio.client as tc
from click.testing import CliRunner, Result
from reconcile_helpers import Env, run_env
from trees import workflow_yaml, write_workflow

from scheduled.cli import main
from scheduled.contract import schema_text as contract_schema_text
from scheduled.temporal.marker import MEMO_KEY, ownership_memo

pytestmark = pytest.mark.temporal

CRON = "0 9 * * *"


class Cli:
    def __init__(self, address: str, project: str, root: Path) -> None:
        self.address, self.project, self.root = address, project, root
        self.runner = CliRunner(env={"TEMPORAL_ADDRESS": address, "SCHEDULED_CONFIG": None})

    def __call__(self, *args: str) -> Result:
        command, *rest = args
        return self.runner.invoke(
            main, [command, *rest, "--project", self.project], catch_exceptions=False
        )

    def get(self, workflow_id: str) -> dict[str, Any]:
        """`scheduled get`'s schedule."""
        done = self("get", workflow_id, str(self.root))
        assert done.exit_code == 0, done.output
        schedule: dict[str, Any] = json.loads(done.stdout)["schedule"]
        return schedule

    def write(self, workflow_id: str, **fields: Any) -> None:
        write_workflow(self.root, f"{workflow_id}.yaml", workflow_yaml(workflow_id, **fields))

    def env(self, body: Callable[[Env], Awaitable[None]]) -> None:
        run_env(self.address, self.project, self.root, body)

    def settled(self) -> None:
        async def wait(env: Env) -> None:
            await env.settled()

        self.env(wait)


@pytest.fixture
def cli(
    temporal_address: str, project_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.chdir(tmp_path)  # no stray ./scheduled.toml
    root = tmp_path / "tree"
    root.mkdir()
    return Cli(temporal_address, project_name, root)


def test_plan_and_apply_exit_codes(cli: Cli) -> None:
    cli.write("job", cron=CRON)
    pending = cli("plan", str(cli.root))
    assert pending.exit_code == 2, pending.output
    assert f"+ create    schedule-{cli.project}-job" in pending.output

    applied = cli("apply", str(cli.root))
    assert applied.exit_code == 0, applied.output
    assert "apply converged" in applied.output
    cli.settled()
    clean = cli("plan", str(cli.root))
    assert clean.exit_code == 0, clean.output
    assert "0 to create, 0 to update" in clean.output

    write_workflow(cli.root, "broken.yaml", "id: broken\nschedule: [oops\n")
    assert cli("plan", str(cli.root)).exit_code == 1
    broken = cli("apply", str(cli.root))
    assert broken.exit_code == 1
    assert "broken.yaml" in broken.stderr


def test_plan_and_apply_exit_1_on_a_conflict(cli: Cli) -> None:
    async def unmarked(env: Env) -> None:
        await env.create_unmarked("job")
        await env.wait_listed(lambda listed: env.schedule_id("job") in listed)

    cli.env(unmarked)
    cli.write("job", cron=CRON)
    plan = cli("plan", str(cli.root))
    assert plan.exit_code == 1
    assert "x conflict" in plan.output and "scheduled adopt" in plan.output
    apply = cli("apply", str(cli.root))
    assert apply.exit_code == 1
    assert "NOT converged" in apply.output


def test_unreachable_temporal_is_an_error_not_a_traceback(cli: Cli) -> None:
    cli.write("job", cron=CRON)
    for command in ("plan", "apply", "list"):
        result = cli(command, str(cli.root), "--address", "127.0.0.1:1")
        assert result.exit_code == 1, (command, result.output)
        assert result.stderr.startswith("error: cannot connect to Temporal at 127.0.0.1:1")


def test_plan_diff_shows_real_changes_only(cli: Cli) -> None:
    cli.write("job", cron=CRON, retry={"maximum_attempts": 3}, note="one")
    assert cli("apply", str(cli.root)).exit_code == 0
    cli.settled()
    cli.write("job", cron="0 10 * * *", retry={"maximum_attempts": 3}, note="two")
    result = cli("plan", str(cli.root))
    assert result.exit_code == 2
    lines = [line.strip() for line in result.output.splitlines()]
    assert "note: one → two" in lines
    assert "when: at 09:00 → at 10:00" in lines
    assert not [line for line in lines if line.startswith(("retry", "catchup_window", "input"))]
    assert any(line.startswith("next runs before: ") and "09:00:00Z" in line for line in lines)
    assert any(line.startswith("next runs after:  ") and "10:00:00Z" in line for line in lines)


def contract(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(contract_schema_text(name))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def assert_matches(name: str, document: dict[str, Any]) -> None:
    errors = [f"{list(e.path)}: {e.message}" for e in contract(name).iter_errors(document)]
    assert not errors, errors
    assert (document["format_version"], document["command"]) == (1, name)


def test_plan_and_apply_json(cli: Cli) -> None:
    cli.write("a", cron=CRON)
    cli.write("b", cron=CRON, enabled=False)
    plan = json.loads(cli("plan", str(cli.root), "--format", "json").stdout)
    assert_matches("plan", plan)
    assert plan["changes_pending"] is True and plan["counts"]["create"] == 2
    assert [(op["workflow_id"], op["kind"], op["paused"]) for op in plan["operations"]] == [
        ("a", "create", False),
        ("b", "create", True),
    ]

    applied = cli("apply", str(cli.root), "--format", "json")
    assert applied.exit_code == 0
    report = json.loads(applied.stdout)
    assert_matches("apply", report)
    assert report["converged"] is True and report["stopped"] is False
    assert report["counts"]["create"] == 2  # the same words as the plan's
    assert [
        (r["workflow_id"], r["kind"], r["status"], r["attempts"]) for r in report["operations"]
    ] == [("a", "create", "done", 1), ("b", "create", "done", 1)]


def test_list_and_get_show_pause_sync_and_source(cli: Cli) -> None:
    cli.write("paused-by-ops", cron=CRON)
    cli.write("paused-by-file", cron=CRON, enabled=False)
    cli.write("edited", cron=CRON)
    assert cli("apply", str(cli.root)).exit_code == 0
    cli.settled()

    async def pause(env: Env) -> None:
        await env.handle("paused-by-ops").pause(note="incident")
        await env.wait_listed(lambda listed: listed[env.schedule_id("paused-by-ops")].paused)

    cli.env(pause)
    cli.write("edited", cron="0 10 * * *")  # not applied: out of sync

    table = cli("list", str(cli.root))
    assert table.exit_code == 0
    header, *rows = table.output.splitlines()
    assert header.split()[:6] == ["SCHEDULE", "ID", "WORKFLOW", "WHEN", "TZ", "PAUSED"]
    by_id = {row.split()[0]: row for row in rows}
    prefix = f"schedule-{cli.project}-"
    assert "by operator" in by_id[prefix + "paused-by-ops"]
    assert "by file" in by_id[prefix + "paused-by-file"]
    sync = header.index("SYNC")
    assert by_id[prefix + "edited"][sync:].startswith("NO ")
    assert by_id[prefix + "paused-by-ops"][sync:].startswith("yes ")
    assert by_id[prefix + "edited"].rstrip().endswith("edited.yaml")

    rows_json = json.loads(cli("list", str(cli.root), "--format", "json").stdout)["schedules"]
    assert {row["schedule_id"]: (row["paused"], row["in_sync"]) for row in rows_json} == {
        prefix + "edited": ("no", False),
        prefix + "paused-by-file": ("by file", True),
        prefix + "paused-by-ops": ("by operator", True),
    }

    got = cli("get", "paused-by-ops", str(cli.root))
    assert got.exit_code == 0
    row = json.loads(got.stdout)["schedule"]
    assert (row["paused"], row["note"], row["source"], row["in_sync"]) == (
        "by operator",
        "incident",
        "paused-by-ops.yaml",
        True,
    )
    assert row["when"] == "at 09:00" and row["timezone"] == "UTC"
    assert row["next_runs"] == []  # paused: nothing will fire
    assert row["detail"]["task_queue"] and row["detail"]["overlap_policy"] == "skip"

    unpaused = cli.get("edited")
    assert len(unpaused["next_runs"]) == 5
    assert all(moment.endswith("+00:00") for moment in unpaused["next_runs"])

    missing = cli("get", "nope", str(cli.root))
    assert missing.exit_code == 1 and "no schedule for workflow id 'nope'" in missing.stderr


def test_list_shows_the_last_run_with_its_status(cli: Cli) -> None:
    cli.write("job", cron=CRON)
    assert cli("apply", str(cli.root)).exit_code == 0
    workflow_ids: list[str] = []

    async def trigger(env: Env) -> None:
        await env.settled()
        await env.handle("job").trigger()
        listed = await env.wait_listed(lambda seen: bool(seen[env.schedule_id("job")].recent_runs))
        run = listed[env.schedule_id("job")].last_run
        assert run is not None
        workflow_ids.append(run.workflow_id)

    cli.env(trigger)
    row = cli.get("job")
    assert (row["last_run_status"], row["last_run_workflow_id"]) == ("running", workflow_ids[0])
    assert "(running)" in cli("list", str(cli.root)).output

    async def terminate(env: Env) -> None:
        await env.client.get_workflow_handle(workflow_ids[0]).terminate("test done")
        listed = await env.gateway.list_schedules(env.schedule_id("job"))
        stale = listed[0].last_run
        assert stale is not None and stale.status == "running"  # what the list still says

    cli.env(terminate)
    row = cli.get("job")
    assert row["last_run_status"] == "terminated"
    assert "(terminated)" in cli("list", str(cli.root)).output


def test_a_pause_made_by_pause_on_failure_is_shown_as_such_and_kept(cli: Cli) -> None:
    cli.write("fragile", cron=CRON, pause_on_failure=True, execution_timeout="1s")
    assert cli("apply", str(cli.root)).exit_code == 0

    async def fail_a_run(env: Env) -> None:
        await env.settled()
        await env.handle("fragile").trigger()
        # No worker polls the queue: the run times out after 1 s and the server pauses.
        await env.wait_listed(lambda listed: listed[env.schedule_id("fragile")].paused, within_s=30)

    cli.env(fail_a_run)
    row = cli.get("fragile")
    assert row["paused"].startswith("by pause_on_failure (workflow timeout: "), row["paused"]
    assert "by pause_on_failure" in cli("list", str(cli.root)).output
    plan = cli("plan", str(cli.root), "--verbose")
    assert plan.exit_code == 0, plan.output
    assert "paused by pause_on_failure" in plan.output
    assert cli("apply", str(cli.root)).exit_code == 0
    paused: list[bool] = []

    async def check(env: Env) -> None:
        paused.append((await env.describe("fragile")).schedule.state.paused)

    cli.env(check)
    assert paused == [True]  # a redeploy does not unpause what the server paused


def test_override_operator_pause_flag(cli: Cli) -> None:
    cli.write("job", cron=CRON)
    assert cli("apply", str(cli.root)).exit_code == 0
    paused: list[bool] = []

    async def pause(env: Env) -> None:
        await env.settled()
        await env.handle("job").pause(note="ops")
        await env.wait_listed(lambda listed: listed[env.schedule_id("job")].paused)

    cli.env(pause)
    kept = cli("apply", str(cli.root))
    assert kept.exit_code == 0 and "1 unchanged" in kept.output
    overridden = cli("apply", str(cli.root), "--override-operator-pause")
    assert overridden.exit_code == 0
    assert "updated" in overridden.output and "unpause" in overridden.output

    async def check(env: Env) -> None:
        paused.append((await env.describe("job")).schedule.state.paused)

    cli.env(check)
    assert paused == [False]


def test_prune_flags(cli: Cli) -> None:
    for workflow_id in ("a", "b", "c"):
        cli.write(workflow_id, cron=CRON)
    assert cli("apply", str(cli.root)).exit_code == 0
    cli.settled()
    (cli.root / "b.yaml").unlink()
    (cli.root / "c.yaml").unlink()
    blocked = cli("apply", str(cli.root))
    assert blocked.exit_code == 1 and "--allow-mass-delete" in blocked.output
    assert cli("plan", str(cli.root)).exit_code == 1
    no_prune = cli("apply", str(cli.root), "--no-prune")
    assert no_prune.exit_code == 0 and "pruning is off" in no_prune.output
    allowed = cli("apply", str(cli.root), "--allow-mass-delete")
    assert allowed.exit_code == 0 and "2 deleted" in allowed.output


def test_adopt_takes_over_an_unmarked_schedule(cli: Cli) -> None:
    async def unmarked(env: Env) -> None:
        await env.create_unmarked("job")

    cli.env(unmarked)
    cli.write("job", cron=CRON, note="from git")
    result = cli("adopt", "job", str(cli.root))
    assert result.exit_code == 0, result.output
    assert "deleted and created again" in result.output and "history" in result.output
    owners: list[Any] = []

    async def check(env: Env) -> None:
        described = await env.describe("job")
        owners.append((await described.memo())[MEMO_KEY]["project"])
        owners.append(described.schedule.state.note)
        await env.settled()

    cli.env(check)
    assert owners == [cli.project, "from git"]
    assert cli("plan", str(cli.root)).exit_code == 0
    again = cli("adopt", "job", str(cli.root))
    assert again.exit_code == 0 and "already managed" in again.output


def test_adopt_refuses_a_schedule_of_another_project(cli: Cli) -> None:
    async def theirs(env: Env) -> None:
        await env.create_unmarked("job", memo=ownership_memo("someone-else"))

    cli.env(theirs)
    cli.write("job", cron=CRON)
    result = cli("adopt", "job", str(cli.root))
    assert result.exit_code == 1
    assert "belongs to project 'someone-else'" in result.stderr
    notes: list[Any] = []

    async def check(env: Env) -> None:
        notes.append((await env.describe("job")).schedule.state.note)

    cli.env(check)
    assert notes == ["made by hand"]  # untouched


def test_adopt_needs_a_valid_file_and_an_existing_schedule(cli: Cli) -> None:
    no_file = cli("adopt", "job", str(cli.root))
    assert no_file.exit_code == 1 and "no valid workflow file" in no_file.stderr
    cli.write("job", cron="0 25 * * *")
    invalid = cli("adopt", "job", str(cli.root))
    assert invalid.exit_code == 1 and "is invalid" in invalid.stderr
    cli.write("job", cron=CRON)
    missing = cli("adopt", "job", str(cli.root))
    assert missing.exit_code == 1 and "`scheduled apply` creates it" in missing.stderr


def test_the_installed_command_exits_with_the_plan_status(cli: Cli) -> None:
    """The real entry point in its own process, configured by TEMPORAL_ADDRESS only."""
    cli.write("job", cron=CRON)
    command = [
        str(Path(sys.executable).with_name("scheduled")),
        "plan",
        str(cli.root),
        "--project",
        cli.project,
        "--format",
        "json",
    ]
    environment = {**os.environ, "TEMPORAL_ADDRESS": cli.address}
    done = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout)["counts"]["create"] == 1


def test_plan_and_get_show_next_runs_without_the_skipped_days(cli: Cli) -> None:
    today = datetime.now(UTC).date()
    skipped = [(today + timedelta(days=n)).isoformat() for n in (1, 2)]
    cli.write("holidays", cron="0 9 * * *", jitter="1s", skip=skipped[:1])
    created = cli("plan", str(cli.root)).output
    assert " 09:00:00Z" in created and skipped[0] not in created.split("next runs:")[1]
    assert cli("apply", str(cli.root)).exit_code == 0
    cli.settled()
    cli.write("holidays", cron="0 9 * * *", jitter="1s", skip=skipped)
    edited = cli("plan", str(cli.root)).output
    assert f"skip: {skipped[0]} → {skipped[0]}; {skipped[1]}" in edited, edited
    assert skipped[1] not in edited.split("next runs after:")[1]
    assert cli("apply", str(cli.root)).exit_code == 0
    row = cli.get("holidays")
    assert row["when"] == f"at 09:00; skip {skipped[0]}; {skipped[1]}"
    assert not any(run.startswith(tuple(skipped)) for run in row["next_runs"])


def test_get_shows_everything_that_was_sent_with_times_in_the_schedules_zone(cli: Cli) -> None:
    cli.write(
        "job",
        cron="0 9 * * *",
        timezone="Europe/Berlin",
        input={"region": "eu"},
        memo={"team": "data"},
        execution_timeout="1h",
        retry={"maximum_attempts": 3},
        overlap_policy="buffer_one",
    )
    assert cli("apply", str(cli.root)).exit_code == 0
    row = cli.get("job")
    detail = row["detail"]
    assert (detail["input"], detail["memo"], detail["execution_timeout"]) == (
        {"region": "eu"},
        {"team": "data"},
        "1h",
    )
    assert (detail["retry"]["maximum_attempts"], detail["overlap_policy"]) == (3, "buffer_one")
    assert detail["workflow_id"] == f"{cli.project}-job"
    assert len(row["next_runs"]) == 5
    assert all(moment[-6:] in ("+01:00", "+02:00") for moment in row["next_runs"])
    assert all("T09:00:00" in moment for moment in row["next_runs"])


def test_drift_in_the_action_is_planned_field_by_field_and_restored_by_apply_verify(
    cli: Cli,
) -> None:
    cli.write("job", cron=CRON, input={"region": "eu"}, execution_timeout="1h")
    assert cli("apply", str(cli.root)).exit_code == 0

    async def edit_outside(env: Env) -> None:
        await env.settled()

        def drift(update: tc.ScheduleUpdateInput) -> tc.ScheduleUpdate:
            # What an SDK or `temporal schedule update` does: the spec (and with it the write
            # record) stays, the input and a timeout change. The list shows neither.
            schedule = update.description.schedule
            assert isinstance(schedule.action, tc.ScheduleActionStartWorkflow)
            schedule.action.args = [{"region": "us"}]
            schedule.action.execution_timeout = timedelta(minutes=5)
            return tc.ScheduleUpdate(schedule)

        await env.handle("job").update(drift)
        await env.gateway.write_journal(env.project, {})  # as if written long ago

    cli.env(edit_outside)
    listed_only = cli("plan", str(cli.root), "--no-verify", "--format", "json")
    assert listed_only.exit_code == 0  # the list cannot see it: why --verify is the default
    planned = cli("plan", str(cli.root), "--format", "json")
    assert planned.exit_code == 2, planned.output
    (operation,) = json.loads(planned.output)["operations"]
    changes = {
        change["field"]: (change["before"], change["after"]) for change in operation["changes"]
    }
    assert changes == {
        "execution_timeout": (300.0, 3600.0),  # data for tools: seconds
        "input": ('{"region":"us"}', '{"region":"eu"}'),
    }
    texts = {change["text"] for change in operation["changes"]}
    assert "execution_timeout: 5m → 1h" in texts  # and the words for people
    assert cli("apply", str(cli.root), "--verify").exit_code == 0
    assert cli("plan", str(cli.root)).exit_code == 0
    row = cli.get("job")
    assert (row["detail"]["input"], row["detail"]["execution_timeout"]) == ({"region": "eu"}, "1h")


def test_no_noise_after_an_update_made_outside_that_changes_nothing(cli: Cli) -> None:
    cli.write("job", cron=CRON)
    assert cli("apply", str(cli.root)).exit_code == 0

    async def same_again(env: Env) -> None:
        await env.settled()
        await env.handle("job").update(
            lambda update: tc.ScheduleUpdate(update.description.schedule)
        )

    cli.env(same_again)
    planned = cli("plan", str(cli.root), "--format", "json")
    assert planned.exit_code == 0, planned.output


@pytest.mark.parametrize("key", ["shedule", "Schedule", "schedules", "scheudle"])
def test_a_misspelt_schedule_block_keeps_the_schedule(cli: Cli, key: str) -> None:
    cli.write("job", cron=CRON, note="kept")
    assert cli("apply", str(cli.root)).exit_code == 0
    path = cli.root / "job.yaml"
    path.write_text(path.read_text().replace("schedule:", f"{key}:"))
    assert cli("validate", str(cli.root)).exit_code == 1
    applied = cli("apply", str(cli.root))
    assert applied.exit_code == 1 and "did you mean `schedule`" in applied.stderr
    row = cli.get("job")
    assert row["note"] == "kept"


def git(checkout: Path, *args: str, date: str | None = None) -> str:
    dated = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {}
    done = subprocess.run(
        ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@e", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **dated},
    )
    return done.stdout.strip()


def test_a_replica_on_an_ancestor_commit_writes_nothing_even_when_its_date_is_newer(
    cli: Cli, tmp_path: Path
) -> None:
    cli.write("job", cron=CRON, note="v1")
    git(cli.root, "init", "-q")
    git(cli.root, "add", ".")
    git(cli.root, "commit", "-q", "-m", "v1")
    ahead = tmp_path / "ahead"
    git(tmp_path, "clone", "-q", str(cli.root), str(ahead))
    write_workflow(ahead, "job.yaml", workflow_yaml("job", cron=CRON, note="v2"))
    # The next commit, dated long before its parent (a rebase keeps old dates, clocks skew).
    git(ahead, "commit", "-q", "-am", "v2", date="2001-01-01T00:00:00Z")
    assert cli("apply", str(ahead)).exit_code == 0  # the journal makes the next pass see it

    git(cli.root, "fetch", "-q", str(ahead))  # this replica's git knows the newer commit
    behind = cli("apply", str(cli.root))
    assert behind.exit_code == 1, behind.output
    assert "newer revision" in behind.output
    notes: list[str] = []

    async def check(env: Env) -> None:
        notes.append((await env.describe("job")).schedule.state.note or "")

    cli.env(check)
    assert notes == ["v2"]


def test_every_json_output_matches_its_published_schema(cli: Cli) -> None:
    cli.write("job", cron=CRON, note="one")
    write_workflow(cli.root, "broken.yaml", "id: broken\nschedule: [oops\n")
    assert cli("apply", str(cli.root)).exit_code == 1  # the broken file: not converged
    cli.write("job", cron="0 10 * * *", note="two")
    plan = json.loads(cli("plan", str(cli.root), "--format", "json").stdout)
    assert_matches("plan", plan)
    [update] = [op for op in plan["operations"] if op["kind"] == "update"]
    assert {"field": "note", "before": "one", "after": "two", "text": "note: one → two"} in update[
        "changes"
    ]
    assert "tree/broken.yaml" in {d["file"] for d in plan["diagnostics"]}  # from the cwd
    listed = json.loads(cli("list", str(cli.root), "--format", "json").stdout)
    assert_matches("list", listed)
    assert_matches("get", json.loads(cli("get", "job", str(cli.root)).stdout))


def test_an_unreachable_server_still_gives_a_json_error_document(cli: Cli) -> None:
    cli.write("job", cron=CRON)
    for command in ("plan", "apply", "list"):
        done = cli(command, str(cli.root), "--address", "127.0.0.1:1", "--format", "json")
        assert done.exit_code == 1
        document = json.loads(done.stdout)
        errors = [e.message for e in contract("error").iter_errors(document)]
        assert not errors, errors
        assert document["command"] == command and document["error"]["kind"] == "connection"


def test_a_usage_error_of_plan_is_not_changes_pending(cli: Cli, tmp_path: Path) -> None:
    assert cli("plan", str(cli.root), "--concurrency", "ten").exit_code == 64
    missing = cli("apply", str(tmp_path / "missing"))
    assert missing.exit_code == 64 and "does not exist" in missing.output


def test_plan_as_markdown_for_a_pull_request(cli: Cli) -> None:
    cli.write("job", cron=CRON, note="one")
    assert cli("apply", str(cli.root)).exit_code == 0
    cli.write("job", cron="0 10 * * *", note="two")
    done = cli("plan", str(cli.root), "--format", "markdown")
    assert done.exit_code == 2
    text = done.stdout
    assert text.startswith("**Plan:** 0 to create, 1 to update, 0 to delete")
    assert "<details><summary>🟡 update <code>job</code>" in text
    assert "- note: one\n+ note: two" in text and "Next runs after:" in text


def on_a_terminal(cli: Cli, *args: str, typed: str = "") -> tuple[int, str]:
    """Run `python -m scheduled ARGS` with a pseudo-terminal as stdin, stdout and stderr, as a
    person at a terminal does (typing `typed` ahead, for a prompt); its exit status and
    everything it drew."""
    main_fd, terminal_fd = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULED_")}
    env.update(TEMPORAL_ADDRESS=cli.address, COLUMNS="120", TERM="xterm-256color")
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduled", *args, "--project", cli.project],
        stdin=terminal_fd,
        stdout=terminal_fd,
        stderr=terminal_fd,
        env=env,
        cwd=cli.root.parent,
    )
    os.close(terminal_fd)
    os.write(main_fd, typed.encode())  # typed ahead: the terminal holds it for the prompt
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    return process.wait(60), b"".join(chunks).decode("utf-8", "replace")


def test_on_a_terminal_apply_draws_a_progress_bar_and_one_summary(cli: Cli) -> None:
    for index in range(30):
        cli.write(f"job-{index:02d}", cron=CRON, jitter="30s")
    code, drawn = on_a_terminal(cli, "apply", str(cli.root))
    assert code == 0, drawn
    assert "applying" in drawn and "/30" in drawn  # the bar, with its count
    assert "apply converged" in drawn
    assert "created   schedule-" not in drawn  # no line per schedule: --verbose has them

    cli.write("job-00", cron=CRON, jitter="45s")
    code, verbose = on_a_terminal(cli, "apply", str(cli.root), "--verbose")
    assert code == 0 and f"updated   schedule-{cli.project}-job-00" in verbose


def test_on_a_terminal_list_is_a_table_fitted_to_the_width(cli: Cli) -> None:
    cli.write("job", cron=CRON, jitter="30s")
    assert cli("apply", str(cli.root)).exit_code == 0
    cli.settled()
    code, drawn = on_a_terminal(cli, "list", str(cli.root))
    assert code == 0, drawn
    assert "\x1b[1m" in drawn  # rich's bold header
    assert all(len(line) <= 120 for line in strip_ansi(drawn).splitlines())


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


# -- the seed platform's files ------------------------------------------------------------------

SEED = Path(__file__).resolve().parent.parent / "config" / "examples" / "seed"
EVERY_15_SECONDS = tuple(tc.ScheduleRange(start) for start in (0, 15, 30, 45))


def test_the_seed_platforms_files_validate_and_apply_as_they_are_with_two_defaults(
    cli: Cli, tmp_path: Path
) -> None:
    config = tmp_path / "seed.toml"
    config.write_text(
        '[scheduled]\ndefault_workflow = "SeedWorkflow"\ndefault_task_queue = "seed"\n'
    )
    validated = cli("validate", str(SEED), "--config", str(config))
    assert validated.exit_code == 0, validated.output
    assert validated.output == (
        "checked 2 file(s): 2 schedule(s), 0 error(s) in 0 file(s), 0 warning(s)\n"
    )
    applied = cli("apply", str(SEED), "--config", str(config))
    assert applied.exit_code == 0, applied.output
    assert "2 created" in applied.output
    seen: dict[str, tc.ScheduleDescription] = {}

    async def describe(env: Env) -> None:
        for workflow_id in ("hello-scheduler", "nightly-digest"):
            seen[workflow_id] = await env.describe(workflow_id)

    cli.env(describe)
    hello, digest = seen["hello-scheduler"].schedule, seen["nightly-digest"].schedule
    assert isinstance(hello.action, tc.ScheduleActionStartWorkflow)
    assert (hello.action.workflow, hello.action.task_queue) == ("SeedWorkflow", "seed")
    assert hello.policy.overlap is tc.ScheduleOverlapPolicy.ALLOW_ALL
    assert hello.spec.jitter == timedelta(minutes=5)
    (calendar,) = hello.spec.calendars
    assert (calendar.second, calendar.comment) == (EVERY_15_SECONDS, "0,15,30,45 * * * * *")
    assert isinstance(digest.action, tc.ScheduleActionStartWorkflow)
    assert digest.spec.jitter == timedelta(seconds=1.5)
    assert digest.action.execution_timeout == timedelta(hours=2, minutes=45, seconds=30)
    assert digest.action.retry_policy is not None
    assert digest.action.retry_policy.initial_interval == timedelta(milliseconds=500)
    again = cli("plan", str(SEED), "--config", str(config))
    assert again.exit_code == 0, again.output  # what Temporal holds is the files: no changes
