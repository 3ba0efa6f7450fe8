"""`scheduled run` as a real process against a real Temporal dev server and real files.

Each test starts the daemon (`python -m scheduled run ROOT`, JSON logs to a file, HTTP on a free
port, a short debounce), changes the tree the way an editor, git, git-sync or an operator does,
waits by polling, and then asserts what Temporal holds (describe), plus the daemon's own
/status and /metrics where the behaviour is about passes or readiness.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import temporalio.client as tc
from daemon_helpers import (
    DaemonProcess,
    RestartableServer,
    TemporalProbe,
    process_exists,
    processes_mentioning,
    schedule_state,
    sid,
    start_daemon,
    wait_until,
)
from trees import workflow_yaml, write_workflow

pytestmark = pytest.mark.temporal

NAMES = ("alpha", "beta", "gamma", "delta")

Launch = Callable[..., DaemonProcess]


def assert_never_deleted_nor_recreated(daemon: DaemonProcess) -> None:
    """An edit must update in place: no schedule deleted, none created beyond the first pass."""
    assert daemon.operations("deleted") == 0
    assert daemon.operations("created") == len(NAMES)


@pytest.fixture
def temporal(temporal_address: str) -> Iterator[TemporalProbe]:
    probe = TemporalProbe(temporal_address)
    yield probe
    probe.close()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RestartableServer]:
    """A dev server of this test's own, for tests that stop and start Temporal."""
    server = RestartableServer(tmp_path)
    yield server
    server.close()


@pytest.fixture
def launch(tmp_path: Path, temporal_address: str, project_name: str) -> Iterator[Launch]:
    """Start daemons for this test; every one still running at the end is stopped."""
    started: list[DaemonProcess] = []

    def launch(
        root: Path, *extra: str, address: str | None = temporal_address, **kwargs: Any
    ) -> DaemonProcess:
        daemon = start_daemon(tmp_path, root, project_name, address, *extra, **kwargs)
        started.append(daemon)
        return daemon

    yield launch
    for daemon in started:
        with contextlib.suppress(AssertionError):
            daemon.stop(timeout=15)


def make_tree(root: Path, names: tuple[str, ...] = NAMES, note: str = "v1") -> Path:
    for name in names:
        write_workflow(root, f"team/{name}.yaml", workflow_yaml(name, cron="0 9 * * *", note=note))
    return root


def hour_minute(description: tc.ScheduleDescription | None) -> tuple[int, int]:
    assert description is not None
    calendar = description.schedule.spec.calendars[0]
    return calendar.hour[0].start, calendar.minute[0].start


def started_and_converged(
    daemon: DaemonProcess,
    temporal: TemporalProbe,
    project: str,
    names: tuple[str, ...] = NAMES,
    note: str = "v1",
) -> None:
    daemon.wait_ready()
    assert temporal.notes(sid(project, name) for name in names) == {
        sid(project, name): note for name in names
    }


# -- editors -----------------------------------------------------------------------------------


def test_edit_save_in_place_updates_only_that_schedule(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root)
    started_and_converged(daemon, temporal, project_name)

    with (root / "team/alpha.yaml").open("w", encoding="utf-8") as handle:  # truncate + write
        handle.write(workflow_yaml("alpha", cron="30 8 * * *", note="v2"))

    wait_until(
        lambda: temporal.note(sid(project_name, "alpha")) == "v2", what="the edit in Temporal"
    )
    assert hour_minute(temporal.describe(sid(project_name, "alpha"))) == (8, 30)
    others = [sid(project_name, name) for name in NAMES[1:]]
    assert set(temporal.notes(others).values()) == {"v1"}
    wait_until(lambda: daemon.operations("updated") >= 1, what="the update counted")
    assert daemon.operations("updated") == 1
    assert daemon.operations("created") == len(NAMES)
    assert daemon.status()["last_reconcile"]["kind"] == "changed"


def test_rename_save_like_vim_updates_the_schedule(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root)
    started_and_converged(daemon, temporal, project_name)

    # vim: probe the folder with a file named 4913, write a temp file, rename it over the original.
    probe = root / "team/4913"
    probe.write_text("")
    probe.unlink()
    temp = root / "team/alpha.yaml.tmp"
    temp.write_text(workflow_yaml("alpha", cron="15 7 * * *", note="v2"))
    os.replace(temp, root / "team/alpha.yaml")

    wait_until(lambda: temporal.note(sid(project_name, "alpha")) == "v2", what="the renamed save")
    assert hour_minute(temporal.describe(sid(project_name, "alpha"))) == (7, 15)
    wait_until(lambda: daemon.operations("updated") >= 1, what="the update counted")
    assert_never_deleted_nor_recreated(daemon)


def test_truncate_and_write_in_two_chunks_keeps_the_schedule_meanwhile(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root)
    started_and_converged(daemon, temporal, project_name)
    schedule_id = sid(project_name, "alpha")
    changed_passes = daemon.passes("changed")

    # VS Code style: truncate, write the first chunk, then (later than the quiet period, so the
    # daemon reads the half-written file) the rest. The cut is inside a quoted cron string.
    final = workflow_yaml("alpha", cron="45 6 * * *", note="v2")
    cut = final.index("6 * * *")
    with (root / "team/alpha.yaml").open("r+", encoding="utf-8") as handle:
        handle.truncate(0)
        handle.write(final[:cut])
        handle.flush()
        os.fsync(handle.fileno())
        wait_until(
            lambda: daemon.passes("changed") > changed_passes, what="a pass of the half file"
        )
        half = daemon.status()
        handle.write(final[cut:])

    assert "team/alpha.yaml" in half["invalid_files"]
    wait_until(lambda: temporal.note(schedule_id) == "v2", what="the complete file applied")
    assert hour_minute(temporal.describe(schedule_id)) == (6, 45)
    wait_until(lambda: not daemon.status()["invalid_files"], what="the file no longer invalid")
    assert_never_deleted_nor_recreated(daemon)


def test_a_burst_of_saves_gives_the_final_content(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root)
    started_and_converged(daemon, temporal, project_name)
    path = root / "team/alpha.yaml"

    for index in range(20):
        path.write_text(workflow_yaml("alpha", cron=f"{index} 5 * * *", note=f"burst-{index}"))
        time.sleep(0.01)  # paces the saves; not an assertion

    schedule_id = sid(project_name, "alpha")
    wait_until(lambda: temporal.note(schedule_id) == "burst-19", what="the last save applied")
    assert hour_minute(temporal.describe(schedule_id)) == (5, 19)
    wait_until(lambda: daemon.operations("updated") >= 1, what="the update counted")
    # Debounced: a handful of updates at most, never one per save; nothing deleted or recreated.
    assert daemon.operations("updated") <= 5
    assert_never_deleted_nor_recreated(daemon)


def test_invalid_save_keeps_the_schedule_exactly_then_the_fix_applies(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root)
    started_and_converged(daemon, temporal, project_name)
    schedule_id = sid(project_name, "alpha")
    before = schedule_state(temporal.describe(schedule_id))

    # A cron minute of 61: valid YAML, invalid file; the error is on line 5 (`  cron: ...`).
    (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="61 9 * * *", note="bad"))
    status = wait_until(
        lambda: (found := daemon.status())["invalid_files"] and found, what="the file reported"
    )
    [message, *_] = status["invalid_files"]["team/alpha.yaml"]
    assert re.match(r"team/alpha\.yaml:5:\d+: error: ", message), message
    wait_until(
        lambda: daemon.status()["last_reconcile"]["counts"].get("skipped") == 1,
        what="the pass that kept the schedule",
    )
    assert schedule_state(temporal.describe(schedule_id)) == before
    assert daemon.metric("scheduled_invalid_files") == 1
    errors = [
        entry
        for entry in daemon.logs()
        if entry.get("file") == "team/alpha.yaml" and entry["level"] == "ERROR"
    ]
    assert errors and errors[0]["line"] == 5

    (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 10 * * *", note="fixed"))
    wait_until(lambda: temporal.note(schedule_id) == "fixed", what="the fix applied")
    assert hour_minute(temporal.describe(schedule_id)) == (10, 0)
    wait_until(lambda: not daemon.status()["invalid_files"], what="the report cleared")
    assert daemon.operations("deleted") == 0


def test_delete_add_and_a_removed_schedule_block(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    names = (*NAMES, "epsilon", "zeta")
    root = make_tree(tmp_path / "tree", names)
    daemon = launch(root)
    started_and_converged(daemon, temporal, project_name, names)

    (root / "team/alpha.yaml").unlink()
    wait_until(lambda: not temporal.exists(sid(project_name, "alpha")), what="alpha deleted")

    write_workflow(root, "new/omega.yaml", workflow_yaml("omega", cron="0 12 * * *", note="new"))
    wait_until(lambda: temporal.note(sid(project_name, "omega")) == "new", what="omega created")

    (root / "team/beta.yaml").write_text(workflow_yaml("beta"))  # the same file, no schedule:
    wait_until(lambda: not temporal.exists(sid(project_name, "beta")), what="beta deleted")

    remaining = [sid(project_name, name) for name in names[2:]]
    assert set(temporal.notes(remaining).values()) == {"v1"}
    wait_until(lambda: daemon.operations("deleted") >= 2, what="the deletions counted")
    assert daemon.operations("deleted") == 2
    assert daemon.operations("created") == len(names) + 1


def test_a_writer_pausing_before_the_schedule_block_deletes_nothing(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root)
    started_and_converged(daemon, temporal, project_name)
    changed_passes = daemon.passes("changed")

    final = workflow_yaml("alpha", cron="0 9 * * *", note="v2")
    with (root / "team/alpha.yaml").open("r+", encoding="utf-8") as handle:
        handle.truncate(0)
        handle.write(final[: final.index("schedule:")])  # a valid file without its block
        handle.flush()
        os.fsync(handle.fileno())
        wait_until(
            lambda: daemon.passes("changed") > changed_passes, what="a pass of the half file"
        )
        handle.write(final[final.index("schedule:") :])

    wait_until(lambda: temporal.note(sid(project_name, "alpha")) == "v2", what="the whole file")
    assert_never_deleted_nor_recreated(daemon)


def test_when_a_duplicate_id_goes_away_the_remaining_file_applies_in_a_changed_pass(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root)  # the full resync is minutes away: only a changed pass can do it
    started_and_converged(daemon, temporal, project_name)
    copy = root / "team/alpha-copy.yaml"
    copy.write_text(workflow_yaml("alpha", cron="0 9 * * *"))
    wait_until(lambda: "team/alpha.yaml" in daemon.status()["invalid_files"], what="duplicate")
    (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
    wait_until(lambda: daemon.passes("changed") >= 2, what="the edit's pass")
    assert temporal.note(sid(project_name, "alpha")) == "v1"  # both invalid: kept as it was

    full = daemon.passes("full")
    copy.unlink()
    wait_until(lambda: temporal.note(sid(project_name, "alpha")) == "v2", what="the file applied")
    assert daemon.passes("full") == full
    assert_never_deleted_nor_recreated(daemon)


def test_the_prune_guard_counts_deletions_across_batches(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    names = tuple(f"wf-{index}" for index in range(6))
    root = make_tree(tmp_path / "tree", names)
    daemon = launch(root, "--max-delete-fraction", "0.5")
    started_and_converged(daemon, temporal, project_name, names)
    for name in names[:3]:  # one file per batch: 3 of 6 is not more than half
        (root / f"team/{name}.yaml").unlink()
        wait_until(lambda n=name: not temporal.exists(sid(project_name, n)), what=f"{name} gone")
    (root / f"team/{names[3]}.yaml").unlink()  # a fourth in the same interval: refused
    wait_until(lambda: daemon.operations("blocked") >= 1, what="the blocked deletion")
    assert temporal.exists(sid(project_name, names[3]))
    assert daemon.operations("deleted") == 3


# -- git and git-sync --------------------------------------------------------------------------

GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV, "HOME": str(cwd)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def test_git_pull_of_a_branch_changing_100_files_is_one_changed_pass(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    origin, seed, watched = tmp_path / "origin.git", tmp_path / "seed", tmp_path / "watched"
    origin.mkdir()
    git(origin, "init", "--bare", "-q")
    git(tmp_path, "clone", "-q", str(origin), str(seed))
    ids = [f"wf-{index:03d}" for index in range(120)]
    for index, workflow_id in enumerate(ids):
        write_workflow(
            seed,
            f"flows/g{index % 8}/{workflow_id}.yaml",
            workflow_yaml(workflow_id, cron="0 9 * * *", note="v1"),
        )
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "first")
    git(seed, "push", "-q", "origin", "main")
    git(tmp_path, "clone", "-q", str(origin), str(watched))

    daemon = launch(watched, "--rate-limit", "1000", "--concurrency", "16")
    daemon.wait_ready()
    assert set(temporal.notes(sid(project_name, i) for i in ids).values()) == {"v1"}

    # The branch: 95 files changed, 3 added, 2 deleted: 100 files.
    git(seed, "checkout", "-q", "-b", "change")
    changed, deleted = ids[:95], ids[95:97]
    added = ["new-1", "new-2", "new-3"]
    for index, workflow_id in enumerate(changed):
        write_workflow(
            seed,
            f"flows/g{index % 8}/{workflow_id}.yaml",
            workflow_yaml(workflow_id, cron="0 10 * * *", note="v2"),
        )
    for workflow_id in deleted:
        index = ids.index(workflow_id)
        (seed / f"flows/g{index % 8}/{workflow_id}.yaml").unlink()
    for workflow_id in added:
        write_workflow(
            seed,
            f"flows/new/{workflow_id}.yaml",
            workflow_yaml(workflow_id, cron="0 11 * * *", note="added"),
        )
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "change 100 files")
    git(seed, "push", "-q", "origin", "change")
    commit = git(seed, "rev-parse", "HEAD")
    changed_before, full_before = daemon.passes("changed"), daemon.passes("full")

    git(watched, "pull", "-q", "--ff-only", "origin", "change")

    wait_until(
        lambda: set(temporal.notes(sid(project_name, i) for i in changed).values()) == {"v2"},
        what="the 95 changes in Temporal",
    )
    wait_until(lambda: daemon.operations("created") == len(ids) + 3, what="the 3 creates")
    wait_until(lambda: daemon.operations("deleted") == 2, what="the 2 deletes")
    notes = temporal.notes(
        [*(sid(project_name, i) for i in ids), *(sid(project_name, i) for i in added)]
    )
    assert {notes[sid(project_name, i)] for i in deleted} == {None}
    assert {notes[sid(project_name, i)] for i in added} == {"added"}
    assert {notes[sid(project_name, i)] for i in ids[97:]} == {"v1"}
    assert daemon.operations("updated") == 95

    passes = daemon.passes("changed") - changed_before
    assert 1 <= passes <= 2, f"{passes} changed passes for one pull"
    assert daemon.passes("full") == full_before
    status = daemon.status()
    assert status["revision"] == commit[:12]
    if passes == 1:
        assert status["last_reconcile"]["kind"] == "changed"
        assert status["last_reconcile"]["files"] == 100


def test_git_sync_symlink_swap_applies_the_new_checkout_and_deletes_nothing_else(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    names = (*NAMES, "epsilon")
    rev_a = make_tree(tmp_path / "rev-a", names)
    current = tmp_path / "current"
    current.symlink_to("rev-a")
    daemon = launch(current, "--resync-interval-s", "1")
    started_and_converged(daemon, temporal, project_name, names)
    assert daemon.status()["revision"] == "rev-a"

    rev_b = tmp_path / "rev-b"
    shutil.copytree(rev_a, rev_b)
    write_workflow(rev_b, "team/alpha.yaml", workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
    (rev_b / "team/gamma.yaml").unlink()
    write_workflow(rev_b, "team/omega.yaml", workflow_yaml("omega", cron="0 9 * * *", note="new"))
    link = tmp_path / ".current.tmp"
    link.symlink_to("rev-b")
    os.replace(link, current)  # atomic, as git-sync does

    wait_until(lambda: temporal.note(sid(project_name, "alpha")) == "v2", what="rev-b's change")
    wait_until(lambda: temporal.note(sid(project_name, "omega")) == "new", what="rev-b's new file")
    wait_until(lambda: not temporal.exists(sid(project_name, "gamma")), what="gamma deleted")
    wait_until(lambda: daemon.status()["revision"] == "rev-b", what="the revision reported")

    shutil.rmtree(rev_a)  # git-sync removes the old worktree later
    full = daemon.passes("full")
    daemon.wait_passes("full", full + 1)  # a full resync after the old checkout is gone
    kept = ("beta", "delta", "epsilon")
    assert temporal.notes(sid(project_name, name) for name in kept) == {
        sid(project_name, name): "v1" for name in kept
    }
    assert temporal.note(sid(project_name, "alpha")) == "v2"
    assert temporal.note(sid(project_name, "omega")) == "new"
    assert daemon.operations("deleted") == 1
    assert daemon.ready()


def test_root_removed_and_restored_deletes_nothing_and_converges(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root, "--resync-interval-s", "1")
    started_and_converged(daemon, temporal, project_name)

    away = tmp_path / "tree-away"
    os.rename(root, away)  # an unmounted volume, as far as the daemon can tell
    status = wait_until(
        lambda: (
            (found := daemon.status())["watcher_mode"] == "stopped"
            and (found["degraded"] or "").startswith("root missing")
            and found
        ),
        what="the root reported gone",
    )
    assert daemon.get("/readyz") == (503, f"not ready: {status['degraded']}\n".encode())
    assert daemon.get("/healthz")[0] == 200
    full = daemon.passes("full")
    write_workflow(away, "team/alpha.yaml", workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
    assert set(temporal.notes(sid(project_name, name) for name in NAMES).values()) == {"v1"}

    os.rename(away, root)
    daemon.wait_ready()
    wait_until(
        lambda: temporal.note(sid(project_name, "alpha")) == "v2", what="the change made meanwhile"
    )
    assert set(temporal.notes(sid(project_name, name) for name in NAMES[1:]).values()) == {"v1"}
    assert daemon.passes("full") > full
    assert daemon.operations("deleted") == 0
    assert daemon.status()["degraded"] is None


# -- Temporal going away -----------------------------------------------------------------------


def test_temporal_stopped_and_restarted_while_the_daemon_runs(
    tmp_path: Path, launch: Launch, project_name: str, own_server: RestartableServer
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root, address=own_server.address)
    started_and_converged(daemon, own_server.probe, project_name)

    own_server.stop()
    (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
    wait_until(lambda: daemon.get("/readyz")[0] == 503, timeout=90, what="not ready")
    daemon.check_alive()
    assert daemon.get("/healthz")[0] == 200
    assert daemon.status()["temporal_up"] is False

    own_server.start()
    probe = own_server.probe
    wait_until(
        lambda: probe.note(sid(project_name, "alpha")) == "v2",
        timeout=90,
        what="the change made while Temporal was down",
    )
    daemon.wait_ready(timeout=60)
    assert set(probe.notes(sid(project_name, name) for name in NAMES[1:]).values()) == {"v1"}
    assert daemon.operations("deleted") == 0
    assert daemon.process.poll() is None


def test_readiness_follows_temporal_within_seconds_while_nothing_changes(
    tmp_path: Path, launch: Launch, project_name: str, own_server: RestartableServer
) -> None:
    daemon = launch(make_tree(tmp_path / "tree"), address=own_server.address)
    started_and_converged(daemon, own_server.probe, project_name)
    own_server.stop()
    # No file changes: only the daemon's health probe can notice.
    wait_until(lambda: daemon.get("/readyz")[0] == 503, timeout=15, what="not ready")
    own_server.start()
    wait_until(lambda: daemon.get("/readyz")[0] == 200, timeout=30, what="ready again")
    assert daemon.status()["temporal_up"] is True


def test_an_edit_keeping_size_and_mtime_made_while_temporal_is_down_is_applied(
    tmp_path: Path, launch: Launch, project_name: str, own_server: RestartableServer
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root, address=own_server.address)
    started_and_converged(daemon, own_server.probe, project_name)
    own_server.stop()
    wait_until(lambda: daemon.get("/readyz")[0] == 503, timeout=30, what="not ready")

    path = root / "team/alpha.yaml"
    before = path.stat()
    path.write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v9"))  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # like `cp -p`, `rsync -a`
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    own_server.start()
    wait_until(
        lambda: own_server.probe.note(sid(project_name, "alpha")) == "v9",
        timeout=90,
        what="the edit",
    )


def test_a_pass_hanging_on_a_silent_server_stops_the_watchdog_pings(
    tmp_path: Path, launch: Launch, project_name: str, own_server: RestartableServer
) -> None:
    listener = NotifyListener()
    try:
        root = make_tree(tmp_path / "tree")
        env = {"NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "2000000"}  # a ping a second
        daemon = launch(root, address=own_server.address, env=env)
        started_and_converged(daemon, own_server.probe, project_name)
        wait_until(lambda: len(listener.having("WATCHDOG")) >= 2, what="watchdog pings")

        server = own_server.server
        server.process.send_signal(signal.SIGSTOP)  # accepts connections, never answers
        (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
        wait_until(lambda: "reconciling" in daemon.status()["activity"], what="the pass")

        def silent_for(seconds: float) -> bool:
            last = max(t for t, fields in listener.messages if "WATCHDOG" in fields)
            return time.monotonic() - last > seconds

        wait_until(lambda: silent_for(4.0), timeout=30, what="the pings to stop")
        daemon.check_alive()  # systemd, not the daemon, decides to restart it

        server.process.send_signal(signal.SIGCONT)
        wait_until(lambda: not silent_for(1.5), timeout=60, what="the pings to resume")
        wait_until(
            lambda: own_server.probe.note(sid(project_name, "alpha")) == "v2", what="the edit"
        )
    finally:
        listener.close()


# -- signals -----------------------------------------------------------------------------------


def test_deep_verification_heals_drift_the_list_cannot_show(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    daemon = launch(root, "--resync-interval-s", "1", "--verify-interval-s", "2")
    started_and_converged(daemon, temporal, project_name)
    schedule_id = sid(project_name, "alpha")

    def task_queue() -> str:
        found = temporal.describe(schedule_id)
        assert found is not None and isinstance(
            found.schedule.action, tc.ScheduleActionStartWorkflow
        )
        return found.schedule.action.task_queue

    def drift(update: tc.ScheduleUpdateInput) -> tc.ScheduleUpdate:
        schedule = update.description.schedule  # the spec and its write record stay as they are
        assert isinstance(schedule.action, tc.ScheduleActionStartWorkflow)
        schedule.action.task_queue = "hand-edited"
        return tc.ScheduleUpdate(schedule)

    original = task_queue()
    temporal.run(temporal.client.get_schedule_handle(schedule_id).update(drift))
    assert task_queue() == "hand-edited"
    wait_until(lambda: task_queue() == original, timeout=30, what="the drift healed")
    assert_never_deleted_nor_recreated(daemon)


def test_sighup_restores_drift_and_reloads_the_config(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    config = tmp_path / "scheduled.toml"
    config.write_text('[scheduled]\ndefault_task_queue = "queue-one"\n')
    root = make_tree(tmp_path / "tree", NAMES[1:])
    write_workflow(
        root,
        "team/alpha.yaml",
        workflow_yaml("alpha", task_queue=None, cron="0 9 * * *", note="v1"),
    )
    daemon = launch(root, "--config", str(config))
    started_and_converged(daemon, temporal, project_name)

    def task_queue() -> str:
        found = temporal.describe(sid(project_name, "alpha"))
        assert found is not None and isinstance(
            found.schedule.action, tc.ScheduleActionStartWorkflow
        )
        return found.schedule.action.task_queue

    assert task_queue() == "queue-one"

    # An operator edits beta's spec by hand (the record of the last write stays in place).
    def hand_edit(update: tc.ScheduleUpdateInput) -> tc.ScheduleUpdate:
        schedule = update.description.schedule
        schedule.spec.calendars = [tc.ScheduleCalendarSpec(hour=[tc.ScheduleRange(3)])]
        return tc.ScheduleUpdate(schedule)

    temporal.run(temporal.client.get_schedule_handle(sid(project_name, "beta")).update(hand_edit))
    assert hour_minute(temporal.describe(sid(project_name, "beta"))) == (3, 0)
    config.write_text('[scheduled]\ndefault_task_queue = "queue-two"\n')
    full = daemon.passes("full")

    daemon.send(signal.SIGHUP)

    wait_until(lambda: task_queue() == "queue-two", what="the reloaded default task queue")
    wait_until(
        lambda: hour_minute(temporal.describe(sid(project_name, "beta"))) == (9, 0),
        what="the hand edit undone",
    )
    assert daemon.passes("full") > full
    messages = [entry["message"] for entry in daemon.logs()]
    assert "config reloaded" in messages
    assert any(message.startswith("reload requested") for message in messages)
    assert daemon.process.poll() is None


def test_a_reload_that_excludes_a_folder_keeps_its_schedules_until_the_files_go(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    config = tmp_path / "scheduled.toml"
    config.write_text("[scheduled]\n")
    root = make_tree(tmp_path / "tree", NAMES[1:])
    legacy = write_workflow(
        root, "legacy/alpha.yaml", workflow_yaml("alpha", cron="0 9 * * *", note="v1")
    )
    daemon = launch(root, "--config", str(config))
    started_and_converged(daemon, temporal, project_name)
    alpha = sid(project_name, "alpha")
    full = daemon.passes("full")

    config.write_text('[scheduled]\nexclude = ["legacy"]\n')
    daemon.send(signal.SIGHUP)
    daemon.wait_passes("full", more_than=full)
    assert daemon.status()["last_reconcile"]["counts"].get("skipped") == 1
    changed = daemon.passes("changed")
    legacy.write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))  # left out: not applied
    daemon.wait_passes("changed", more_than=changed)
    assert temporal.note(alpha) == "v1"

    legacy.unlink()  # really gone: now its schedule goes
    wait_until(lambda: not temporal.exists(alpha), what="the schedule of the removed file deleted")
    wait_until(lambda: daemon.operations("deleted") == 1, what="the deletion counted")


def test_sigterm_during_a_large_apply_stops_in_time_and_reports(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = tmp_path / "tree"
    ids = [f"wf-{index:03d}" for index in range(300)]
    for workflow_id in ids:
        write_workflow(
            root, f"flows/{workflow_id}.yaml", workflow_yaml(workflow_id, cron="0 9 * * *")
        )
    daemon = launch(root, "--concurrency", "2", "--rate-limit", "20")

    def created() -> int:
        return sum(1 for entry in daemon.logs() if entry.get("outcome") == "created")

    wait_until(lambda: created() >= 20, what="the apply to be under way")
    asked = time.monotonic()
    daemon.send(signal.SIGTERM)
    code = daemon.process.wait(timeout=20)
    took = time.monotonic() - asked

    assert code == 0
    assert took < 10, f"took {took:.1f} s to stop"
    entries = daemon.logs()
    done = {entry["schedule_id"] for entry in entries if entry.get("outcome") == "created"}
    cancelled = {entry["schedule_id"] for entry in entries if entry.get("outcome") == "cancelled"}
    assert 20 <= len(done) < len(ids)
    assert done | cancelled == {sid(project_name, i) for i in ids}
    summary = [entry for entry in entries if entry["message"].startswith("reconciled:")]
    assert summary and "cancelled" in summary[-1]["message"]
    assert entries[-1]["message"] == "scheduled daemon stopped"
    # What the log says was done is exactly what Temporal holds.
    existing = {
        i
        for i, found in temporal.describe_many(sid(project_name, i) for i in ids).items()
        if found is not None
    }
    assert existing == done
    assert processes_mentioning(str(root)) == []


# -- replicas, logs, systemd, --dev ------------------------------------------------------------


def test_two_daemons_on_one_tree_converge_and_do_not_fight(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    one = launch(root, "--resync-interval-s", "1", name="one")
    two = launch(root, "--resync-interval-s", "1", name="two")
    one.wait_ready()
    two.wait_ready()
    assert set(temporal.notes(sid(project_name, name) for name in NAMES).values()) == {"v1"}

    (root / "team/alpha.yaml").write_text(workflow_yaml("alpha", cron="0 9 * * *", note="v2"))
    wait_until(lambda: temporal.note(sid(project_name, "alpha")) == "v2", what="the edit")

    def writes(daemon: DaemonProcess) -> float:
        return sum(daemon.operations(kind) for kind in ("created", "updated", "deleted"))

    for daemon in (one, two):  # both have seen the edit in a full pass since
        daemon.wait_passes("full", daemon.passes("full") + 1)
    settled = (writes(one), writes(two))
    for daemon in (one, two):  # several more full resyncs each
        daemon.wait_passes("full", daemon.passes("full") + 3)
    assert (writes(one), writes(two)) == settled
    assert one.operations("created") + two.operations("created") >= len(NAMES)
    assert one.operations("updated") + two.operations("updated") <= len(NAMES) + 2
    assert temporal.note(sid(project_name, "alpha")) == "v2"
    assert one.operations("failed") == two.operations("failed") == 0


def test_json_logs_carry_operation_fields_and_never_the_api_key(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    secret = "sk-test-0123456789-very-secret"
    root = make_tree(tmp_path / "tree")
    daemon = launch(root, "--api-key", secret, "--no-tls")
    started_and_converged(daemon, temporal, project_name)
    (root / "team/beta.yaml").write_text(workflow_yaml("beta", cron="0 9 * * *", note="v2"))
    wait_until(lambda: temporal.note(sid(project_name, "beta")) == "v2", what="the edit")
    daemon.stop()

    entries = daemon.logs()
    [update] = [entry for entry in entries if entry.get("outcome") == "updated"]
    assert update["schedule_id"] == sid(project_name, "beta")
    assert update["workflow_id"] == "beta"
    assert update["file"] == "team/beta.yaml"
    assert update["level"] == "INFO"
    assert isinstance(update["duration_ms"], float) and update["duration_ms"] >= 0
    creates = [entry for entry in entries if entry.get("outcome") == "created"]
    assert {entry["file"] for entry in creates} == {f"team/{name}.yaml" for name in NAMES}
    text = daemon.log_path.read_text()
    assert all(line.startswith("{") for line in text.splitlines())  # JSON lines only
    assert secret not in text
    assert secret[:12] not in text


class NotifyListener:
    """A unix datagram socket standing in for systemd's $NOTIFY_SOCKET; records each message
    with the time it arrived."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="sd-", dir="/tmp")  # short: 108 bytes
        self.path = str(Path(self._folder.name) / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append((time.monotonic(), fields))

    def having(self, key: str) -> list[dict[str, str]]:
        return [fields for _, fields in list(self.messages) if key in fields]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        self._folder.cleanup()


def test_systemd_notify_ready_status_watchdog_and_reload(
    tmp_path: Path, launch: Launch, temporal: TemporalProbe, project_name: str
) -> None:
    listener = NotifyListener()
    try:
        root = make_tree(tmp_path / "tree")
        daemon = launch(root, env={"NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "600000"})
        wait_until(lambda: listener.having("READY"), what="READY=1")
        # READY=1 comes only after the first full reconcile: every schedule exists by then.
        assert all(temporal.notes(sid(project_name, name) for name in NAMES).values())
        ready_index = next(i for i, (_, f) in enumerate(listener.messages) if "READY" in f)
        before = [fields.get("STATUS", "") for _, fields in listener.messages[:ready_index]]
        assert "reconciling (full)" in before
        assert listener.messages[ready_index][1]["READY"] == "1"
        assert listener.messages[ready_index][1]["STATUS"].startswith("watching ")
        wait_until(lambda: len(listener.having("WATCHDOG")) >= 3, what="watchdog pings")
        assert {fields["WATCHDOG"] for fields in listener.having("WATCHDOG")} == {"1"}

        sent = time.monotonic_ns() // 1000
        daemon.send(signal.SIGHUP)
        wait_until(lambda: listener.having("RELOADING"), what="RELOADING=1")
        [reloading] = listener.having("RELOADING")
        assert reloading["RELOADING"] == "1"
        assert 0 <= int(reloading["MONOTONIC_USEC"]) - sent < 30_000_000
        wait_until(lambda: len(listener.having("READY")) >= 2, what="READY=1 after the reload")
        reload_at = next(t for t, f in listener.messages if "RELOADING" in f)
        assert max(t for t, f in listener.messages if "READY" in f) >= reload_at

        assert daemon.stop() == 0
        assert listener.having("STOPPING")
    finally:
        listener.close()


def test_run_dev_starts_a_dev_server_and_stops_it_on_exit(
    tmp_path: Path, launch: Launch, project_name: str
) -> None:
    state = tmp_path / "state"
    root = make_tree(tmp_path / "tree")
    daemon = launch(root, "--dev", "--state-dir", str(state), address=None)
    daemon.wait_ready(timeout=120)
    [server_pid] = processes_mentioning(str(state / "temporal.sqlite"))
    [up] = [entry for entry in daemon.logs() if entry["message"] == "Temporal dev server is up"]
    probe = TemporalProbe(up["address"])
    try:
        assert set(probe.notes(sid(project_name, name) for name in NAMES).values()) == {"v1"}
    finally:
        probe.close()
    assert (state / "temporal.sqlite").exists()

    assert daemon.stop() == 0
    wait_until(lambda: not process_exists(server_pid), timeout=20, what="the dev server gone")
    assert processes_mentioning(str(state)) == []
    assert "Temporal dev server stopped" in [entry["message"] for entry in daemon.logs()]


def test_run_dev_registers_the_search_attributes_the_tree_uses(
    tmp_path: Path, launch: Launch, project_name: str
) -> None:
    root = make_tree(tmp_path / "tree")
    write_workflow(
        root,
        "tagged.yaml",
        "id: tagged\nworkflow: Job\ntask_queue: jobs\nschedule:\n  cron: '0 9 * * *'\n  search_attributes: {DevTeam: ops}\n"
        "  workflow_search_attributes: {DevTier: 2, DevNotes: {type: text, value: a b}}\n",
    )
    daemon = launch(root, "--dev", "--state-dir", str(tmp_path / "state"), address=None)
    daemon.wait_ready(timeout=120)
    [up] = [entry for entry in daemon.logs() if entry["message"] == "Temporal dev server is up"]
    assert up["search_attributes"] == "DevNotes=Text,DevTeam=Keyword,DevTier=Int"
    probe = TemporalProbe(up["address"])
    try:
        described = probe.describe(sid(project_name, "tagged"))
        assert described is not None
        assert [
            pair.value for pair in described.typed_search_attributes if pair.key.name == "DevTeam"
        ] == ["ops"]
    finally:
        probe.close()
    assert daemon.stop() == 0


def test_run_dev_stopped_while_the_dev_server_starts_leaves_nothing_behind(
    tmp_path: Path, launch: Launch
) -> None:
    state = tmp_path / "state"
    root = make_tree(tmp_path / "tree")
    daemon = launch(root, "--dev", "--state-dir", str(state), address=None)
    wait_until(
        lambda: processes_mentioning(str(state / "temporal.sqlite")), what="the dev server process"
    )
    assert daemon.stop() == 0
    wait_until(lambda: not processes_mentioning(str(state)), timeout=20, what="the dev server gone")
    assert not any(entry["message"] == "Temporal dev server is up" for entry in daemon.logs())
