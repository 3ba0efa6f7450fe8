"""TreeWatcher on real folders (inotify and polling), plus a scripted watch function for the
failures a real host rarely shows on demand (the inotify watch limit, a crashing watch)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
import watchfiles
from anyio.streams.memory import MemoryObjectReceiveStream
from loguru import logger

from scheduled.daemon.watcher import (
    FilesChanged,
    RescanNeeded,
    TreeGone,
    TreeReplaced,
    TreeWatcher,
    Trigger,
    _batch,
)

Body = Callable[[TreeWatcher, MemoryObjectReceiveStream[Trigger]], Awaitable[None]]


def watch(root: Path, body: Body, **options: Any) -> None:
    """Run a TreeWatcher on root while body drives the file system and reads the triggers."""
    settings: dict[str, Any] = {"step_ms": 50, "max_wait_ms": 500, "link_poll_s": 0.1}
    settings.update(options)

    async def main() -> None:
        send, receive = anyio.create_memory_object_stream[Trigger](100)
        watcher = TreeWatcher(root, send, **settings)
        with send, receive, anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(watcher.run)
                await started(watcher)
                await body(watcher, receive)
                group.cancel_scope.cancel()

    anyio.run(main)


async def until(check: Callable[[], bool], within: float = 10) -> None:
    with anyio.fail_after(within):
        while True:
            if check():
                return
            await anyio.sleep(0.01)


async def started(watcher: TreeWatcher) -> None:
    await until(lambda: watcher.state.mode != "starting")
    await anyio.sleep(0.1)  # lets the watch thread settle; not an assertion


async def next_trigger(receive: MemoryObjectReceiveStream[Trigger], within: float = 10) -> Trigger:
    with anyio.fail_after(within):
        return await receive.receive()


async def next_files(receive: MemoryObjectReceiveStream[Trigger]) -> FilesChanged:
    trigger = await next_trigger(receive)
    assert isinstance(trigger, FilesChanged), trigger
    return trigger


def test_a_burst_of_writes_is_one_batch_of_relative_workflow_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git/objects").mkdir(parents=True)

    async def body(watcher: TreeWatcher, receive: MemoryObjectReceiveStream[Trigger]) -> None:
        assert watcher.state.mode == "inotify"
        (tmp_path / "a.yaml").write_text("id: a\n")
        (tmp_path / "sub/b.yml").write_text("id: b\n")
        (tmp_path / "sub/.b.yml.swp").write_text("swap")
        (tmp_path / "sub/b.yml~").write_text("backup")
        (tmp_path / "notes.txt").write_text("not a workflow")
        (tmp_path / ".git/objects/ab12").write_text("git object")
        batch = await next_files(receive)
        assert batch.paths == {"a.yaml", "sub/b.yml"}
        assert batch.others == frozenset()

    watch(tmp_path, body, step_ms=300)


def test_a_folder_moved_as_a_whole_is_reported_as_the_folder(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "team/a.yaml").write_text("id: a\n")

    async def body(watcher: TreeWatcher, receive: MemoryObjectReceiveStream[Trigger]) -> None:
        os.rename(tmp_path / "team", tmp_path / "crew")
        seen: set[str] = set()
        while not {"team", "crew"} <= seen:
            batch = await next_files(receive)
            seen |= batch.others

    watch(tmp_path, body)


def test_a_symlink_swap_is_tree_replaced_and_the_old_target_is_left_alone(tmp_path: Path) -> None:
    rev_a, rev_b = tmp_path / "rev-a", tmp_path / "rev-b"
    rev_a.mkdir()
    for name in ("a", "b", "c"):
        (rev_a / f"{name}.yaml").write_text(f"id: {name}\n")
    shutil.copytree(rev_a, rev_b)
    root = tmp_path / "current"
    root.symlink_to("rev-a")

    async def body(watcher: TreeWatcher, receive: MemoryObjectReceiveStream[Trigger]) -> None:
        assert watcher.state.target == str(rev_a)
        link = tmp_path / ".tmp-link"
        link.symlink_to("rev-b")
        os.replace(link, root)
        assert await next_trigger(receive) == TreeReplaced(str(rev_b))
        await started_on(watcher, rev_b)
        shutil.rmtree(rev_a)  # git-sync drops the old worktree: not a deletion of a, b and c
        (rev_b / "d.yaml").write_text("id: d\n")
        batch = await next_files(receive)  # the very next trigger is rev-b's new file
        assert batch.paths == {"d.yaml"}

    watch(root, body)


async def started_on(watcher: TreeWatcher, target: Path) -> None:
    await until(lambda: watcher.state.target == str(target) and watcher.state.mode == "inotify")
    await anyio.sleep(0.1)  # lets the new watch settle; not an assertion


def test_the_root_gone_and_back(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()

    async def body(watcher: TreeWatcher, receive: MemoryObjectReceiveStream[Trigger]) -> None:
        os.rename(root, tmp_path / "away")
        gone = await next_trigger(receive)
        assert isinstance(gone, TreeGone) and str(root) in gone.reason
        assert watcher.state.mode == "stopped"
        os.rename(tmp_path / "away", root)
        assert await next_trigger(receive) == TreeReplaced(str(root))
        await started_on(watcher, root)
        (root / "a.yaml").write_text("id: a\n")
        assert (await next_files(receive)).paths == {"a.yaml"}

    watch(root, body)


def test_a_folder_put_in_the_roots_place_is_a_new_tree(tmp_path: Path) -> None:
    root, other = tmp_path / "tree", tmp_path / "other"
    root.mkdir()
    other.mkdir()

    async def body(watcher: TreeWatcher, receive: MemoryObjectReceiveStream[Trigger]) -> None:
        os.rename(root, tmp_path / "away")
        os.rename(other, root)  # same path, another folder (a remount looks like this)
        trigger = await next_trigger(receive)
        if isinstance(trigger, TreeGone):  # the link poll fell between the two renames
            trigger = await next_trigger(receive)
        assert trigger == TreeReplaced(str(root))

    watch(root, body, link_poll_s=0.2)


async def _limit_reached() -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
    raise OSError('OS file watch limit reached. about ["/tree"]')
    yield set()  # an async generator, like watchfiles.awatch


def limited_watch(
    *paths: Path, force_polling: bool | None = None, **options: Any
) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
    if not force_polling:
        return _limit_reached()
    return watchfiles.awatch(*paths, force_polling=True, **options)


def test_the_watch_limit_falls_back_to_polling_and_asks_for_a_rescan(tmp_path: Path) -> None:
    warnings: list[str] = []
    handler = logger.add(
        lambda message: warnings.append(message.record["message"]), level="WARNING"
    )

    async def body(watcher: TreeWatcher, receive: MemoryObjectReceiveStream[Trigger]) -> None:
        assert await next_trigger(receive) == RescanNeeded("file watching restarted")
        assert watcher.state.mode == "polling"
        assert watcher.state.detail == "inotify watch limit reached"
        (tmp_path / "a.yaml").write_text("id: a\n")
        assert (await next_files(receive)).paths == {"a.yaml"}

    try:
        watch(tmp_path, body, watch=limited_watch)
    finally:
        logger.remove(handler)
    assert any("falling back to polling" in warning for warning in warnings)


def test_polling_reports_a_second_save_within_the_same_second(tmp_path: Path) -> None:
    # The poller keeps modification times in whole seconds: the watcher reads a reported
    # batch once more a second later, which catches a save it could not see.
    path = tmp_path / "a.yaml"

    async def body(watcher: TreeWatcher, receive: MemoryObjectReceiveStream[Trigger]) -> None:
        assert watcher.state.mode == "polling"
        await anyio.sleep(1.1 - time.time() % 1)  # early in a fresh second; not an assertion
        path.write_text("id: a\nnote: first\n")
        first = await next_files(receive)
        path.write_text("id: a\nnote: second, same second\n")
        again = await next_files(receive)
        assert first.paths == again.paths == {"a.yaml"}

    watch(tmp_path, body, force_polling=True)


def test_a_failing_watch_restarts_with_backoff_and_asks_for_a_rescan(tmp_path: Path) -> None:
    calls = 0

    async def broken() -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
        raise RuntimeError("watch thread unexpectedly received a signal")
        yield set()

    def flaky_watch(
        *paths: Path, **options: Any
    ) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
        nonlocal calls
        calls += 1
        return broken() if calls <= 2 else watchfiles.awatch(*paths, **options)

    async def body(watcher: TreeWatcher, receive: MemoryObjectReceiveStream[Trigger]) -> None:
        assert await next_trigger(receive) == RescanNeeded("file watching restarted")
        assert calls == 3
        assert watcher.state.mode == "inotify"

    watch(tmp_path, body, watch=flaky_watch, link_poll_s=0.05)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"/t/a.yaml"}, FilesChanged(frozenset({"a.yaml"})), id="file"),
        pytest.param({"/t/x/.git/HEAD", "/t/x/node_modules/m"}, None, id="ignored-folders"),
        pytest.param({"/elsewhere/a.yaml"}, None, id="outside-the-root"),
        pytest.param({"/t/team"}, FilesChanged(frozenset(), frozenset({"team"})), id="folder"),
        pytest.param(
            {"/t/a/b.yml", "/t/a"},
            FilesChanged(frozenset({"a/b.yml"}), frozenset({"a"})),
            id="both",
        ),
    ],
)
def test_batch(changes: set[str], expected: FilesChanged | None) -> None:
    assert _batch(Path("/t"), {(watchfiles.Change.modified, path) for path in changes}) == expected
