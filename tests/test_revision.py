"""The tree's revision: a git commit with its time, a git-sync link target, or nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from scheduled.format.revision import newer_by_ancestry, revision_problem, tree_revision
from scheduled.model.observed import Revision


def committed_checkout(checkout: Path) -> Path:
    """A git repository at checkout with one commit."""
    checkout.mkdir()
    (checkout / "a.yaml").write_text("id: a\n")
    git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    return checkout


def test_tree_revision_of_a_checkout_a_link_and_a_plain_folder(tmp_path: Path) -> None:
    checkout = committed_checkout(tmp_path / "checkout")
    revision = tree_revision(checkout)
    assert len(revision.name) == 12 and revision.commit_time > 1_600_000_000

    target = tmp_path / "rev-2024"
    target.mkdir()
    link = tmp_path / "current"
    link.symlink_to(target)
    assert tree_revision(link) == Revision("rev-2024")
    assert tree_revision(target) == Revision()


def test_a_checkout_owned_by_another_user_still_has_its_revision(tmp_path: Path) -> None:
    # systemd's DynamicUser= runs the service as a user that does not own the checkout; git
    # refuses such a repository ("dubious ownership") unless told it is safe.
    checkout = committed_checkout(tmp_path / "checkout")
    other = os.getuid() + 4242
    os.chown(checkout, other, other)
    for path in checkout.rglob("*"):
        os.lchown(path, other, other)
    revision = tree_revision(checkout)
    assert len(revision.name) == 12 and revision_problem(checkout, revision) == ""


def test_a_checkout_without_a_readable_commit_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # looks like a checkout, holds nothing
    revision = tree_revision(tmp_path)
    assert revision == Revision()
    assert "not ordered between replicas" in revision_problem(tmp_path, revision)


def commit(checkout: Path, text: str, *, date: str | None = None) -> str:
    """Commit a.yaml with this text (committer date `date` when given); the commit's id."""
    (checkout / "a.yaml").write_text(text)
    env = {**os.environ, **({"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {})}
    git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run([*git, "commit", "-q", "-am", text], check=True, env=env)
    return tree_revision(checkout).name


def test_ancestry_orders_commits_whatever_their_dates(tmp_path: Path) -> None:
    checkout = committed_checkout(tmp_path / "checkout")
    parent = tree_revision(checkout).name
    child = commit(checkout, "id: b\n", date="2001-01-01T00:00:00Z")  # dated long before
    assert newer_by_ancestry(checkout, parent, frozenset({child})) == {child: True}
    assert newer_by_ancestry(checkout, child, frozenset({parent})) == {parent: False}


def test_commits_git_cannot_order_are_left_to_the_commit_times(tmp_path: Path) -> None:
    checkout = committed_checkout(tmp_path / "checkout")
    base = tree_revision(checkout).name
    git = ["git", "-C", str(checkout)]
    subprocess.run([*git, "checkout", "-q", "-b", "side"], check=True)
    side = commit(checkout, "id: side\n")
    subprocess.run([*git, "checkout", "-q", "-"], check=True)
    main = commit(checkout, "id: main\n")
    unknown = "0123456789ab"
    assert newer_by_ancestry(checkout, main, frozenset({side, unknown, base})) == {base: False}
