"""The fingerprint: the same content gives the same value everywhere; any sent change moves it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from trees import write_workflow

from scheduled.format.loader import LoadOptions, load_tree
from scheduled.model.desired import FINGERPRINT_VERSION, fingerprint_of

NOW = datetime(2026, 3, 1, tzinfo=UTC)
OPTIONS = LoadOptions(project="proj")
REPOSITORY = Path(__file__).resolve().parent.parent

BASE = """\
id: report
workflow: Report
task_queue: reports
schedule:
  cron: "0 9 * * 1-5"
  timezone: Europe/Berlin
  enabled: true
  jitter: 30s
  overlap_policy: skip
  catchup_window: 10m
  pause_on_failure: false
  start_at: 2026-01-01T00:00:00Z
  end_at: 2030-01-01T00:00:00Z
  input: {format: pdf, pages: 3}
  execution_timeout: 1h
  run_timeout: 30m
  task_timeout: 10s
  retry: {maximum_attempts: 3, initial_interval: 1s, backoff_coefficient: 2, maximum_interval: 1m, non_retryable_error_types: [Bad]}
  memo: {team: reporting}
  note: "weekday report"
"""

# Pinned: a change here means every schedule in every cluster looks changed to the reconciler,
# which then updates all of them once. Change FINGERPRINT_VERSION when that is what you want.
BASE_FINGERPRINT = "v1:57588d92da939891b21bbcfc"


def fingerprint(
    tmp_path: Path, text: str, options: LoadOptions = OPTIONS, name: str = "report.yaml"
) -> str:
    root = tmp_path / f"tree-{len(list(tmp_path.iterdir()))}"
    write_workflow(root, name, text)
    result = load_tree(root, options, now=NOW)
    schedule = result.desired.get("report")
    assert schedule is not None, [d.render() for d in result.diagnostics]
    return schedule.fingerprint


def test_the_fingerprint_is_versioned_and_short(tmp_path: Path) -> None:
    value = fingerprint(tmp_path, BASE)
    assert value.startswith(f"{FINGERPRINT_VERSION}:")
    assert len(value) == len(FINGERPRINT_VERSION) + 1 + 24


def test_the_fingerprint_of_a_known_file_is_pinned(tmp_path: Path) -> None:
    assert fingerprint(tmp_path, BASE) == BASE_FINGERPRINT


def test_the_fingerprint_is_what_fingerprint_of_says(tmp_path: Path) -> None:
    write_workflow(tmp_path, "report.yaml", BASE)
    schedule = load_tree(tmp_path, OPTIONS, now=NOW).desired["report"]
    assert schedule.fingerprint == fingerprint_of(schedule)


def test_the_same_content_gives_the_same_fingerprint_in_another_process(tmp_path: Path) -> None:
    write_workflow(tmp_path, "report.yaml", BASE)
    program = (
        "import sys; from datetime import datetime, UTC; from pathlib import Path\n"
        "from scheduled.format.loader import LoadOptions, load_tree\n"
        "result = load_tree(Path(sys.argv[1]), LoadOptions(project='proj'),"
        " now=datetime(2026, 3, 1, tzinfo=UTC))\n"
        "print(result.desired['report'].fingerprint)\n"
    )
    seen = set()
    for seed in ("1", "2", "random"):
        env = {
            **os.environ,
            "PYTHONHASHSEED": seed,
            "PYTHONPATH": str(REPOSITORY),
            "TZ": "Asia/Tokyo",
        }
        done = subprocess.run(
            [sys.executable, "-c", program, str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            timeout=60,
        )
        seen.add(done.stdout.strip())
    assert seen == {BASE_FINGERPRINT}


def test_loading_twice_gives_the_same_fingerprint(tmp_path: Path) -> None:
    assert fingerprint(tmp_path, BASE) == fingerprint(tmp_path, BASE)


def test_the_fingerprint_does_not_depend_on_the_day_it_is_computed(tmp_path: Path) -> None:
    write_workflow(tmp_path, "report.yaml", BASE)
    later = load_tree(tmp_path, OPTIONS, now=datetime(2027, 6, 1, tzinfo=UTC))
    assert later.desired["report"].fingerprint == BASE_FINGERPRINT


def changed(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


SENT_CHANGES = {
    "workflow type": ("workflow: Report", "workflow: Report2"),
    "task queue": ("task_queue: reports", "task_queue: reports2"),
    "cron": ('cron: "0 9 * * 1-5"', 'cron: "0 10 * * 1-5"'),
    "cron comment": ('cron: "0 9 * * 1-5"', 'cron: "0 9 * * 1-5 # weekdays"'),
    "cron as a list": ('cron: "0 9 * * 1-5"', 'cron: ["0 9 * * 1-5", "0 18 * * 1-5"]'),
    "cron to every": ('cron: "0 9 * * 1-5"', "every: 1h"),
    "timezone": ("timezone: Europe/Berlin", "timezone: Europe/Paris"),
    "enabled": ("enabled: true", "enabled: false"),
    "jitter": ("jitter: 30s", "jitter: 31s"),
    "overlap policy": ("overlap_policy: skip", "overlap_policy: buffer_one"),
    "catchup window": ("catchup_window: 10m", "catchup_window: 11m"),
    "pause on failure": ("pause_on_failure: false", "pause_on_failure: true"),
    "start_at": ("start_at: 2026-01-01T00:00:00Z", "start_at: 2026-01-01T00:00:01Z"),
    "end_at": ("end_at: 2030-01-01T00:00:00Z", "end_at: 2031-01-01T00:00:00Z"),
    "input value": ("pages: 3", "pages: 4"),
    "input type": ("pages: 3", "pages: '3'"),
    "input key": ("pages: 3", "page: 3"),
    "execution timeout": ("execution_timeout: 1h", "execution_timeout: 2h"),
    "run timeout": ("run_timeout: 30m", "run_timeout: 31m"),
    "task timeout": ("task_timeout: 10s", "task_timeout: 11s"),
    "retry attempts": ("maximum_attempts: 3", "maximum_attempts: 4"),
    "retry initial interval": ("initial_interval: 1s", "initial_interval: 2s"),
    "retry backoff": ("backoff_coefficient: 2", "backoff_coefficient: 2.5"),
    "retry maximum interval": ("maximum_interval: 1m", "maximum_interval: 2m"),
    "retry non-retryable types": ("[Bad]", "[Bad, Worse]"),
    "memo": ("team: reporting", "team: sales"),
    "note": ('note: "weekday report"', 'note: "weekday report!"'),
    "skip added": ('note: "weekday report"', 'note: "weekday report"\n  skip: [2026-12-25]'),
    "every beside the cron": ('cron: "0 9 * * 1-5"', 'cron: "0 9 * * 1-5"\n  every: 6h'),
    "every as a list": ('cron: "0 9 * * 1-5"', "every: [1h, {every: 90m, offset: 10m}]"),
}


@pytest.mark.parametrize("change", sorted(SENT_CHANGES))
def test_a_change_in_any_sent_field_changes_the_fingerprint(tmp_path: Path, change: str) -> None:
    old, new = SENT_CHANGES[change]
    assert fingerprint(tmp_path, changed(old, new)) != BASE_FINGERPRINT


def test_a_change_of_exclusions_changes_the_fingerprint(tmp_path: Path) -> None:
    christmas = changed('note: "weekday report"', 'note: "weekday report"\n  skip: [2026-12-25]')
    boxing_day = changed('note: "weekday report"', 'note: "weekday report"\n  skip: [2026-12-26]')
    assert fingerprint(tmp_path, christmas) != fingerprint(tmp_path, boxing_day)


def test_an_every_list_of_one_is_the_same_schedule_as_every(tmp_path: Path) -> None:
    single = changed('cron: "0 9 * * 1-5"', "every: 90m\n  offset: 10m")
    listed = changed('cron: "0 9 * * 1-5"', "every: [{every: 90m, offset: 10m}]")
    assert fingerprint(tmp_path, single) == fingerprint(tmp_path, listed)


def test_a_change_of_project_changes_the_fingerprint(tmp_path: Path) -> None:
    assert fingerprint(tmp_path, BASE, LoadOptions(project="other")) != BASE_FINGERPRINT


def test_a_change_of_id_changes_the_fingerprint(tmp_path: Path) -> None:
    root = tmp_path / "renamed"
    write_workflow(root, "report.yaml", changed("id: report", "id: report2"))
    renamed = load_tree(root, OPTIONS, now=NOW).desired["report2"]
    assert renamed.fingerprint != BASE_FINGERPRINT


NOT_SENT_CHANGES = {
    "a comment": BASE.replace("  jitter: 30s\n", "  jitter: 30s   # spread the load\n"),
    "a comment line": "# owned by the reporting team\n" + BASE,
    "blank lines": BASE.replace("schedule:\n", "\nschedule:\n\n"),
    "key order": BASE.replace("  enabled: true\n", "").replace(
        "  note:", "  enabled: true\n  note:"
    ),
    "input key order": BASE.replace("{format: pdf, pages: 3}", "{pages: 3, format: pdf}"),
    "quoting": BASE.replace("timezone: Europe/Berlin", 'timezone: "Europe/Berlin"'),
    "block style": BASE.replace(
        "input: {format: pdf, pages: 3}", "input:\n    format: pdf\n    pages: 3"
    ),
    "indentation": BASE.replace("\n  ", "\n    "),
    "workflow-only keys": BASE + "description: the weekly numbers\nsteps: [fetch, render]\n",
    "an anchor": BASE.replace("memo: {team: reporting}", "memo: &memo {team: reporting}"),
    "a document start": "---\n" + BASE,
    "the same number spelled otherwise": BASE.replace(
        "backoff_coefficient: 2", "backoff_coefficient: 2.0"
    ),
    "one argument as args": BASE.replace(
        "input: {format: pdf, pages: 3}", "args: [{format: pdf, pages: 3}]"
    ),
    "new fields at their defaults": BASE + "  priority: {}\n",
    "the default workflow id written out": BASE + "  workflow_id: proj-report\n",
    "defaults left out": BASE.replace("  enabled: true\n", "")
    .replace("  overlap_policy: skip\n", "")
    .replace("  pause_on_failure: false\n", ""),
}


@pytest.mark.parametrize("change", sorted(NOT_SENT_CHANGES))
def test_a_change_that_sends_nothing_new_keeps_the_fingerprint(tmp_path: Path, change: str) -> None:
    assert fingerprint(tmp_path, NOT_SENT_CHANGES[change]) == BASE_FINGERPRINT


def test_moving_the_file_keeps_the_fingerprint(tmp_path: Path) -> None:
    assert fingerprint(tmp_path, BASE, name="elsewhere/renamed.yml") == BASE_FINGERPRINT


def test_spelling_a_duration_differently_keeps_the_fingerprint(tmp_path: Path) -> None:
    assert (
        fingerprint(tmp_path, changed("execution_timeout: 1h", "execution_timeout: 60m"))
        == BASE_FINGERPRINT
    )


ADDED_FIELDS = {
    "args": "  args: [1, 2]\n",
    "workflow_id": "  workflow_id: nightly\n",
    "summary": "  summary: Nightly\n",
    "details": "  details: All of it\n",
    "priority key": "  priority: {priority_key: 1}\n",
    "fairness key": "  priority: {fairness_key: tenant-a}\n",
    "fairness weight": "  priority: {fairness_weight: 2}\n",
    "workflow search attributes": "  workflow_search_attributes: {Team: a}\n",
    "search attributes": "  search_attributes: {Team: a}\n",
    "search attribute type": "  search_attributes: {Team: {type: text, value: a}}\n",
}


@pytest.mark.parametrize("field", sorted(ADDED_FIELDS))
def test_each_action_field_added_later_changes_the_fingerprint(tmp_path: Path, field: str) -> None:
    text = BASE.replace("  input: {format: pdf, pages: 3}\n", "") + ADDED_FIELDS[field]
    without = BASE.replace("  input: {format: pdf, pages: 3}\n", "")
    assert fingerprint(tmp_path, text) != fingerprint(tmp_path, without)


def test_no_argument_hashes_apart_from_an_empty_input(tmp_path: Path) -> None:
    """Before no argument was possible, a file without `input` sent `{}`; it now sends nothing,
    so its fingerprint changes (one update on the first deploy), unlike `input: {}`'s."""
    none = fingerprint(tmp_path, BASE.replace("  input: {format: pdf, pages: 3}\n", ""))
    empty = fingerprint(tmp_path, changed("{format: pdf, pages: 3}", "{}"))
    assert none != empty
