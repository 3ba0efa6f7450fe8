"""What the daemon has to do next, from the messages it received: pure state, no sleeping.

Watcher and signal messages fold into one `Pending` value (a full pass, or a changed set of
files), and each message may ask for an effect (reload the config, the root is gone or back)
that the service carries out. The quiet period is plain arithmetic over a clock the caller
reads, so the debounce is tested without waiting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from scheduled.daemon.watcher import FilesChanged, RescanNeeded, TreeGone, TreeReplaced, Trigger
from scheduled.format.tree import is_ignored_dir_name, is_workflow_file_name

FOLDER_SCAN_LIMIT = 5_000  # a folder event holding more workflow files: rescan everything


@dataclass(frozen=True, slots=True)
class StopRequested:
    """Sent by request_stop: wakes a loop that waits for changes."""


@dataclass(frozen=True, slots=True)
class ReloadRequested:
    """SIGHUP: re-read the config, then a full pass."""


@dataclass(frozen=True, slots=True)
class TemporalReachable:
    """The health probe saw Temporal answer again: a pass waiting out a backoff may go now."""


Message = Trigger | StopRequested | ReloadRequested | TemporalReachable


class Effect(StrEnum):
    """Something a message asks the service to do besides reconciling."""

    RELOAD = "reload"
    ROOT_GONE = "root gone"  # decide nothing until it returns
    ROOT_BACK = "root back"
    ROOT_REPLACED = "root replaced"  # a new checkout: cached file signatures mean nothing now
    RESCAN = "rescan"


@dataclass(frozen=True, slots=True)
class Pending:
    """The work waiting for the next pass."""

    full: bool = False
    files: frozenset[str] = frozenset()
    # Non-YAML paths that changed (a folder created, moved or removed as a whole is reported
    # as the folder alone): expanded into their workflow files before the pass.
    folders: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.full or self.files or self.folders)


NOTHING = Pending()
EVERYTHING = Pending(full=True)


def absorb(pending: Pending, message: Message, *, root_gone: bool) -> tuple[Pending, Effect | None]:
    """The pending work after one message, and the effect it asks for."""
    if isinstance(message, StopRequested | TemporalReachable):
        return pending, None
    if isinstance(message, ReloadRequested):
        return Pending(True, pending.files, pending.folders), Effect.RELOAD
    if isinstance(message, TreeGone):
        return NOTHING, Effect.ROOT_GONE
    if isinstance(message, TreeReplaced):
        return EVERYTHING, Effect.ROOT_BACK if root_gone else Effect.ROOT_REPLACED
    if isinstance(message, RescanNeeded):
        return Pending(True, pending.files, pending.folders), Effect.RESCAN
    assert isinstance(message, FilesChanged)
    return (
        Pending(
            pending.full,
            pending.files | frozenset(message.paths),
            pending.folders | frozenset(message.others),
        ),
        None,
    )


def files_under(root: Path, folders: Iterable[str], known: Iterable[str]) -> frozenset[str] | None:
    """The workflow files that changed non-YAML paths hold now, or held at the last load
    (`known`): inotify may miss files written into a new folder before it is watched. None:
    too many to list, or a linked folder whose contents the tree walk's rules decide; rescan
    everything instead. Walks the file system: run it in a worker thread."""
    found: set[str] = set()
    known = tuple(known)
    for relative in folders:
        if relative in ("", "."):
            continue  # the root itself: the watcher reports its loss and its return
        prefix = relative.rstrip("/") + "/"
        found |= {name for name in known if name.startswith(prefix)}
        folder = root / relative
        if folder.is_symlink():
            return None
        if folder.is_dir():
            for current, subfolders, files in os.walk(folder):
                subfolders[:] = [name for name in subfolders if not is_ignored_dir_name(name)]
                base = Path(current).relative_to(root).as_posix()
                found |= {f"{base}/{name}" for name in files if is_workflow_file_name(name)}
                if len(found) > FOLDER_SCAN_LIMIT:
                    return None
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class QuietPeriod:
    """The debounce: take changes until none came for `quiet_s`, or for at most `max_wait_s`
    under a steady stream of saves. The watcher reports changes within a step of 25 ms, so the
    quiet period is timed from each batch's arrival."""

    quiet_s: float
    deadline: float  # on the caller's monotonic clock

    @classmethod
    def starting(cls, now: float, *, debounce_ms: int, max_wait_ms: int) -> QuietPeriod:
        return cls(debounce_ms / 1000, now + max_wait_ms / 1000)

    def wait(self, now: float) -> float:
        """How long to wait for the next change; zero or less: reconcile now."""
        return min(self.quiet_s, self.deadline - now)


def loop_is_alive(busy_since: float | None, progress_at: float, now: float, stall_s: float) -> bool:
    """Whether the systemd watchdog may be fed: the loop waits for work, or the pass in
    progress moved (loaded, planned, finished an operation) within `stall_s`. A pass that hangs
    stops the pings, and systemd restarts the service."""
    return busy_since is None or now - progress_at < stall_s


@dataclass(slots=True)
class RecentDeletions:
    """Deletions made within the last `window_s` (the resync interval), for the prune guard."""

    window_s: float
    made: list[tuple[float, int]] = field(default_factory=list)

    def add(self, now: float, count: int) -> None:
        if count:
            self.made.append((now, count))

    def total(self, now: float) -> int:
        self.made = [(at, count) for at, count in self.made if now - at < self.window_s]
        return sum(count for _, count in self.made)


@dataclass(slots=True)
class Backoff:
    """Retry delays after failed passes: 1 s, 2 s, 5 s, 10 s, then 30 s."""

    steps: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    failures: int = field(default=0)

    def next_delay(self) -> float:
        delay = self.steps[min(self.failures, len(self.steps) - 1)]
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0
