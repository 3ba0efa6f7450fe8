"""Which version of the tree is being applied: a git commit (with its time), or a link target."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scheduled.model.observed import Revision

# safe.directory: under systemd's DynamicUser= (or any service user) the checkout belongs to
# someone else, and git refuses it as "dubious ownership" otherwise; this only reads.
_GIT = ("git", "-c", "safe.directory=*", "-C")


def tree_revision(root: Path) -> Revision:
    """The git commit (and its time) when root is a checkout, else the link target's name."""
    try:
        output = subprocess.run(
            [*_GIT, str(root), "log", "-1", "--format=%H %ct"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        output = None
    if output is not None and output.returncode == 0 and output.stdout.strip():
        commit, _, seconds = output.stdout.strip().partition(" ")
        return Revision(commit[:12], int(seconds) if seconds.isdigit() else 0)
    if root.is_symlink():
        return Revision(root.resolve().name)
    return Revision()


def revision_problem(root: Path, revision: Revision) -> str:
    """Why a tree that looks like a git checkout has no revision ("" when that is fine):
    without it, replicas are not ordered, so say it loudly."""
    if revision.name or not (root / ".git").exists():
        return ""
    return (
        f"{root} is a git checkout, but its commit cannot be read (git missing, or the "
        "checkout unreadable to this user): revisions are not ordered between replicas"
    )


def newer_by_ancestry(root: Path, ours: str, theirs: frozenset[str]) -> dict[str, bool]:
    """For each revision git can order against ours: True when it descends from ours (it is
    newer), False when ours descends from it. Commits git does not have (another replica
    fetched further) and branches that diverged are left out: the caller falls back to commit
    time for those."""
    order: dict[str, bool] = {}
    for revision in sorted(theirs):
        if _is_ancestor(root, ours, revision):
            order[revision] = True
        elif _is_ancestor(root, revision, ours):
            order[revision] = False
    return order


def _is_ancestor(root: Path, older: str, newer: str) -> bool:
    try:
        done = subprocess.run(
            [*_GIT, str(root), "merge-base", "--is-ancestor", older, newer],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0  # 1: not an ancestor; 128: a commit git does not know
