"""What the daemon does next: messages fold into pending work, with effects; no sleeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduled.daemon.triggers import (
    EVERYTHING,
    NOTHING,
    Backoff,
    Effect,
    Pending,
    QuietPeriod,
    ReloadRequested,
    StopRequested,
    absorb,
    files_under,
    loop_is_alive,
)
from scheduled.daemon.watcher import FilesChanged, RescanNeeded, TreeGone, TreeReplaced


def test_changed_files_and_folders_accumulate() -> None:
    pending, effect = absorb(NOTHING, FilesChanged(("a.yaml",), ("team",)), root_gone=False)
    pending, _ = absorb(pending, FilesChanged(("b.yaml",), ()), root_gone=False)
    assert pending == Pending(False, frozenset({"a.yaml", "b.yaml"}), frozenset({"team"}))
    assert effect is None


@pytest.mark.parametrize(
    ("message", "root_gone", "expected", "effect"),
    [
        pytest.param(ReloadRequested(), False, True, Effect.RELOAD, id="sighup"),
        pytest.param(RescanNeeded("restarted"), False, True, Effect.RESCAN, id="rescan"),
        pytest.param(TreeReplaced("/new"), False, True, Effect.ROOT_REPLACED, id="swap"),
        pytest.param(TreeReplaced("/back"), True, True, Effect.ROOT_BACK, id="return"),
        pytest.param(TreeGone("unmounted"), False, False, Effect.ROOT_GONE, id="gone"),
        pytest.param(StopRequested(), False, False, None, id="stop"),
    ],
)
def test_each_message_asks_for_a_full_pass_or_not_and_its_effect(
    message: object, root_gone: bool, expected: bool, effect: Effect | None
) -> None:
    pending, got = absorb(Pending(files=frozenset({"a.yaml"})), message, root_gone=root_gone)  # type: ignore[arg-type]
    assert (pending.full, got) == (expected, effect)


def test_the_tree_gone_drops_every_pending_change() -> None:
    pending, _ = absorb(Pending(files=frozenset({"a.yaml"})), TreeGone("x"), root_gone=False)
    assert pending.empty


def test_a_replaced_tree_is_one_full_pass_and_forgets_single_files() -> None:
    pending, _ = absorb(Pending(files=frozenset({"a.yaml"})), TreeReplaced("/t"), root_gone=False)
    assert pending == EVERYTHING


def test_the_quiet_period_restarts_with_each_change_up_to_the_longest_wait() -> None:
    quiet = QuietPeriod.starting(100.0, debounce_ms=300, max_wait_ms=1000)
    assert quiet.wait(100.0) == pytest.approx(0.3)
    assert quiet.wait(100.8) == pytest.approx(0.2)  # the deadline is nearer than the quiet
    assert quiet.wait(101.0) <= 0


def test_backoff_grows_then_stays_at_its_last_step_and_resets() -> None:
    backoff = Backoff()
    assert [backoff.next_delay() for _ in range(7)] == [1, 2, 5, 10, 30, 30, 30]
    backoff.reset()
    assert backoff.next_delay() == 1


def test_a_folder_holds_the_workflow_files_under_it_now_and_before(tmp_path: Path) -> None:
    (tmp_path / "team/sub").mkdir(parents=True)
    (tmp_path / "team/sub/a.yaml").write_text("id: a\n")
    (tmp_path / "team/readme.md").write_text("x\n")
    (tmp_path / "team/.git").mkdir()
    (tmp_path / "team/.git/b.yaml").write_text("id: b\n")
    found = files_under(tmp_path, ["team"], known=["team/gone.yaml", "other/c.yaml"])
    assert found == {"team/sub/a.yaml", "team/gone.yaml"}


def test_a_linked_folder_asks_for_a_full_rescan(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert files_under(tmp_path, ["link"], known=[]) is None


def test_the_root_itself_is_the_watchers_to_report(tmp_path: Path) -> None:
    assert files_under(tmp_path, [".", ""], known=["a.yaml"]) == frozenset()


@pytest.mark.parametrize(
    ("busy_since", "progress_at", "alive"),
    [
        pytest.param(None, 0.0, True, id="waiting for work"),
        pytest.param(90.0, 95.0, True, id="a pass that moved lately"),
        pytest.param(10.0, 20.0, False, id="a pass that hangs"),
    ],
)
def test_the_watchdog_is_fed_only_while_the_loop_makes_progress(
    busy_since: float | None, progress_at: float, alive: bool
) -> None:
    assert loop_is_alive(busy_since, progress_at, now=100.0, stall_s=30.0) is alive
