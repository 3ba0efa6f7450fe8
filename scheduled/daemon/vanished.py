"""Files that lost their `schedule:` block, or are gone: held for a second look.

A writer that pauses mid-file (an editor's partial save, a slow copy, git-sync between two
writes) or a file moved between folders while a pass walks the tree (in neither listing) must
not make the daemon delete a schedule and re-create it a moment later: re-creation loses the
run history and an operator's pause. So the planner holds such a deletion (`HELD_VANISHED`,
`HELD_GONE`), this module remembers the file's signature at that moment (None when it is gone),
and the deletion goes ahead only if the same content, or the same absence, is still there a
quiet period later.
"""

from __future__ import annotations

from pathlib import Path

from scheduled.reconcile.plan import HELD_FOR_A_SECOND_LOOK, Kind, Plan

Signature = tuple[int, int] | None  # (mtime_ns, size), or None when the file cannot be read


def file_signature(path: Path) -> Signature:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def held_sources(plan: Plan) -> frozenset[str]:
    """The files whose schedule's deletion the plan holds for a second look."""
    return frozenset(
        operation.source
        for operation in plan.operations
        if operation.kind is Kind.SKIP and operation.reasons in HELD_FOR_A_SECOND_LOOK
    )


class HeldFiles:
    """The held files and what each looked like when its block was missed. Its methods stat
    files: call them from a worker thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: dict[str, Signature] = {}

    def unchanged(self) -> frozenset[str]:
        """Held files whose content is what it was: their deletion is confirmed."""
        return frozenset(
            name for name, seen in self._seen.items() if file_signature(self.root / name) == seen
        )

    def after_pass(self, plan: Plan, confirmed: frozenset[str]) -> frozenset[str]:
        """Fold in a pass's plan; returns the files to look at again a quiet period from now
        (newly held, or changed again since they were first held)."""
        held = held_sources(plan)
        for name in confirmed | (self._seen.keys() - held):
            self._seen.pop(name, None)
        again: set[str] = set()
        for name in held:
            seen = file_signature(self.root / name)
            if self._seen.get(name, ...) != seen:
                self._seen[name] = seen
                again.add(name)
        return frozenset(again)
