"""From a tree of workflow files to desired schedules plus diagnostics, one bad file at a time.

Each file is read, parsed, checked against the schema and turned into a DesiredSchedule on its
own (workflow_file.load_file), so a broken file yields diagnostics for itself and nothing else.
The tree-wide rule (one `id` per tree) runs last. A file that fails keeps its name (and its `id`
when that could be read) in the result, so the reconciler can leave its schedule alone instead
of deleting it. Files the include/exclude globs leave out are not read, but their names are
kept too (`excluded`): a file that still exists never loses a schedule made from it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from scheduled.format import tree
from scheduled.format.diagnostics import Diagnostic, Severity, sort_key
from scheduled.format.globs import FileSelection
from scheduled.format.workflow_file import FileResult, LoadOptions, load_file
from scheduled.model.desired import DesiredSchedule

__all__ = [
    "RACY_WINDOW_NS",
    "FileCache",
    "FileResult",
    "LoadOptions",
    "LoadResult",
    "load_file",
    "load_tree",
]

# A file modified this recently may change again within the same tick of the file system's
# clock, keeping its size: its (mtime, size, inode) would then not show the second save.
RACY_WINDOW_NS = 2_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    root: Path
    files: tuple[FileResult, ...] = ()
    readable: bool = True  # False: the root is missing or unreadable, which proves nothing
    root_problem: str = ""
    desired: Mapping[str, DesiredSchedule] = field(default_factory=dict)  # by workflow id
    # YAML files the globs leave out, not read (a folder that cannot be listed ends in `/`)
    excluded: frozenset[str] = frozenset()

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        found = [diagnostic for result in self.files for diagnostic in result.diagnostics]
        return tuple(sorted(found, key=sort_key))

    @property
    def workflow_files(self) -> int:
        """The files read as workflow files, valid or not (not those that are no workflow)."""
        return sum(1 for result in self.files if result.is_workflow)

    @property
    def not_workflow_files(self) -> frozenset[str]:
        """YAML files that hold no workflow (no `id`): present, but describing no schedule."""
        return frozenset(result.relative for result in self.files if not result.is_workflow)

    @property
    def invalid_files(self) -> frozenset[str]:
        return frozenset(result.relative for result in self.files if not result.valid)

    @property
    def claimed_workflow_ids(self) -> frozenset[str]:
        """Workflow ids named by invalid files: their schedules must not be touched."""
        return frozenset(
            result.workflow_id
            for result in self.files
            if not result.valid and result.workflow_id is not None
        )

    @property
    def error_count(self) -> int:
        return sum(1 for diagnostic in self.diagnostics if diagnostic.is_error)

    @property
    def warning_count(self) -> int:
        return sum(1 for diagnostic in self.diagnostics if not diagnostic.is_error)


class FileCache:
    """Per-file results keyed by (mtime, size, inode): a daemon re-reads only what changed.

    A file modified within RACY_WINDOW_NS of now is never kept: a second save in the same tick
    of the file system's clock, of the same size, would leave its signature unchanged."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[int, int, int], FileResult]] = {}

    def get(self, relative: str, signature: tuple[int, int, int]) -> FileResult | None:
        entry = self._entries.get(relative)
        return entry[1] if entry is not None and entry[0] == signature else None

    def put(self, relative: str, signature: tuple[int, int, int], result: FileResult) -> None:
        if time.time_ns() - signature[0] < RACY_WINDOW_NS:
            return
        self._entries[relative] = (signature, result)

    def retain(self, names: Iterable[str]) -> None:
        keep = set(names)
        for name in list(self._entries):
            if name not in keep:
                del self._entries[name]


def load_tree(
    root: Path,
    options: LoadOptions,
    *,
    now: datetime | None = None,
    cache: FileCache | None = None,
    fresh: frozenset[str] = frozenset(),
) -> LoadResult:
    """Load every workflow file under root. Never raises for the content of a file.

    `fresh` names files (relative, as in FileResult.relative) that are read afresh even when
    the cache holds them: ones a watcher saw change, since a tool that keeps mtime and size
    would fool the signature. Their new results still go into the cache."""
    now = now or datetime.now(UTC)
    try:
        found = list(tree.find_workflow_files(root))
    except RuntimeError:  # Path.resolve on a symlink loop (Python 3.11)
        return LoadResult(
            root=root,
            readable=False,
            root_problem=f"the folder {root} is a symlink that loops back on itself",
        )
    except OSError as error:
        reason = (
            "does not exist"
            if isinstance(error, FileNotFoundError)
            else f"cannot be read ({error.strerror or error})"
        )
        return LoadResult(root=root, readable=False, root_problem=f"the folder {root} {reason}")
    results: list[FileResult] = []
    excluded: set[str] = set()
    selection = options.selection
    for item in found:
        if _excluded(item, selection):
            excluded.add(item.relative)
            continue
        signature = _signature(item.path)
        cached = (
            cache.get(item.relative, signature)
            if cache and signature and item.relative not in fresh
            else None
        )
        if cached is not None:
            results.append(cached)
            continue
        result = load_file(item, options, now=now)
        if cache is not None and signature is not None:
            cache.put(item.relative, signature, result)
        results.append(result)
    if cache is not None:
        cache.retain(item.relative for item in found)
    results = _warn_shared_workflow_ids(_reject_duplicate_ids(results))
    desired = {
        result.schedule.workflow_id: result.schedule
        for result in results
        if result.valid and result.schedule is not None
    }
    return LoadResult(
        root=root, files=tuple(results), desired=desired, excluded=frozenset(excluded)
    )


def _excluded(item: tree.FoundFile, selection: FileSelection) -> bool:
    """Left out by the globs. A folder that cannot be listed (`sub/`) is left out only by an
    exclude glob: whether an include glob would match what is in it cannot be known."""
    if item.relative.endswith("/"):
        return selection.excludes_folder(item.relative.rstrip("/"))
    return not selection.selects(item.relative)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _warn_shared_workflow_ids(results: list[FileResult]) -> list[FileResult]:
    """Two schedules whose runs share a workflow id base: Temporal appends only the fire time,
    so when both are due at the same time the runs get the same id and one does not start."""
    by_base: dict[str, list[int]] = defaultdict(list)
    for index, result in enumerate(results):
        if result.schedule is not None:
            by_base[result.schedule.action.workflow_id].append(index)
    for base, indexes in by_base.items():
        if len(indexes) < 2:
            continue
        names = [results[index].relative for index in indexes]
        for index in indexes:
            result = results[index]
            others = ", ".join(name for name in names if name != result.relative)
            line, column = result.id_position
            shared = Diagnostic(
                file=result.relative,
                line=line,
                column=column,
                severity=Severity.WARNING,
                code="tree.shared-workflow-id",
                message=f"the workflow id base {base!r} is also used by {others}: runs of both "
                "due at the same time get the same workflow id, and Temporal starts only one; "
                "give each its own `workflow_id`",
                path="schedule.workflow_id",
            )
            results[index] = replace(result, diagnostics=(*result.diagnostics, shared))
    return results


def _reject_duplicate_ids(results: list[FileResult]) -> list[FileResult]:
    by_id: dict[str, list[int]] = defaultdict(list)
    for index, result in enumerate(results):
        if result.workflow_id is not None:
            by_id[result.workflow_id].append(index)
    for workflow_id, indexes in by_id.items():
        if len(indexes) < 2:
            continue
        names = [results[index].relative for index in indexes]
        for index in indexes:
            result = results[index]
            others = ", ".join(name for name in names if name != result.relative)
            line, column = result.id_position
            duplicate = Diagnostic(
                file=result.relative,
                line=line,
                column=column,
                severity=Severity.ERROR,
                code="tree.duplicate-id",
                message=f"the id {workflow_id!r} is also used by {others}; ids must be unique "
                "in the tree, so neither file is applied until one is renamed",
                path="id",
            )
            results[index] = replace(
                result, schedule=None, diagnostics=(*result.diagnostics, duplicate)
            )
    return results
