"""A seeded, randomized model-based test of `scheduled run` (issue 8).

The daemon watches a tree of 4–12 workflow files while the test changes it at random: valid
edits, invalid saves (a YAML syntax error, an unknown key, a cron out of range, an empty file),
a `schedule:` block removed, a new id, deletes, renames (also over another file, also of a
whole folder), new files, duplicate ids, and edits that keep the file's mtime and size; now and
then it kills the daemon with SIGKILL and starts it again, restarts the Temporal dev server (the
test's own, on a persistent SQLite file) or sends SIGHUP. After each batch of 1–5 changes it
waits for the daemon to settle and compares what Temporal holds with a model of the tree.

    SCHEDULED_MODEL_SEED=1234 SCHEDULED_MODEL_STEPS=300 pytest tests/test_daemon_model.py -q

The seed (default: random) and the step count (default 300) are printed at the start, with each
batch as it is made; a failure repeats the seed, the command that reproduces it and the step log.

The model is the tree (path -> what the file holds) and the schedules Temporal should hold (id
-> note, cron, source file), derived by the documented rules (README, "How reconciling works"):

* a valid file with a `schedule:` block has a schedule with its note, its cron and its path as
  the source of the last write, whatever the schedule was before;
* a file that exists but is invalid keeps the schedules it claims unchanged: the one whose id it
  names (a schema or cron error leaves the id readable), and the one last written from its path
  (a YAML error leaves no id to read); the same id in two files makes both files invalid;
* every other schedule is deleted: its file is gone, or the file lost its `schedule:` block or
  its id (deleted a quiet period later, on a second look). So a broken file that is *renamed*
  loses its schedule when its id cannot be read: nothing in the tree names it any more;
* the prune guard is out of the way (`--max-delete-fraction 1`; the tree never gets emptier than
  MIN_FILES files), so that every deletion the rules call for is made.

A pass reads the tree at some moment between two of the test's file operations (each one is
atomic, or a truncate followed by one write, which shows an empty file for a moment), so which
intermediate trees the daemon saw is a matter of timing. The model folds over every subsequence
of them: a change whose outcome would depend on that timing is not made in the batch (the next
batch may make it). What every order agrees on is asserted exactly: the note, cron and source of
each schedule, that no other schedule exists, that a schedule no possible order deletes keeps its
identity (Temporal's `created_at`: a rename moves a schedule, it never re-creates it), and that a
schedule no possible order changes is not written at all (an unchanged file makes zero writes).
It also checks /status: the invalid files, and the number of managed schedules.

It found three bugs of changed-set passes, all fixed: KNOWN_BUG_STRANDED_ORPHANS,
KNOWN_BUG_EXPANSION_RACE and KNOWN_BUG_TORN_WALK (a file moved between folders while a pass
walks the tree was in neither listing). The flags stay, to re-guard a regression while it is
being fixed; their minimal reproductions are plain tests at the end.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import temporalio.client as tc
from daemon_helpers import (
    DaemonProcess,
    RestartableServer,
    TemporalProbe,
    schedule_state,
    sid,
    start_daemon,
    wait_until,
)
from trees import workflow_yaml, write_workflow

from scheduled.model.desired import schedule_id_prefix
from scheduled.temporal.marker import parse_record

pytestmark = pytest.mark.temporal

SEED_ENV, STEPS_ENV = "SCHEDULED_MODEL_SEED", "SCHEDULED_MODEL_STEPS"
DEFAULT_STEPS = 300
MIN_FILES, MAX_FILES, START_FILES = 4, 12, 8
WORKFLOW_IDS = tuple(f"w{index:02d}" for index in range(16))
FOLDERS = ("", "team-a/", "team-b/deep/")  # no dots: the watcher reads a dotless name as a folder
DAEMON_ARGS = ("--max-delete-fraction", "1")
SETTLE_S = 30.0  # a batch is reconciled within about a second; the rest is for a busy machine
SETTLE_AFTER_OUTAGE_S = 90.0  # the daemon's backoff after a Temporal restart reaches 10 s
MAX_VIEWS = 8  # trees one batch may show the daemon: the model folds over 2**(n-1) orders
PACED_BATCHES = 0.3  # share of batches with pauses between their changes

# Known bug (found by this test; see test_deleting_a_renamed_broken_file_deletes_its_schedule):
# a changed-set pass plans a schedule that no file wants only when the file it was last written
# from is among the changed files. So when the last file claiming an id (an invalid file, or one
# of two duplicates) changes or goes away after the schedule's own file has gone or moved on,
# the schedule stays until the next full resync. While True, a batch that makes such a deletion
# (in some order of passes: the schedule's source is not among the files changed since the pass
# before) is checked without those ids after its changed passes; then SIGHUP asks for a full
# pass, and the deletion (and that nothing else is written) is checked strictly. Set it to
# False once test_deleting_a_renamed_broken_file_deletes_its_schedule passes.
KNOWN_BUG_STRANDED_ORPHANS = False  # fixed: the plan scope holds the ids files named before
# Known bug 2 (found by this test; see test_a_duplicate_deleted_during_a_pass_...): a changed
# pass widens its changed set with the files that name the same ids (and a folder's files) as
# the previous pass's load saw them; when that load already read a change whose watcher event
# came too late for its own changed set, the next pass widens from a tree without the file, so
# e.g. the other file of a removed duplicate is not applied until the next full resync. Only a
# pass that straddles a change can do that: from the second change of a batch on. While True,
# ids such a change can only reach through that widening are treated as for bug 1.
KNOWN_BUG_EXPANSION_RACE = False  # fixed: a gone file's id is kept until a pass holds it
# Known bug 3 (found by this test; see test_a_file_moved_to_another_folder_during_a_walk_...):
# a pass walks the tree folder by folder, so a file moved from one folder to another meanwhile
# may be in neither listing; if the pass was about that file already (it was just edited), its
# schedule is deleted, and the next pass creates it anew (history and an operator's pause
# lost), or not at all while another file claims the id. While True, a change made while a
# pass may be walking (from the second change of a batch on) allows for that tree too.
KNOWN_BUG_TORN_WALK = False  # fixed: the daemon looks for a gone file once more first


# -- what a file holds -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A valid file with a `schedule:` block."""

    workflow_id: str
    minute: int
    hour: int
    note: str

    def text(self) -> str:
        return workflow_yaml(
            self.workflow_id, cron=f"{self.minute} {self.hour} * * *", note=self.note
        )


@dataclass(frozen=True, slots=True)
class Unscheduled:
    """A valid file without a `schedule:` block: the workflow has no schedule."""

    workflow_id: str

    def text(self) -> str:
        return workflow_yaml(self.workflow_id)


BROKEN_KINDS = ("yaml syntax", "unknown key", "cron out of range", "empty")


@dataclass(frozen=True, slots=True)
class Broken:
    """An invalid file. The daemon reads its id even when the YAML is broken (from its
    top-level `id:` line), but not from an empty file."""

    kind: str
    workflow_id: str
    note: str = ""

    @property
    def readable_id(self) -> str | None:
        return None if self.kind == "empty" else self.workflow_id

    def text(self) -> str:
        if self.kind == "yaml syntax":  # a flow mapping that is never closed
            return (
                workflow_yaml(self.workflow_id)
                + f'schedule: {{cron: "0 9 * * *", note: {json.dumps(self.note)}\n'
            )
        if self.kind == "unknown key":
            return workflow_yaml(self.workflow_id, crn="0 9 * * *", note=self.note)
        if self.kind == "cron out of range":
            return workflow_yaml(self.workflow_id, cron="61 9 * * *", note=self.note)
        return ""


@dataclass(frozen=True, slots=True)
class Unlisted:
    """A folder (key `name/`) that a walk found and could not list: it was moved away
    meanwhile. The daemon keeps the schedules of every file recorded under it."""

    workflow_id: None = None

    def text(self) -> str:
        raise AssertionError("only a walk in flight sees it: never written")


FileState = Scheduled | Unscheduled | Broken | Unlisted
Tree = Mapping[str, FileState]  # relative path -> content, as the daemon names files


def readable_id(state: FileState) -> str | None:
    return state.readable_id if isinstance(state, Broken) else state.workflow_id


def describe_state(state: FileState | None) -> str:
    if state is None:
        return "(none)"
    if isinstance(state, Scheduled):
        return f"{state.workflow_id} '{state.minute} {state.hour} * * *' note={state.note}"
    if isinstance(state, Unscheduled):
        return f"{state.workflow_id} without a schedule block"
    if isinstance(state, Unlisted):
        return "a folder that cannot be listed"
    return f"broken ({state.kind}), written as {state.workflow_id}"


# -- what Temporal should hold -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expected:
    """A schedule as the model sees it: what a file set, and which file it came from."""

    note: str
    minute: int
    hour: int
    source: str

    def __str__(self) -> str:
        return f"'{self.minute} {self.hour} * * *' note={self.note} from {self.source}"


Temporal = Mapping[str, Expected]  # workflow id -> schedule


@dataclass(frozen=True, slots=True)
class Derived:
    """What the daemon makes of one tree: what it wants, and what it must leave alone."""

    desired: dict[str, Expected]
    invalid: frozenset[str]  # files that exist but fail validation, duplicates included
    claimed: frozenset[str]  # ids that invalid files name: their schedules are kept
    # Empty files among them: YAML without an id is "not a workflow file" (a warning, not in
    # /status's invalid files), and still keeps the schedule it was written from.
    not_workflow: frozenset[str] = frozenset()


def derive(tree: Tree) -> Derived:
    """The tree through the daemon's rules: one id per tree, a broken file applies nothing."""
    holders: dict[str, list[str]] = defaultdict(list)
    for path, state in tree.items():
        if (workflow_id := readable_id(state)) is not None:
            holders[workflow_id].append(path)
    invalid = {path for path, state in tree.items() if isinstance(state, Broken | Unlisted)}
    invalid |= {path for paths in holders.values() if len(paths) > 1 for path in paths}
    claimed = {workflow_id for path in invalid if (workflow_id := readable_id(tree[path]))}
    desired = {
        state.workflow_id: Expected(state.note, state.minute, state.hour, path)
        for path, state in tree.items()
        if isinstance(state, Scheduled) and path not in invalid
    }
    empty = {
        path for path, state in tree.items() if isinstance(state, Broken) and state.kind == "empty"
    }
    return Derived(desired, frozenset(invalid), frozenset(claimed), frozenset(empty))


def reconciled(tree: Tree, temporal: Temporal) -> dict[str, Expected]:
    """What Temporal holds once the daemon reconciled this tree, starting from `temporal`."""
    derived = derive(tree)
    unlisted = tuple(path for path in derived.invalid if path.endswith("/"))
    after = dict(derived.desired)
    for workflow_id, held in temporal.items():
        if workflow_id in after:
            continue
        if (
            held.source in derived.invalid
            or held.source.startswith(unlisted)
            or workflow_id in derived.claimed
        ):
            after[workflow_id] = held  # a broken file keeps its schedule exactly as it is
        # else: deleted (at once, or a quiet period later when the file is still there)
    return after


@dataclass(frozen=True, slots=True)
class View:
    """A tree the daemon may read, and the files changed to get there from the tree before."""

    tree: dict[str, FileState]
    changed: frozenset[str]
    # A pass started for an earlier change of the batch may have taken its changed set before
    # this change and read the tree after it (KNOWN_BUG_EXPANSION_RACE).
    straddled: bool = False

    @classmethod
    def everything(cls, tree: Tree) -> View:
        return cls(dict(tree), frozenset(tree))


@dataclass(frozen=True, slots=True)
class Seen:
    """One way the daemon may have lived through a batch: the trees it happened to read, and
    whether a known bug left changes undone on the way."""

    temporal: frozenset[tuple[str, Expected]]
    deleted: frozenset[str] = frozenset()  # ids deleted on the way (may have come back anew)
    written: frozenset[str] = frozenset()  # ids written on the way
    stranded: frozenset[str] = frozenset()  # changes known bug 1 may leave undone
    racy: frozenset[str] = frozenset()  # changes known bug 2 may leave undone
    lagging: frozenset[str] = frozenset()  # changes a known bug did leave undone, in this way
    unread: frozenset[str] = frozenset()  # files changed since the last tree read

    def after(self, view: View) -> set[Seen]:
        """A pass read this tree (its changed set: every file changed since the last read);
        with a known bug in reach, also the way where the bug struck."""
        before = dict(self.temporal)
        now = reconciled(view.tree, before)
        changed = {i for i in before.keys() | now.keys() if before.get(i) != now.get(i)}
        gone = before.keys() - now.keys()
        scope = self.unread | view.changed
        # A changed pass plans a schedule a file wants only when that file is in its changed
        # set, and one no file wants only when the file it was written from is; beyond the
        # files changed, it has only its widening (the files naming the same id) to find them.
        stranded = {i for i in gone if before[i].source not in scope}
        racy = {i for i in changed if (new := now.get(i)) and new.source not in scope}
        racy = racy if view.straddled else set()
        seen = Seen(
            frozenset(now.items()),
            self.deleted | gone,
            self.written | changed,
            self.stranded | stranded,
            self.racy | racy,
            self.lagging,
        )
        undone = (stranded if KNOWN_BUG_STRANDED_ORPHANS else set()) | (
            racy if KNOWN_BUG_EXPANSION_RACE else set()
        )
        if not undone:
            return {seen}
        struck = {i: e for i, e in now.items() if i not in undone}
        struck.update({i: before[i] for i in undone if i in before})
        return {
            seen,
            replace(seen, temporal=frozenset(struck.items()), lagging=seen.lagging | undone),
        }

    def skipping(self, view: View) -> Seen:
        """No pass read this tree: its changes wait for the next pass."""
        return replace(self, unread=self.unread | view.changed)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What every way of living through a batch agrees on, or None for `temporal` when they
    disagree (the change that made it so is not made).

    Ways where a known bug struck may differ in the ids it struck (`known_bugs`), but only so
    far as a full pass repairs: once it ran, every way must agree."""

    temporal: dict[str, Expected] | None
    keeps_identity: frozenset[str]  # no way deletes them: the same schedule, not a new one
    unwritten: frozenset[str]  # no way changes them: not written at all
    stranded: frozenset[str]  # some way leaves them to known bug 1
    racy: frozenset[str]  # some way leaves them to known bug 2
    known_bugs: frozenset[str]  # checked only after a full pass

    @classmethod
    def of(cls, start: Temporal, views: Sequence[View]) -> BatchOutcome:
        ways = {Seen(frozenset(start.items()))}
        for view in views[:-1]:  # each intermediate tree was read, or not
            ways = {w for way in ways for w in way.after(view)} | {w.skipping(view) for w in ways}
        ends = {w for way in ways for w in way.after(views[-1])}  # the last tree is read
        stranded = frozenset().union(*(way.stranded for way in ends))
        racy = frozenset().union(*(way.racy for way in ends))
        known_bugs = frozenset().union(*(way.lagging for way in ends))
        results = {way.temporal for way in ends if not way.lagging}
        last = views[-1].tree
        repaired = {frozenset(reconciled(last, dict(way.temporal)).items()) for way in ends}
        if len(results) != 1 or repaired != results:
            return cls(None, frozenset(), frozenset(), stranded, racy, known_bugs)
        [result] = results
        final = dict(result)
        kept = start.keys() & final.keys()
        return cls(
            final,
            frozenset(i for i in kept if not any(i in way.deleted for way in ends)),
            frozenset(i for i in kept if not any(i in way.written for way in ends)),
            stranded,
            racy,
            known_bugs,
        )


# -- changes on disk, each with the trees the daemon may read meanwhile -------------------------

EMPTY_FILE = Broken("empty", "")


def write_atomically(path: Path, text: str) -> None:
    """Write a hidden temp file beside it, then rename it over the file (vim, git, most tools)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def write_keeping_mtime(path: Path, text: str) -> bool:
    """Overwrite in place and put the old mtime back (rsync -t, some editors, a fast second
    save): the daemon's cache keys on (mtime, size, inode), so only the watcher can tell.
    Returns whether the size stayed too (then nothing was truncated on the way)."""
    data, before = text.encode(), path.stat()
    if len(data) == before.st_size:
        with path.open("r+b") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    return len(data) == before.st_size


@dataclass(frozen=True, slots=True)
class Change:
    """One change of the tree: the trees it shows on its way, its last one, and the deed."""

    kind: str
    label: str
    views: tuple[View, ...]
    perform: Callable[[Path], object]
    # What a walk in flight may read while the change is made, when it spans two folders
    # listed at different moments: each is (tree, whether only known bug 3 makes it matter).
    torn: tuple[tuple[dict[str, FileState], bool], ...] = ()

    @property
    def after(self) -> dict[str, FileState]:
        return self.views[-1].tree


def write(
    tree: Tree, path: str, state: FileState, kind: str, *, in_place: bool, why: str = ""
) -> Change:
    after = View({**tree, path: state}, frozenset({path}))
    text = state.text()
    if in_place:  # truncate, then write: an empty file for a moment
        return Change(
            kind,
            f"{kind}{why} {path} (in place): {describe_state(state)}",
            (View({**tree, path: EMPTY_FILE}, frozenset({path})), after),
            lambda root: write_workflow(root, path, text),
        )
    return Change(
        kind,
        f"{kind}{why} {path}: {describe_state(state)}",
        (after,),
        lambda root: write_atomically(root / path, text),
    )


def keep_mtime(tree: Tree, path: str, state: FileState, same_size: bool) -> Change:
    views: tuple[View, ...] = (View({**tree, path: state}, frozenset({path})),)
    if not same_size:  # a truncate on the way
        views = (View({**tree, path: EMPTY_FILE}, frozenset({path})), *views)
    how = "same mtime and size" if same_size else "same mtime"
    return Change(
        "same mtime",
        f"edit {path} ({how}): {describe_state(state)}",
        views,
        lambda root: write_keeping_mtime(root / path, state.text()),
    )


def delete(tree: Tree, path: str) -> Change:
    after = View({name: state for name, state in tree.items() if name != path}, frozenset({path}))
    return Change("delete", f"delete {path}", (after,), lambda root: (root / path).unlink())


def rename(tree: Tree, source: str, target: str) -> Change:
    over = f" (over {describe_state(tree[target])})" if target in tree else ""
    after = {name: state for name, state in tree.items() if name != source}
    after[target] = tree[source]

    def perform(root: Path) -> None:
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(root / source, root / target)

    view = View(after, frozenset({source, target}))
    torn: tuple[tuple[dict[str, FileState], bool], ...] = ()
    if folder_of(source) != folder_of(target):
        neither = {name: state for name, state in tree.items() if name != source}
        torn = (({**tree, target: tree[source]}, False), (neither, True))
    return Change("rename", f"rename {source} -> {target}{over}", (view,), perform, torn)


def folder_of(path: str) -> str:
    return path.rstrip("/").rpartition("/")[0]


def move_folder(tree: Tree, source: str, target: str) -> Change:
    moved = {name: target + name.removeprefix(source) for name in tree if name.startswith(source)}
    after = View(
        {moved.get(name, name): state for name, state in tree.items()},
        frozenset(moved) | frozenset(moved.values()),
    )
    outside = {name: state for name, state in tree.items() if name not in moved}
    arrived = {moved[name]: state for name, state in tree.items() if name in moved}
    unlisted: dict[str, FileState] = {source: Unlisted()}
    torn = [({**outside, **unlisted}, False)]  # listed by its old name, gone when walked
    if folder_of(source) != folder_of(target):
        torn += [
            ({**outside, **unlisted, **arrived}, False),
            ({**tree, **arrived}, False),  # in both places
            (outside, True),  # in neither
        ]

    def perform(root: Path) -> None:
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        os.rename(root / source, root / target)

    label = f"move folder {source} -> {target}"
    return Change("move folder", label, (after,), perform, tuple(torn))


def new_folder(tree: Tree, files: Sequence[tuple[str, FileState]]) -> Change:
    """A folder that appears with files in it (cp -r, a checkout): inotify may miss files
    written before the new folder is watched."""
    views, current = [], dict(tree)
    for path, state in files:
        current = {**current, path: state}
        views.append(View(current, frozenset({path})))

    def perform(root: Path) -> None:
        for path, state in files:
            write_atomically(root / path, state.text())

    listed = ", ".join(f"{path}: {describe_state(state)}" for path, state in files)
    return Change("new folder", f"new folder with {listed}", tuple(views), perform)


def delete_folder(tree: Tree, folder: str) -> Change:
    """A folder removed with everything in it (rm -r): one file after the other."""
    files = sorted(name for name in tree if name.startswith(folder))
    views, current = [], dict(tree)
    for path in files:
        current = {name: state for name, state in current.items() if name != path}
        views.append(View(current, frozenset({path})))

    def perform(root: Path) -> None:
        for path in files:  # in the order the model's views have them
            (root / path).unlink()
        shutil.rmtree(root / folder)

    return Change(
        "delete folder", f"delete folder {folder} ({len(files)} files)", tuple(views), perform
    )


class Editor:
    """Proposes random changes of the model's tree (nothing is done until one is performed)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names = itertools.count()  # a path is never used twice (but for a rename over it)
        self.notes = itertools.count()

    def new_path(self, tree: Tree) -> str:
        folders = {*FOLDERS, *(name.rsplit("/", 1)[0] + "/" for name in tree if "/" in name)}
        return f"{self.rng.choice(sorted(folders))}f{next(self.names)}.yaml"

    def note(self, tag: str = "n") -> str:
        return f"{tag}{next(self.notes)}" + "." * self.rng.randint(3, 9)  # room to trim

    def scheduled(self, workflow_id: str) -> Scheduled:
        return Scheduled(workflow_id, self.rng.randrange(60), self.rng.randrange(24), self.note())

    def free_id(self, tree: Tree) -> str:
        held = {readable_id(state) for state in tree.values()}
        return self.rng.choice([i for i in WORKFLOW_IDS if i not in held])

    def propose(self, tree: Tree, root: Path) -> Change | None:
        """One random change, or None when the kind drawn does not apply to this tree."""
        rng, count = self.rng, len(tree)
        [kind] = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))
        path = rng.choice(sorted(tree))
        in_place = rng.random() < 0.3
        old = tree.get(path)
        same_id = old.workflow_id if old is not None and old.workflow_id else self.free_id(tree)
        if kind == "valid edit":
            return write(tree, path, self.scheduled(same_id), "edit", in_place=in_place)
        if kind == "invalid save":
            broken = Broken(rng.choice(BROKEN_KINDS), same_id, self.note("bad"))
            return write(tree, path, broken, kind, in_place=in_place)
        if kind == "schedule block removed":
            return write(tree, path, Unscheduled(same_id), "remove block", in_place=in_place)
        if kind == "new id":
            return write(tree, path, self.scheduled(self.free_id(tree)), kind, in_place=in_place)
        if kind == "delete":
            return delete(tree, path) if count > MIN_FILES else None
        if kind == "rename":
            return rename(tree, path, self.new_path(tree))
        if kind == "rename over":
            others = sorted(name for name in tree if name != path)
            return rename(tree, path, rng.choice(others)) if count > MIN_FILES else None
        if kind == "create":
            if count >= MAX_FILES:
                return None
            new_id = self.free_id(tree)
            state = self.scheduled(new_id) if rng.random() < 0.85 else Unscheduled(new_id)
            return write(tree, self.new_path(tree), state, kind, in_place=in_place)
        if kind == "duplicate id":
            held = sorted(name for name, state in tree.items() if readable_id(state))
            twin = rng.choice(held) if held else path
            target = self.new_path(tree) if count < MAX_FILES else path
            if target == twin or not held:
                return None
            copy = self.scheduled(readable_id(tree[twin]) or "")
            return write(tree, target, copy, kind, in_place=in_place, why=f" of {twin} into")
        if kind == "same mtime":
            return self.same_mtime(tree, root, path, same_id)
        if kind == "new folder":
            folder = f"{rng.choice(FOLDERS)}new{next(self.names)}/"
            files: list[tuple[str, FileState]] = []
            for _ in range(min(rng.randint(1, 3), MAX_FILES - count)):
                workflow_id = self.free_id({**tree, **dict(files)})
                files.append((f"{folder}f{next(self.names)}.yaml", self.scheduled(workflow_id)))
            return new_folder(tree, files) if files else None
        folders = sorted({name.rsplit("/", 1)[0] + "/" for name in tree if "/" in name})
        if not folders:
            return None
        if kind == "delete folder":  # a leaf: one listing shows the deletions in order
            leaves = [f for f in folders if not any(o != f and o.startswith(f) for o in folders)]
            folder = rng.choice(leaves)
            inside = sum(1 for name in tree if name.startswith(folder))
            return delete_folder(tree, folder) if count - inside >= MIN_FILES else None
        assert kind == "move folder"
        return move_folder(tree, rng.choice(folders), f"moved{next(self.names)}/")

    def same_mtime(self, tree: Tree, root: Path, path: str, workflow_id: str) -> Change:
        """A new version of the same size when the note can be trimmed or padded to it."""
        size = (root / path).stat().st_size
        if self.rng.random() < 0.75:
            state: FileState = self.scheduled(workflow_id)
        else:
            state = Broken("cron out of range", workflow_id, self.note("bad"))
        assert isinstance(state, Scheduled | Broken)
        base = state.note.rstrip(".")
        bare = len(replace(state, note=base).text().encode())
        if bare <= size:
            state = replace(state, note=base + "." * (size - bare))
        return keep_mtime(tree, path, state, len(state.text().encode()) == size)


WEIGHTS = {
    "valid edit": 24,
    "invalid save": 12,
    "schedule block removed": 6,
    "new id": 4,
    "delete": 8,
    "rename": 10,
    "rename over": 2,
    "create": 12,
    "duplicate id": 6,
    "same mtime": 12,
    "move folder": 3,
    "new folder": 3,
    "delete folder": 2,
}
# Per batch: the daemon killed and started again, Temporal restarted, a reload.
RARE = {"kill the daemon": 0.04, "restart Temporal": 0.025, "SIGHUP": 0.03}


# -- the processes -----------------------------------------------------------------------------


@dataclass
class World:
    """The test's own Temporal dev server (restartable: same port, same database), a probe on
    it, the tree and the daemon that watches it."""

    workdir: Path
    project: str
    temporal: RestartableServer
    root: Path
    daemon: DaemonProcess | None = None
    daemons: int = 0

    @property
    def probe(self) -> TemporalProbe:
        return self.temporal.probe

    def start_daemon(self) -> DaemonProcess:
        self.daemons += 1
        self.daemon = start_daemon(
            self.workdir,
            self.root,
            self.project,
            self.temporal.address,
            *DAEMON_ARGS,
            name=f"daemon-{self.daemons}",
        )
        return self.daemon

    def kill_daemon(self) -> None:
        assert self.daemon is not None
        self.daemon.process.send_signal(signal.SIGKILL)
        self.daemon.process.wait(10)

    def close(self) -> None:
        if self.daemon is not None and self.daemon.process.poll() is None:
            self.daemon.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.daemon.process.wait(10)
        self.temporal.close()


@pytest.fixture
def world(tmp_path: Path, project_name: str) -> Iterator[World]:
    root = tmp_path / "tree"
    root.mkdir()
    world = World(tmp_path, project_name, RestartableServer(tmp_path), root)
    try:
        yield world
    finally:
        world.close()


# -- comparing Temporal with the model ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A schedule as Temporal held it at the last check: for identity and no-write checks."""

    created_at: datetime | None
    updated_at: datetime | None
    state: Any


def record_source(description: tc.ScheduleDescription) -> str | None:
    """The file the last write came from, as scheduled recorded it in the schedule."""
    for calendar in description.schedule.spec.skip:
        if calendar.comment and (record := parse_record(calendar.comment)) is not None:
            return record.source
    return None


def cron_of(description: tc.ScheduleDescription) -> list[tuple[int, int]]:
    return [
        (calendar.minute[0].start, calendar.hour[0].start)
        for calendar in description.schedule.spec.calendars
    ]


def pass_started_after(status: dict[str, Any], moment: float) -> bool:
    """Whether the daemon's last successful pass began after `moment` (wall clock): its load
    then read the tree as the test left it."""
    last = status.get("last_reconcile")
    if not last:
        return False
    started = datetime.fromisoformat(last["finished_at"]).timestamp() - float(last["duration_s"])
    return started > moment + 0.001  # finished_at and duration_s are rounded to the ms


@dataclass
class Checker:
    """Waits for the daemon to settle, then compares Temporal and the daemon's report with the
    model; remembers each schedule as found, for the next batch's identity and no-write checks."""

    world: World
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    settle_times: list[float] = field(default_factory=list)

    def settle(
        self,
        outcome: BatchOutcome,
        tree: Tree,
        changed_at: float | None,
        timeout: float,
        unchecked: frozenset[str] = frozenset(),
    ) -> None:
        """Poll until the daemon's last pass began after the last change (when there was one),
        converged and left nothing pending, and Temporal equals the model; fail with what still
        differs once `timeout` is over (a schedule held for a second look takes one more pass).
        The `unchecked` ids may be there or not (the known bug)."""
        assert outcome.temporal is not None
        started = time.monotonic()
        deadline = started + timeout
        problems = ["the daemon never settled"]
        while True:
            daemon = self.world.daemon
            assert daemon is not None
            daemon.check_alive()
            status = daemon.status()
            last = status.get("last_reconcile") or {}
            if changed_at is not None and not pass_started_after(status, changed_at):
                problems = [f"no pass since the last change; last pass: {last}"]
            elif not (status["activity"].startswith("watching") and last.get("converged")):
                problems = [f"not settled: {status['activity']!r}, last pass: {last}"]
            else:
                problems = self.compare(outcome, tree, status, unchecked)
                if not problems:
                    self.settle_times.append(time.monotonic() - started)
                    return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"after {timeout:.0f} s Temporal still differs from the model:\n  "
                    + "\n  ".join(problems)
                )
            time.sleep(0.05)

    def compare(
        self, outcome: BatchOutcome, tree: Tree, status: dict[str, Any], unchecked: frozenset[str]
    ) -> list[str]:
        expected = outcome.temporal
        assert expected is not None
        project, probe = self.world.project, self.world.probe
        found = probe.describe_many(sid(project, i) for i in WORKFLOW_IDS)
        problems: list[str] = []
        for workflow_id in WORKFLOW_IDS:
            description = found[sid(project, workflow_id)]
            if workflow_id not in unchecked:
                want = expected.get(workflow_id)
                problems += self.compare_one(workflow_id, want, description, outcome)
        # The unchecked ids count as Temporal has them: the daemon's inventory follows it.
        managed = len(expected.keys() - unchecked) + sum(
            1 for i in unchecked if found[sid(project, i)]
        )
        prefix = schedule_id_prefix(project)
        known = {sid(project, i) for i in WORKFLOW_IDS}
        for extra in sorted(probe.listed_ids(prefix) - known):
            if probe.describe(extra) is not None:  # the list may lag behind a deletion
                problems.append(f"{extra}: exists, but no file could have named it")
        derived = derive(tree)
        invalid = sorted(derived.invalid - derived.not_workflow)
        if sorted(status["invalid_files"]) != invalid:
            problems.append(f"/status invalid_files {sorted(status['invalid_files'])} != {invalid}")
        if status["managed_schedules"] != managed:
            problems.append(f"/status managed_schedules {status['managed_schedules']} != {managed}")
        if not problems:
            self.snapshots = {
                workflow_id: Snapshot(
                    description.info.created_at,
                    description.info.last_updated_at,
                    schedule_state(description),
                )
                for workflow_id in WORKFLOW_IDS
                if (description := found[sid(project, workflow_id)]) is not None
                and workflow_id not in unchecked  # may still lag: the full pass may write it
            }
        return problems

    def compare_one(
        self,
        workflow_id: str,
        want: Expected | None,
        description: tc.ScheduleDescription | None,
        outcome: BatchOutcome,
    ) -> list[str]:
        if want is None:
            if description is None:
                return []
            note = description.schedule.state.note
            return [
                f"{workflow_id}: in Temporal (note={note}, from {record_source(description)})"
                " but the model holds no schedule for it"
            ]
        if description is None:
            return [f"{workflow_id}: missing; the model holds {want}"]
        problems = []
        have = (description.schedule.state.note, cron_of(description), record_source(description))
        if have != (want.note, [(want.minute, want.hour)], want.source):
            problems.append(
                f"{workflow_id}: Temporal holds note={have[0]} cron (minute, hour)={have[1]} "
                f"from {have[2]}; the model holds {want}"
            )
        before = self.snapshots.get(workflow_id)
        if before is None:
            return problems
        if (
            workflow_id in outcome.keeps_identity
            and description.info.created_at != before.created_at
        ):
            problems.append(
                f"{workflow_id}: re-created (created {before.created_at} -> "
                f"{description.info.created_at}); no order of the batch deletes it"
            )
        if workflow_id in outcome.unwritten and (
            description.info.last_updated_at != before.updated_at
            or schedule_state(description) != before.state
        ):
            problems.append(
                f"{workflow_id}: written (updated {before.updated_at} -> "
                f"{description.info.last_updated_at}) though no order of the batch changes it"
            )
        return problems


# -- the test ----------------------------------------------------------------------------------


def seed_and_steps() -> tuple[int, int]:
    seed = os.environ.get(SEED_ENV)
    return (
        int(seed) if seed else random.SystemRandom().randrange(10**6),
        int(os.environ.get(STEPS_ENV) or DEFAULT_STEPS),
    )


def wait_for_a_pass_in_progress(
    daemon: DaemonProcess, timeout: float = 1.5, interval: float = 0.005
) -> bool:
    """Poll /status until a pass runs, to act in the middle of one (or not, after timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, body = daemon.get("/status")
        if code == 200 and json.loads(body)["activity"].startswith("reconciling"):
            return True
        time.sleep(interval)
    return False


@dataclass
class ModelRun:
    """Drives the world with one seed: batches of random changes, each checked once settled."""

    world: World
    seed: int
    total_steps: int
    rng: random.Random = field(init=False)
    editor: Editor = field(init=False)
    checker: Checker = field(init=False)
    tree: dict[str, FileState] = field(default_factory=dict)
    temporal: dict[str, Expected] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    steps: int = 0
    batches: int = 0
    changed_at: float = 0.0  # when the last change was made (wall clock, as /status has it)
    model_s: float = 0.0  # spent folding batches in the model

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.editor = Editor(self.rng)
        self.checker = Checker(self.world)

    @property
    def reproduce(self) -> str:
        return (
            f"{SEED_ENV}={self.seed} {STEPS_ENV}={self.total_steps} "
            ".venv/bin/pytest tests/test_daemon_model.py -q"
        )

    def record(self, line: str) -> None:
        self.log.append(line)
        print(line)  # captured: pytest shows it with any failure, a timeout's too

    def start(self) -> None:
        for _ in range(START_FILES):
            state = self.editor.scheduled(self.editor.free_id(self.tree))
            change = write(
                self.tree, self.editor.new_path(self.tree), state, "create", in_place=False
            )
            change.perform(self.world.root)
            self.tree = change.after
            self.record(f"start: {change.label}")
        started_at = time.time()
        self.world.start_daemon().wait_ready(timeout=60)
        self.check(
            BatchOutcome.of(self.temporal, [View.everything(self.tree)]), started_at, SETTLE_S
        )

    def batch(self) -> None:
        """1–5 changes (and perhaps one rare event), then a check once the daemon settled."""
        self.batches += 1
        rng, world = self.rng, self.world
        daemon_before = world.daemon
        logged = len(daemon_before.logs()) if daemon_before else 0
        rare = next((event for event, chance in RARE.items() if rng.random() < chance), None)
        early = rare is not None and rng.random() < 0.5  # the event before the changes
        self.record(
            f"batch {self.batches}"
            + (f": {rare} {'before' if early else 'after'} the changes" if rare else "")
        )
        if rare == "kill the daemon" and early:
            world.kill_daemon()
        if rare == "restart Temporal" and early:
            world.temporal.stop()
        outcome = self.changes(min(rng.randint(1, 5), self.total_steps - self.steps))
        changed_at = self.changed_at if outcome is not None else None
        timeout = SETTLE_S
        if rare == "kill the daemon":
            if not early:
                assert world.daemon is not None
                during = wait_for_a_pass_in_progress(world.daemon)
                world.kill_daemon()
                self.record(f"  SIGKILL {'during a pass' if during else 'between passes'}")
                self.counts["(SIGKILL during a pass)"] += during
            world.start_daemon().wait_ready(timeout=60)
        elif rare == "restart Temporal":
            if not early:
                world.temporal.stop()
            world.temporal.start()
            timeout = SETTLE_AFTER_OUTAGE_S
        elif rare == "SIGHUP":
            assert world.daemon is not None
            world.daemon.send(signal.SIGHUP)
        if rare:
            self.counts[rare] += 1
        unchanged = BatchOutcome.of(self.temporal, [View.everything(self.tree)])
        outcome = outcome or unchanged
        if not outcome.known_bugs:
            self.check(outcome, changed_at, timeout)
            return
        ids = ", ".join(sorted(outcome.known_bugs))
        self.record(f"  known bug: {ids} may lag until a full pass; checked after SIGHUP")
        self.counts["(known bug: full pass)"] += 1
        self.check(outcome, changed_at, timeout, unchecked=outcome.known_bugs)
        self.report_lag(outcome, daemon_before, logged)
        assert world.daemon is not None
        full = world.daemon.passes("full")
        world.daemon.send(signal.SIGHUP)
        world.daemon.wait_passes("full", full)
        self.check(BatchOutcome.of(self.temporal, [View.everything(self.tree)]), None, SETTLE_S)

    def report_lag(
        self, outcome: BatchOutcome, daemon_before: DaemonProcess | None, logged: int
    ) -> None:
        """Log (and count) the known bugs' ids that did lag behind the changed passes; a
        schedule held for a second look is on its way, not lagging."""
        world, daemon = self.world, self.world.daemon
        assert daemon is not None
        held = {
            entry.get("schedule_id")
            for entry in daemon.logs()[logged if daemon is daemon_before else 0 :]
            if entry.get("outcome") == "skipped" and "no schedule block" in entry["message"]
        }
        found = world.probe.describe_many(sid(world.project, i) for i in outcome.known_bugs)
        lagged = sorted(
            i
            for i in outcome.known_bugs
            if sid(world.project, i) not in held
            and self.checker.compare_one(
                i, self.temporal.get(i), found[sid(world.project, i)], outcome
            )
        )
        self.record(f"  known bug: {', '.join(lagged) or 'none'} lagged behind the changed pass")
        for i in lagged:
            self.counts[
                "(known bug 1: lagged)" if i in outcome.stranded else "(known bug 2: lagged)"
            ] += 1

    def changes(self, size: int) -> BatchOutcome | None:
        """Make up to `size` changes whose outcome no timing of the daemon's passes can change;
        None when none could be made."""
        views: list[View] = []
        outcome: BatchOutcome | None = None
        paced = self.rng.random() < PACED_BATCHES
        if paced:
            self.record("  (paced: pauses between the changes)")
        for _ in range(size):
            if paced and views:
                # Pacing, not waiting: a pause past the quiet period lets a pass read the tree
                # between two changes (the model allows for every such order either way).
                time.sleep(self.rng.uniform(0, 0.4))
            for _attempt in range(30):
                change = self.editor.propose(self.tree, self.world.root)
                if change is None:
                    continue
                straddled = [replace(view, straddled=bool(views)) for view in change.views]
                if views:  # a pass may be walking the tree while this change is made
                    straddled[:0] = [
                        View(tree, straddled[-1].changed, straddled=True)
                        for tree, bug in change.torn
                        if KNOWN_BUG_TORN_WALK or not bug
                    ]
                if len(views) + len(straddled) > MAX_VIEWS:
                    continue
                folding = time.monotonic()
                candidate = BatchOutcome.of(self.temporal, [*views, *straddled])
                self.model_s += time.monotonic() - folding
                if candidate.temporal is None:
                    self.record(f"  (not made: the outcome would depend on timing: {change.label})")
                    self.counts["(not made: timing)"] += 1
                    continue
                change.perform(self.world.root)
                self.changed_at = time.time()  # a pass that began later read all of it
                self.tree, outcome = change.after, candidate
                views.extend(straddled)
                self.steps += 1
                self.counts[change.kind] += 1
                self.record(f"  step {self.steps}: {change.label}")
                break
            else:
                break
        return outcome

    def check(
        self,
        outcome: BatchOutcome,
        changed_at: float | None,
        timeout: float,
        unchecked: frozenset[str] = frozenset(),
    ) -> None:
        self.checker.settle(outcome, self.tree, changed_at, timeout, unchecked)
        assert outcome.temporal is not None
        self.temporal = outcome.temporal
        invalid = len(derive(self.tree).invalid)
        self.record(f"  ok: {len(self.temporal)} schedules, {invalid} invalid files")

    def failure(self, error: BaseException) -> AssertionError:
        daemon_log = self.world.daemon.log_tail(60) if self.world.daemon else "(no daemon)"
        tree = "\n".join(
            f"  {path}: {describe_state(state)}" for path, state in sorted(self.tree.items())
        )
        expected = "\n".join(f"  {i}: {e}" for i, e in sorted(self.temporal.items()))
        return AssertionError(
            f"model-based daemon test failed with seed {self.seed}\n"
            f"reproduce: {self.reproduce}\n{type(error).__name__}: {error}\n\n"
            f"tree (model):\n{tree}\n\nTemporal before the failing batch (model):\n{expected}\n\n"
            "step log (last 80 lines):\n"
            + "\n".join(self.log[-80:])
            + f"\n\ndaemon log:\n{daemon_log}"
        )


@pytest.mark.timeout(900)
def test_random_changes_keep_temporal_equal_to_the_model(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    seed, total_steps = seed_and_steps()
    run = ModelRun(world, seed, total_steps)
    run.record(f"seed {seed}, {total_steps} steps; reproduce with: {run.reproduce}")
    began = time.monotonic()
    try:
        run.start()
        while run.steps < total_steps:
            run.batch()
    except Exception as error:
        raise run.failure(error) from error

    took = time.monotonic() - began
    settles = sorted(run.checker.settle_times)
    with capsys.disabled():
        print(
            f"\nmodel-based daemon test: seed {seed}, {run.steps} steps in {run.batches} batches, "
            f"{took:.0f} s ({run.model_s:.1f} s in the model); "
            f"settling took {settles[len(settles) // 2]:.2f} s median, "
            f"{settles[-1]:.2f} s at most; {dict(sorted(run.counts.items()))}"
        )
    assert run.steps == total_steps


def test_deleting_a_renamed_broken_file_deletes_its_schedule(
    tmp_path: Path, temporal_address: str, project_name: str
) -> None:
    """Known bug 1, found by the model-based test (seeds 1 and 2): the minimal sequence. A broken file whose
    id can be read keeps its schedule, also once renamed; deleted, nothing claims the schedule
    any more, so it must go. The changed pass sees only the new name, while the schedule's
    record names the old one, so it is left alone until the next full resync."""
    root = tmp_path / "tree"
    for name in ("alpha", "beta", "gamma", "delta"):
        write_workflow(root, f"{name}.yaml", workflow_yaml(name, cron="0 9 * * *", note="v1"))
    daemon = start_daemon(tmp_path, root, project_name, temporal_address, *DAEMON_ARGS)
    probe = TemporalProbe(temporal_address)
    schedule_id = sid(project_name, "alpha")
    try:
        daemon.wait_ready()
        (root / "alpha.yaml").write_text(workflow_yaml("alpha", cron="61 9 * * *", note="bad"))
        os.rename(root / "alpha.yaml", root / "renamed.yaml")
        wait_until(
            lambda: list(daemon.status()["invalid_files"]) == ["renamed.yaml"],
            what="the renamed broken file reported",
        )
        assert probe.note(schedule_id) == "v1"  # kept while a broken file names it

        (root / "renamed.yaml").unlink()
        deleted_at = time.time()

        def converged_after_the_deletion() -> dict[str, Any] | None:
            # The first pass holds the deletion for a second look, and says it is not converged.
            found = daemon.status()
            done = pass_started_after(found, deleted_at) and found["last_reconcile"]["converged"]
            return found if done else None

        status = wait_until(converged_after_the_deletion, what="a converged pass after it")

        assert status is not None
        assert not probe.exists(schedule_id), f"still there after {status['last_reconcile']}"
    finally:
        daemon.stop()
        probe.close()


def test_a_duplicate_deleted_during_a_pass_lets_the_other_file_apply(
    tmp_path: Path, temporal_address: str, project_name: str
) -> None:
    """Known bug 2, found by the model-based test (seeds 1 and 4, paced batches). Two files
    name the same id, so neither applies; one is deleted while a pass for an unrelated edit
    runs: that pass reads the tree without it, but its changed set is the edit alone. The
    next pass, for the deletion, looks for the files sharing its id in that load, finds none,
    and the remaining file is not applied. The race is provoked, not waited for (the deletion
    follows /status saying a pass runs), in three rounds, so one lost race cannot hide it."""
    root = tmp_path / "tree"
    for name in ("alpha", "beta", "gamma", "delta"):
        write_workflow(root, f"{name}.yaml", workflow_yaml(name, cron="0 9 * * *", note="v1"))
    daemon = start_daemon(tmp_path, root, project_name, temporal_address, *DAEMON_ARGS)
    probe = TemporalProbe(temporal_address)

    def race(twin: str) -> str | None:
        """The note the schedule has after the round: "two" when the remaining file applied."""
        schedule_id = sid(project_name, twin)
        write_workflow(root, f"zzz/{twin}.yaml", workflow_yaml(twin, cron="0 9 * * *", note="one"))
        wait_until(lambda: probe.note(schedule_id) == "one", what="the first file applied")
        write_workflow(
            root, f"other/{twin}.yaml", workflow_yaml(twin, cron="0 10 * * *", note="two")
        )
        wait_until(
            lambda: (
                {f"zzz/{twin}.yaml", f"other/{twin}.yaml"} <= set(daemon.status()["invalid_files"])
            ),
            what="the duplicates reported",
        )
        write_workflow(root, "alpha.yaml", workflow_yaml("alpha", cron="0 9 * * *", note=twin))
        wait_for_a_pass_in_progress(daemon, interval=0.001)
        (root / f"zzz/{twin}.yaml").unlink()
        deleted_at = time.time()

        def pass_after_the_deletion() -> dict[str, Any] | None:
            found = daemon.status()
            return found if pass_started_after(found, deleted_at) else None

        wait_until(pass_after_the_deletion, what="a pass after the deletion")
        return probe.note(schedule_id)

    try:
        daemon.wait_ready()
        applied = {twin: race(twin) for twin in ("twin0", "twin1", "twin2")}

        assert applied == {"twin0": "two", "twin1": "two", "twin2": "two"}
    finally:
        daemon.stop()
        probe.close()


def test_a_file_moved_to_another_folder_during_a_walk_keeps_its_schedule(
    tmp_path: Path, temporal_address: str, project_name: str
) -> None:
    """Known bug 3, found by the model-based test (seed 3, a paced batch): a file is edited,
    then moved to another folder while the edit's pass walks the tree. The walk lists the
    folders one at a time, so it may list the target before the move and the source after:
    the file is in neither, and the pass, which is about that file, deletes its schedule; the
    next pass creates it anew, losing its history and an operator's pause. A big subfolder in
    each folder widens the window between the two listings; the move follows /status saying
    a pass runs, after a random pause of up to 30 ms, in 20 rounds (about half hit it)."""
    root = tmp_path / "tree"
    for name in ("alpha", "beta", "gamma", "delta"):
        write_workflow(root, f"{name}.yaml", workflow_yaml(name, cron="0 9 * * *", note="v1"))
    for index in range(1500):  # listed right after their folder: a window between the two
        for side in ("one", "two"):
            write_workflow(root, f"{side}/bulk/{side}{index}.yaml", workflow_yaml(f"{side}{index}"))
    write_workflow(root, "one/moved.yaml", workflow_yaml("moved", cron="0 9 * * *", note="v0"))
    daemon = start_daemon(tmp_path, root, project_name, temporal_address, *DAEMON_ARGS)
    probe = TemporalProbe(temporal_address)
    schedule_id, jitter = sid(project_name, "moved"), random.Random(0)

    def edit_then_move(source: str, target: str, note: str) -> datetime | None:
        """One round; returns the schedule's creation time once the move is applied."""
        (root / source).write_text(workflow_yaml("moved", cron="0 9 * * *", note=note))
        wait_for_a_pass_in_progress(daemon, interval=0.0005)
        time.sleep(jitter.uniform(0, 0.03))  # provoking the race, not waiting for anything
        os.rename(root / source, root / target)

        def applied() -> tc.ScheduleDescription | None:
            found = probe.describe(schedule_id)
            done = found and found.schedule.state.note == note and record_source(found) == target
            return found if done else None

        description = wait_until(applied, what="the edit and the move applied")
        assert description is not None
        return description.info.created_at

    try:
        daemon.wait_ready(timeout=120)
        first = probe.describe(schedule_id)
        assert first is not None
        created: list[datetime | None] = [first.info.created_at]
        for round in range(20):
            source, target = ("one", "two") if round % 2 == 0 else ("two", "one")
            created.append(
                edit_then_move(f"{source}/moved.yaml", f"{target}/moved.yaml", f"r{round}")
            )
        recreated = sum(1 for before, after in itertools.pairwise(created) if before != after)

        assert recreated == 0, f"re-created in {recreated} of 20 rounds"
    finally:
        daemon.stop()
        probe.close()
