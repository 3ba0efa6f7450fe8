"""load_tree: a tree of files into a LoadResult: duplicate ids, the cache, the examples."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from trees import workflow_yaml, write_workflow

from scheduled.format.globs import FileSelection
from scheduled.format.loader import (
    RACY_WINDOW_NS,
    FileCache,
    LoadOptions,
    LoadResult,
    load_tree,
)
from scheduled.model.calendar import Interval, Range

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = LoadOptions(project="proj")
EXAMPLES = Path(__file__).resolve().parent.parent / "config" / "examples" / "workflows"

# -- the tree -----------------------------------------------------------------------------------


def test_an_invalid_file_still_names_its_id_so_its_schedule_is_left_alone(tmp_path: Path) -> None:
    write_workflow(tmp_path, "broken.yaml", workflow_yaml("broken", cron="0 25 * * *"))
    write_workflow(tmp_path, "fine.yaml", workflow_yaml("fine", every="1h"))
    result = load_tree(tmp_path, OPTIONS, now=NOW)
    assert result.claimed_workflow_ids == {"broken"}
    assert result.invalid_files == {"broken.yaml"}
    assert list(result.desired) == ["fine"]
    assert (result.error_count, result.warning_count) == (1, 0)


def test_the_same_id_in_two_files_is_reported_in_both_and_applied_in_neither(
    tmp_path: Path,
) -> None:
    write_workflow(tmp_path, "a/daily.yaml", workflow_yaml("daily", every="1h"))
    write_workflow(tmp_path, "b/daily.yaml", workflow_yaml("daily", every="2h"))
    result = load_tree(tmp_path, OPTIONS, now=NOW)
    assert [(d.file, d.code) for d in result.diagnostics] == [
        ("a/daily.yaml", "tree.duplicate-id"),
        ("b/daily.yaml", "tree.duplicate-id"),
    ]
    assert "also used by b/daily.yaml" in result.diagnostics[0].message
    assert result.desired == {}
    assert result.claimed_workflow_ids == {"daily"}


def test_diagnostics_of_a_tree_are_sorted_by_file_line_and_column(tmp_path: Path) -> None:
    for name in ["z.yaml", "a.yaml", "m/b.yaml"]:
        write_workflow(tmp_path, name, "id: BAD\nschedule: {cron: '0 9 * * *', every: 1h}\n")
    found = load_tree(tmp_path, OPTIONS, now=NOW).diagnostics
    keys = [(d.file, d.line, d.column, d.code) for d in found]
    assert keys == sorted(keys)


def test_the_result_is_keyed_by_workflow_id(tmp_path: Path) -> None:
    write_workflow(tmp_path, "one.yaml", workflow_yaml("first", every="1h"))
    write_workflow(tmp_path, "two.yaml", workflow_yaml("second", every="1h"))
    result = load_tree(tmp_path, OPTIONS, now=NOW)
    assert sorted(result.desired) == ["first", "second"]
    assert result.desired["second"].source == "two.yaml"


def test_a_bug_while_checking_one_file_costs_only_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_compiler(text: str) -> None:
        raise RuntimeError("simulated bug")

    # The cron compile behind the loader's cache (a text no other test uses, so not cached yet).
    monkeypatch.setattr("scheduled.format.cron.compile_cron", broken_compiler)
    write_workflow(tmp_path, "crashes.yaml", workflow_yaml("crashes", cron="1 2 3 4 5 # unique"))
    write_workflow(tmp_path, "fine.yaml", workflow_yaml("fine", every="1h"))

    result = load_tree(tmp_path, OPTIONS, now=NOW)

    (diagnostic,) = result.diagnostics
    assert (diagnostic.file, diagnostic.code) == ("crashes.yaml", "internal.error")
    assert "RuntimeError: simulated bug" in diagnostic.message
    assert list(result.desired) == ["fine"]
    assert result.claimed_workflow_ids == {"crashes"}


# -- the cache ----------------------------------------------------------------------------------


def settled(path: Path) -> Path:
    """Date the file back an hour: outside the racy window, so the cache may keep it."""
    stamp = time.time_ns() - 3600 * 10**9
    os.utime(path, ns=(stamp, stamp))
    return path


def test_the_cache_rereads_only_files_that_changed(tmp_path: Path) -> None:
    cache = FileCache()
    settled(write_workflow(tmp_path, "same.yaml", workflow_yaml("same", every="1h")))
    changing = settled(
        write_workflow(tmp_path, "changing.yaml", workflow_yaml("changing", every="1h"))
    )
    first = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)

    changing.write_text(workflow_yaml("changing", every="90m"))
    second = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)

    same_first = next(r for r in first.files if r.relative == "same.yaml")
    same_second = next(r for r in second.files if r.relative == "same.yaml")
    assert same_second is same_first
    assert second.desired["changing"].spec.intervals == (Interval(timedelta(minutes=90)),)


def test_the_cache_never_keeps_a_file_modified_within_the_racy_window(tmp_path: Path) -> None:
    # Two same-size saves within one tick of the file system clock share (mtime, size, inode).
    assert RACY_WINDOW_NS == 2_000_000_000
    cache = FileCache()
    path = write_workflow(tmp_path, "racy.yaml", workflow_yaml("racy", every="1h"))
    soon = time.time_ns() + 60 * 10**9  # "now or later" at any speed of the test machine
    os.utime(path, ns=(soon, soon))
    first = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)
    second = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)
    assert second.files[0] is not first.files[0]

    settled(path)
    third = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)
    assert load_tree(tmp_path, OPTIONS, now=NOW, cache=cache).files[0] is third.files[0]


def rewrite_keeping_the_signature(path: Path, text: str) -> None:
    """What a tool that restores mtime does: new content, same size, inode and mtime."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    with path.open("r+", encoding="utf-8") as handle:
        handle.write(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_fresh_file_is_read_again_even_when_its_signature_did_not_change(tmp_path: Path) -> None:
    cache = FileCache()
    path = settled(write_workflow(tmp_path, "kept.yaml", workflow_yaml("kept", every="1h")))
    load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)
    rewrite_keeping_the_signature(path, workflow_yaml("kept", every="2h"))

    stale = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)
    read = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache, fresh=frozenset({"kept.yaml"}))

    assert stale.desired["kept"].spec.intervals == (Interval(timedelta(hours=1)),)
    assert read.desired["kept"].spec.intervals == (Interval(timedelta(hours=2)),)
    # What was read afresh goes into the cache for the next pass.
    assert load_tree(tmp_path, OPTIONS, now=NOW, cache=cache).files == read.files


def test_fresh_names_only_the_files_it_lists(tmp_path: Path) -> None:
    cache = FileCache()
    settled(write_workflow(tmp_path, "other.yaml", workflow_yaml("other", every="1h")))
    settled(write_workflow(tmp_path, "kept.yaml", workflow_yaml("kept", every="1h")))
    first = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)
    second = load_tree(tmp_path, OPTIONS, now=NOW, cache=cache, fresh=frozenset({"kept.yaml"}))
    by_name = {result.relative: result for result in first.files}
    again = {result.relative: result for result in second.files}
    assert again["other.yaml"] is by_name["other.yaml"]
    assert again["kept.yaml"] is not by_name["kept.yaml"]
    assert again["kept.yaml"] == by_name["kept.yaml"]


def test_the_cache_forgets_files_that_are_gone(tmp_path: Path) -> None:
    cache = FileCache()
    gone = write_workflow(tmp_path, "gone.yaml", workflow_yaml("gone", every="1h"))
    load_tree(tmp_path, OPTIONS, now=NOW, cache=cache)
    gone.unlink()
    assert load_tree(tmp_path, OPTIONS, now=NOW, cache=cache).files == ()


# -- which files are workflow files -----------------------------------------------------------


def _mixed_tree(root: Path) -> None:
    write_workflow(root, "workflows/daily.yaml", workflow_yaml("daily", every="1h"))
    write_workflow(root, "workflows/drafts/next.yaml", workflow_yaml("next", every="1h"))
    write_workflow(root, "mkdocs.yml", "site_name: docs\n")
    write_workflow(root, "deploy/worker.yaml", "kind: ConfigMap\n---\nkind: Deployment\n")


def test_files_the_globs_leave_out_are_not_read_but_are_named(tmp_path: Path) -> None:
    _mixed_tree(tmp_path)
    options = replace(
        OPTIONS, selection=FileSelection(exclude=("drafts", "mkdocs.yml", "./deploy/"))
    )
    result = load_tree(tmp_path, options, now=NOW)
    assert [found.relative for found in result.files] == ["workflows/daily.yaml"]
    assert result.excluded == {"workflows/drafts/next.yaml", "mkdocs.yml", "deploy/worker.yaml"}
    assert result.diagnostics == ()


def test_yaml_without_ids_is_a_warning_that_counts_as_no_workflow_file(tmp_path: Path) -> None:
    _mixed_tree(tmp_path)
    result = load_tree(tmp_path, OPTIONS, now=NOW)
    assert sorted(result.desired) == ["daily", "next"]
    assert result.not_workflow_files == {"mkdocs.yml", "deploy/worker.yaml"}
    assert (result.error_count, result.warning_count, result.workflow_files) == (0, 2, 2)


def test_a_tree_the_globs_leave_empty_has_no_workflow_files(tmp_path: Path) -> None:
    _mixed_tree(tmp_path)
    options = replace(OPTIONS, selection=FileSelection(include=("nothing/*.yaml",)))
    result = load_tree(tmp_path, options, now=NOW)
    assert (result.files, result.workflow_files, len(result.excluded)) == ((), 0, 4)


# -- the examples -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def examples() -> LoadResult:
    return load_tree(EXAMPLES, LoadOptions(project="examples"), now=NOW)


def test_the_examples_validate_clean_with_no_warnings(examples: LoadResult) -> None:
    assert [d.render() for d in examples.diagnostics] == []


def test_every_example_with_a_schedule_block_yields_a_schedule(examples: LoadResult) -> None:
    assert sorted(examples.desired) == [
        "cache-warmer",
        "daily-report",
        "quarterly-cleanup",
        "weekly-digest",
    ]
    assert {result.workflow_id for result in examples.files} >= {"ad-hoc-export"}


def test_the_examples_show_what_they_say(examples: LoadResult) -> None:
    assert examples.desired["quarterly-cleanup"].paused
    assert examples.desired["weekly-digest"].spec.calendars[1].second == (Range(0),)
    assert examples.desired["cache-warmer"].action.input == {"regions": ["eu", "us"]}
    assert examples.desired["daily-report"].action.input["format"] == "pdf"


def test_a_root_that_is_a_symlink_loop_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    result = load_tree(loop, LoadOptions(project="p"))
    assert not result.readable
    assert "loops back" in result.root_problem


def test_two_files_with_the_same_workflow_id_base_are_warned_about(tmp_path: Path) -> None:
    write_workflow(tmp_path, "a.yaml", workflow_yaml("a", every="1h", workflow_id="shared"))
    write_workflow(tmp_path, "b.yaml", workflow_yaml("b", every="1h", workflow_id="shared"))
    write_workflow(tmp_path, "c.yaml", workflow_yaml("c", every="1h"))
    result = load_tree(tmp_path, LoadOptions(project="p"))
    warned = sorted(d.file for d in result.diagnostics if d.code == "tree.shared-workflow-id")
    assert warned == ["a.yaml", "b.yaml"]
    assert set(result.desired) == {"a", "b", "c"}  # a warning: both still apply
