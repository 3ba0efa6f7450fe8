"""Which version of the tree is being applied: a git commit (with its time), or a link target."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scheduled.model.observed import Revision


def tree_revision(root: Path) -> Revision:
    """The git commit (and its time) when root is a checkout, else the link target's name."""
    try:
        output = subprocess.run(
            # safe.directory: under systemd's DynamicUser= (or any service user) the checkout
            # belongs to someone else, and git refuses it as "dubious ownership" otherwise;
            # reading the commit id is all this does.
            ["git", "-c", "safe.directory=*", "-C", str(root), "log", "-1", "--format=%H %ct"],
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
