"""Watching the tree: batches of changed workflow files, root swaps, and a root that vanishes.

watchfiles groups raw events: a change, then `step` ms with no other change, yields a batch, and
`debounce` caps how long a stream of changes is grouped. `step` is kept short (25 ms in the daemon) because
watchfiles only looks every `step` ms, so a batch arrives between one and two steps after the
last change; the daemon times the real quiet period (300 ms by default) from each batch's
arrival, which keeps save-to-apply latency close to that quiet period.

The root may be a symlink that git-sync swaps atomically to a new checkout. inotify watches the
resolved folder, so the old target's later deletion would look like every file being deleted;
instead the link is polled, and a new target is announced as `TreeReplaced` (one full rescan of
the new generation), after which only the new target is watched. A root that disappears (an
unmounted volume) is announced as `TreeGone`; it must never be read as "all files deleted".
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
import watchfiles
from anyio.streams.memory import MemoryObjectSendStream
from loguru import logger

from scheduled.format.tree import is_ignored_dir_name, is_workflow_file_name

POLL_TICK_S = 1.1  # the poller's clock is whole seconds of mtime
RESCAN_SETTLE_S = 0.2  # a restarted watch that lives this long is up: then rescan


@dataclass(frozen=True, slots=True)
class FilesChanged:
    paths: frozenset[str]  # workflow files, relative to the root
    # Other changed paths, relative: a folder moved or removed as a whole reports only itself,
    # so the daemon rescans when one of these held workflow files.
    others: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TreeReplaced:
    target: str  # the root's new real path (a git-sync swap, or the root came back)


@dataclass(frozen=True, slots=True)
class TreeGone:
    reason: str


@dataclass(frozen=True, slots=True)
class RescanNeeded:
    reason: str  # watching restarted (e.g. fell back to polling): events may have been missed


Trigger = FilesChanged | TreeReplaced | TreeGone | RescanNeeded


class WatchFunction(Protocol):
    """The part of `watchfiles.awatch` used here, so tests can script it."""

    def __call__(
        self,
        *paths: Path,
        watch_filter: Callable[[watchfiles.Change, str], bool] | None = ...,
        debounce: int = ...,
        step: int = ...,
        stop_event: Any = ...,
        force_polling: bool | None = ...,
        poll_delay_ms: int = ...,
        recursive: bool = ...,
        ignore_permission_denied: bool | None = ...,
    ) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]: ...


@dataclass(frozen=True, slots=True)
class _Target:
    path: Path
    device: int
    inode: int


@dataclass(slots=True)
class WatcherState:
    """Read by the daemon for /status and metrics."""

    mode: str = "starting"  # inotify | polling | stopped
    target: str = ""
    detail: str = ""


def _is_watch_limit(error: BaseException) -> bool:
    text = str(error).lower()
    return "watch limit" in text or "too many open files" in text or "inotify" in text


class TreeWatcher:
    def __init__(
        self,
        root: Path,
        send: MemoryObjectSendStream[Trigger],
        *,
        step_ms: int = 50,
        max_wait_ms: int = 2000,
        link_poll_s: float = 0.5,
        watch: WatchFunction = watchfiles.awatch,
        force_polling: bool = False,
    ) -> None:
        self.root = root
        self.send = send
        self.step_ms = step_ms
        self.max_wait_ms = max_wait_ms
        self.link_poll_s = link_poll_s
        self.watch = watch
        self.polling = force_polling or os.environ.get("SCHEDULED_FORCE_POLLING") == "1"
        self.state = WatcherState()
        self._failures = 0  # watch failures in a row, for the restart backoff
        self._rescan_due = False  # the watch (re)started after a failure
        self._polling_reason = "forced" if self.polling else ""

    def _current_target(self) -> _Target | None:
        """The root's real path and folder identity, or None when it is missing/unreadable.

        The identity (device, inode) tells a folder put in the root's place apart from the
        root itself, even when the path is the same (a volume remounted, a folder moved back).
        """
        try:
            target = self.root.resolve(strict=True)
            info = target.stat()
        except (OSError, RuntimeError):
            return None
        if not stat.S_ISDIR(info.st_mode) or not os.access(target, os.R_OK | os.X_OK):
            return None
        return _Target(target, info.st_dev, info.st_ino)

    async def run(self) -> None:
        """Watch until cancelled. Never returns on its own."""
        announced_gone = False
        watched: _Target | None = None
        while True:
            current = self._current_target()
            if current is None:
                if not announced_gone:
                    self.state.mode, self.state.detail = "stopped", "root missing or unreadable"
                    await self.send.send(TreeGone(f"{self.root} is missing or unreadable"))
                    announced_gone = True
                await anyio.sleep(self.link_poll_s)
                continue
            if announced_gone or (watched is not None and watched != current):
                await self.send.send(TreeReplaced(str(current.path)))
            announced_gone = False
            watched = current
            self.state.target = str(current.path)
            await self._watch_target(current)

    async def _watch_target(self, current: _Target) -> None:
        target = current.path
        stop = anyio.Event()
        failure: OSError | RuntimeError | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(self._wait_for_swap, current, stop)
            if self._rescan_due:  # events may have been missed while watching was down
                self._rescan_due = False
                group.start_soon(self._send_later, RescanNeeded("file watching restarted"))
            try:
                await self._stream_changes(target, stop, group)
            except (OSError, RuntimeError) as error:  # RuntimeError: watchfiles' thread died
                failure = error
            group.cancel_scope.cancel()  # also drops a rescan for a watch that did not start
        if failure is None:
            return
        self._rescan_due = True
        if isinstance(failure, OSError) and _is_watch_limit(failure) and not self.polling:
            self.polling = True
            self._polling_reason = "inotify watch limit reached"
            logger.bind(error=str(failure)).warning(
                "the inotify watch limit is reached: falling back to polling "
                "(raise fs.inotify.max_user_watches to watch efficiently)"
            )
        else:
            await self._failed(failure)

    async def _failed(self, error: Exception) -> None:
        """Log, then wait before restarting: longer after each failure in a row, up to 30 s."""
        delay = min(30.0, self.link_poll_s * 2**self._failures)
        self._failures += 1
        logger.bind(error=str(error), retry_in_s=delay).warning(
            "file watching failed; restarting it"
        )
        await anyio.sleep(delay)

    async def _send_later(self, trigger: Trigger) -> None:
        """Send trigger once the file system clock has moved on, when polling.

        The poller compares modification times in whole seconds: a file saved again within
        the second of a change it has already reported (or of its first scan) looks unchanged.
        Reading such files once more a second later catches that save. With inotify, a short
        wait lets a watch that fails at once be restarted before anything is rescanned.
        """
        await anyio.sleep(POLL_TICK_S if self.polling else RESCAN_SETTLE_S)
        await self.send.send(trigger)

    async def _stream_changes(
        self, target: Path, stop: anyio.Event, group: anyio.abc.TaskGroup
    ) -> None:
        self.state.mode = "polling" if self.polling else "inotify"
        self.state.detail = self._polling_reason if self.polling else ""
        async for changes in self.watch(
            target,
            watch_filter=_interesting,
            debounce=self.max_wait_ms,
            step=self.step_ms,
            stop_event=stop,
            force_polling=self.polling,
            poll_delay_ms=300,
            recursive=True,
            # An unreadable sub-folder is the loader's to report (as that folder's problem);
            # it must not stop the watching of the rest of the tree.
            ignore_permission_denied=True,
        ):
            self._failures = 0
            batch = _batch(target, changes)
            if batch is not None:
                await self.send.send(batch)
                if self.polling:
                    group.start_soon(self._send_later, batch)

    async def _wait_for_swap(self, current: _Target, stop: anyio.Event) -> None:
        """Stop the watch when the root's real path changes or the root goes away."""
        # Polling on purpose: inotify does not report a symlink swap in the root's parent
        # without watching that whole parent folder (git-sync keeps every worktree there).
        try:
            while self._current_target() == current:  # noqa: ASYNC110
                await anyio.sleep(self.link_poll_s)
        finally:
            # Also on cancellation (the daemon stopping): watchfiles' worker thread cannot be
            # cancelled and sets this event itself only once it returns, up to 5 s later.
            stop.set()


def _interesting(change: watchfiles.Change, path: str) -> bool:
    name = os.path.basename(path)
    if is_workflow_file_name(name):
        return True
    # A folder renamed or removed as a whole reports only the folder: keep such events.
    return not is_ignored_dir_name(name) and "." not in name


def _batch(target: Path, changes: set[tuple[watchfiles.Change, str]]) -> FilesChanged | None:
    paths: set[str] = set()
    others: set[str] = set()
    for _, raw in changes:
        path = Path(raw)
        try:
            relative = path.relative_to(target)
        except ValueError:
            continue
        if not relative.parts:
            continue  # the root itself (moved or removed): the link poll reports that
        if any(is_ignored_dir_name(part) for part in relative.parts[:-1]):
            continue
        if is_workflow_file_name(path.name):
            paths.add(relative.as_posix())
        else:
            others.add(relative.as_posix())
    if not paths and not others:
        return None
    return FilesChanged(frozenset(paths), frozenset(others))
