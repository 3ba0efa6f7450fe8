"""The tree's revision: a git commit with its time, a git-sync link target, or nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scheduled.observed import Revision
from scheduled.revision import tree_revision


def test_tree_revision_of_a_checkout_a_link_and_a_plain_folder(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "a.yaml").write_text("id: a\n")
    git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    revision = tree_revision(checkout)
    assert len(revision.name) == 12 and revision.commit_time > 1_600_000_000

    target = tmp_path / "rev-2024"
    target.mkdir()
    link = tmp_path / "current"
    link.symlink_to(target)
    assert tree_revision(link) == Revision("rev-2024")
    assert tree_revision(target) == Revision()
