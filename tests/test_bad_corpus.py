"""The corpus of bad workflow files in tests/bad/: each one, and what `validate` must say about it.

Every file in the folder has a row in EXPECTED: the diagnostic's code, line, column and a piece
of its message. The folder is also loaded as one tree, next to a good file, to prove that no bad
file ever costs another file its schedule.

Beside it, tests/not-workflows/ holds YAML a repository root holds that is no workflow file
(mkdocs.yml, docker-compose.yaml, a Kubernetes stream, an empty file): a warning each with the
default globs, and the error of a workflow file without an `id` once `include` is set.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import jsonschema
import pytest
from trees import workflow_yaml, write_workflow

from scheduled.format import tree
from scheduled.format.loader import LoadOptions, LoadResult, load_tree
from scheduled.format.schema import _fast_check, workflow_schema
from scheduled.format.yaml_reader import YamlReadError, read_yaml

BAD = Path(__file__).parent / "bad"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
OPTIONS = LoadOptions(project="corpus")  # no default workflow type or task queue


class Expected(NamedTuple):
    code: str
    line: int
    column: int
    fragment: str


EXPECTED: dict[str, Expected] = {
    # -- the schema: keys, types, patterns, enums --------------------------------------------
    "schema-unknown-key-did-you-mean.yaml": Expected(
        "schema.unknown-key",
        6,
        3,
        "unknown key `jiter` in the schedule block; did you mean `jitter`?",
    ),
    "schema-unknown-retry-key.yaml": Expected(
        "schema.unknown-key", 8, 5, "did you mean `maximum_attempts`?"
    ),
    "skip-range-reversed.yaml": Expected(
        "skip.range-reversed", 7, 30, "is before its `from` (2027-01-03)"
    ),
    "skip-never-fires.yaml": Expected("skip.never-fires", 7, 9, "leaves no time at which"),
    "every-offset-beside-a-list.yaml": Expected(
        "schedule.offset-with-list", 6, 11, "give each entry its own"
    ),
    "schema-neither-cron-nor-every.yaml": Expected(
        "schema.cron-or-every", 4, 1, "needs `cron` (a cron expression), `every`"
    ),
    "schema-id-missing.yaml": Expected("schema.missing-key", 1, 1, "the file has no `id`"),
    "schema-id-uppercase.yaml": Expected(
        "schema.pattern", 1, 5, "'Daily_Report' may use only lowercase letters"
    ),
    "schema-id-boolean.yaml": Expected(
        "schema.type", 1, 5, "`id` must be a name such as daily-report, not true/false"
    ),
    "schema-id-leading-dash.yaml": Expected(
        "schema.pattern", 1, 6, "must start with a letter or digit"
    ),
    "schema-workflow-empty.yaml": Expected("schema.range", 2, 12, "`workflow` must not be empty"),
    "schema-task-queue-list.yaml": Expected(
        "schema.type", 3, 13, "`task_queue` must be a string, not a list"
    ),
    "schema-schedule-list.yaml": Expected(
        "schema.type", 5, 3, "`schedule` must be a mapping, not a list"
    ),
    "schema-enabled-quoted.yaml": Expected(
        "schema.type", 6, 13, "must be true or false, not the text 'no'"
    ),
    "schema-enabled-yaml-1-1-word.yaml": Expected(
        "schema.type",
        6,
        12,
        "`schedule.enabled` must be true or false, not the text 'off'; workflow files are read "
        "as YAML 1.2, where 'off' is text, not a boolean: write true or false (here probably false)",
    ),
    "schema-pause-on-failure-string.yaml": Expected(
        "schema.type", 6, 22, "`schedule.pause_on_failure` must be true or false"
    ),
    "schema-overlap-policy-typo.yaml": Expected(
        "schema.enum", 6, 19, "not 'skipp'; did you mean `skip`?"
    ),
    "schema-overlap-policy-camel-case.yaml": Expected(
        "schema.enum", 6, 19, "did you mean `buffer_one`?"
    ),
    "schema-duration-words.yaml": Expected(
        "schema.pattern", 6, 11, "'30 seconds' is not a duration"
    ),
    "schema-duration-bare-number.yaml": Expected(
        "schema.type", 6, 11, "`schedule.jitter` must be a string, not the number 30"
    ),
    "schema-duration-units-out-of-order.yaml": Expected(
        "schema.pattern", 5, 10, "'30m1h' is not a duration; write a number with a unit"
    ),
    "schema-timeout-words.yaml": Expected(
        "schema.pattern", 6, 22, "`schedule.execution_timeout` '1 hour' is not a duration"
    ),
    "schema-offset-without-every.yaml": Expected(
        "schema.offset-without-every", 7, 3, "`offset` only applies to `every` intervals"
    ),
    "schema-timestamp-words.yaml": Expected(
        "schema.pattern", 6, 13, "'next monday' is not a date-time; write e.g. 2026-01-01T09:00:00Z"
    ),
    "schema-cron-empty-list.yaml": Expected(
        "schema.cron-type", 5, 9, "`schedule.cron` is an empty list"
    ),
    "schema-cron-number.yaml": Expected(
        "schema.cron-type",
        5,
        9,
        "must be a cron string or a list of cron strings, not the number 5",
    ),
    "action-args-and-input.yaml": Expected(
        "schedule.args-and-input", 7, 9, "`args` and `input` are both given; keep one"
    ),
    "schema-args-empty.yaml": Expected("schema.type", 6, 8, "write `args: []` for no argument"),
    "schema-priority-key-zero.yaml": Expected(
        "schema.range", 6, 28, "`schedule.priority.priority_key` must be at least 1"
    ),
    "search-attribute-mapping-value.yaml": Expected(
        "schedule.search-attribute", 7, 12, "as a mapping needs exactly `type` and `value`"
    ),
    "search-attribute-naive-datetime.yaml": Expected(
        "schedule.search-attribute", 7, 35, "write an ISO 8601 date-time with an offset"
    ),
    "search-attribute-unknown-type.yaml": Expected(
        "schedule.search-attribute", 7, 18, "unknown type 'integer'; did you mean `int`?"
    ),
    "schema-input-list.yaml": Expected(
        "schema.type", 6, 10, "`schedule.input` must be a mapping, not a list"
    ),
    "schema-memo-string.yaml": Expected("schema.type", 6, 9, "`schedule.memo` must be a mapping"),
    "schema-retry-negative-attempts.yaml": Expected(
        "schema.range", 6, 29, "`schedule.retry.maximum_attempts` must be at least 0"
    ),
    "schema-retry-attempts-word.yaml": Expected(
        "schema.type", 6, 29, "must be a whole number, not the text 'three'"
    ),
    "schema-retry-coefficient-below-one.yaml": Expected(
        "schema.range", 7, 26, "`schedule.retry.backoff_coefficient` must be at least 1"
    ),
    "schema-retry-not-mapping.yaml": Expected(
        "schema.type", 6, 10, "`schedule.retry` must be a mapping, not the number 3"
    ),
    # -- meaning: what the schema cannot say -------------------------------------------------
    "semantic-timestamp-not-a-date.yaml": Expected(
        "schedule.timestamp", 6, 13, "'2026-02-30T00:00:00Z' is not a real date-time"
    ),
    "semantic-start-after-end.yaml": Expected(
        "schedule.start-after-end", 7, 11, "is not before `end_at`"
    ),
    "semantic-duration-too-long.yaml": Expected(
        "schedule.duration", 6, 22, "'99999999999999d' is longer than Temporal can hold"
    ),
    "semantic-timestamp-out-of-range.yaml": Expected(
        "schedule.timestamp", 6, 13, "'0001-01-01T00:00:00+01:00' is out of the range of dates"
    ),
    "semantic-retry-max-below-initial.yaml": Expected(
        "schedule.retry", 8, 23, "`retry.maximum_interval` is shorter than `retry.initial_interval`"
    ),
    "semantic-retry-coefficient-infinite.yaml": Expected(
        "schema.not-finite", 7, 26, "no number Temporal can hold; write a finite number"
    ),
    "semantic-every-fraction.yaml": Expected(
        "schedule.interval-fraction",
        5,
        10,
        "`every` (1.5s) is not a whole number of seconds; Temporal fires intervals on whole seconds",
    ),
    "semantic-duration-nanoseconds.yaml": Expected(
        "schedule.duration", 6, 11, "'1500ns' is finer than a microsecond"
    ),
    "semantic-every-zero.yaml": Expected(
        "schedule.every-zero", 5, 10, "`every` must be longer than zero"
    ),
    "semantic-offset-not-shorter.yaml": Expected(
        "schedule.offset-too-large", 6, 11, "`offset` (15m) must be shorter than `every` (15m)"
    ),
    "semantic-input-nan.yaml": Expected(
        "schedule.not-json", 7, 5, "`input` holds a value JSON cannot carry"
    ),
    "semantic-input-binary.yaml": Expected("schedule.not-json", 7, 5, "binary data"),
    "semantic-timezone-typo.yaml": Expected(
        "schedule.timezone",
        7,
        13,
        "unknown time zone 'Europe/Berln'; use an IANA name such as Europe/Berlin or UTC; did you mean `Europe/Berlin`?",
    ),
    "semantic-timezone-words.yaml": Expected(
        "schedule.timezone", 7, 13, "unknown time zone 'Eastern Time'"
    ),
    "semantic-missing-workflow.yaml": Expected(
        "workflow.no-type", 1, 5, "no workflow type: add `workflow: YourWorkflowType`"
    ),
    "semantic-missing-task-queue.yaml": Expected(
        "workflow.no-task-queue", 1, 5, "no task queue: add `task_queue: your-queue`"
    ),
    # -- cron: the column points at the offending character -----------------------------------
    "cron-minute-out-of-range.yaml": Expected(
        "cron.invalid", 5, 10, "minute 60 is out of range 0-59"
    ),
    "cron-hour-out-of-range.yaml": Expected("cron.invalid", 5, 12, "hour 24 is out of range 0-23"),
    "cron-day-of-month-zero.yaml": Expected(
        "cron.invalid", 5, 14, "day of month 0 is out of range 1-31"
    ),
    "cron-four-fields.yaml": Expected("cron.invalid", 5, 17, "expected 5, 6 or 7 fields, found 4"),
    "cron-eight-fields.yaml": Expected("cron.invalid", 5, 27, "expected 5, 6 or 7 fields, found 8"),
    "cron-bad-month-name.yaml": Expected("cron.invalid", 5, 16, "'JUNK' is not a month"),
    "cron-bad-weekday-name.yaml": Expected(
        "cron.invalid", 5, 18, "'FUNDAY' is not a day of the week"
    ),
    "cron-never-fires.yaml": Expected(
        "cron.never-fires", 5, 10, "cron '0 9 31 2 *' can never fire"
    ),
    "cron-six-fields-year-last.yaml": Expected(
        "cron.invalid", 5, 20, "day of week 2026 is out of range 0-7"
    ),
    "cron-six-fields-second-out-of-range.yaml": Expected(
        "cron.invalid", 5, 10, "second 60 is out of range 0-59"
    ),
    "cron-question-mark.yaml": Expected(
        "cron.invalid", 5, 16, "'?' is not supported by Temporal; use '*'"
    ),
    "cron-quartz-last-day.yaml": Expected(
        "cron.invalid", 5, 14, "'L' (last day / nearest weekday) is not supported"
    ),
    "cron-backwards-range.yaml": Expected("cron.invalid", 5, 12, "hour range 22-2 goes backwards"),
    "cron-step-zero.yaml": Expected(
        "cron.invalid", 5, 12, "step 0 in the minute field must be at least 1"
    ),
    "cron-unknown-shortcut.yaml": Expected(
        "cron.invalid", 5, 10, "unknown shortcut '@fortnightly'"
    ),
    "cron-nth-weekday.yaml": Expected("cron.invalid", 5, 19, "no nth-weekday syntax"),
    "cron-second-item-bad.yaml": Expected(
        "cron.invalid", 8, 10, "cron '0 25 * * *': hour 25 is out of range 0-23"
    ),
    "cron-every-fraction.yaml": Expected(
        "cron.invalid", 5, 17, "'1500ms' is not a whole number of seconds"
    ),
    "cron-tz-conflict.yaml": Expected(
        "cron.timezone-conflict",
        5,
        10,
        "set Europe/Berlin, which disagrees with `timezone: America/New_York`",
    ),
    "cron-tz-two-zones.yaml": Expected(
        "cron.timezone-conflict", 7, 5, "set different zones (Asia/Tokyo, Europe/Berlin)"
    ),
    "cron-tz-partial.yaml": Expected(
        "cron.timezone-partial", 6, 5, "only some cron expressions carry a CRON_TZ prefix"
    ),
    "cron-tz-unknown.yaml": Expected("cron.invalid", 5, 18, "unknown time zone 'Mars/Olympus'"),
    "cron-text-over-comment-limit.yaml": Expected(
        "cron.too-long",
        6,
        10,
        "is 207 bytes long; Temporal keeps the cron text as the calendar's comment, which holds at most 200 bytes",
    ),
    # -- YAML that is not one plain document ----------------------------------------------------
    "yaml-unclosed-bracket.yaml": Expected(
        "yaml.syntax", 6, 3, "YAML syntax error: did not find expected ',' or ']'"
    ),
    "yaml-bad-indentation.yaml": Expected("yaml.syntax", 3, 13, "mapping values are not allowed"),
    "yaml-tab-indentation.yaml": Expected(
        "yaml.syntax", 3, 1, "found character that cannot start any token"
    ),
    "yaml-duplicate-key.yaml": Expected(
        "yaml.duplicate-key",
        6,
        3,
        "the key 'every' appears twice in the same mapping (first at line 5)",
    ),
    "yaml-duplicate-top-level-key.yaml": Expected(
        "yaml.duplicate-key", 3, 1, "the key 'workflow' appears twice"
    ),
    "yaml-two-documents.yaml": Expected(
        "yaml.multiple-documents", 3, 1, "more than one YAML document"
    ),
    "yaml-two-documents-one-id.yaml": Expected(
        "yaml.multiple-documents", 2, 1, "more than one YAML document"
    ),
    "yaml-top-level-list.yaml": Expected(
        "schema.type",
        1,
        1,
        "the file must hold a mapping of keys (id, workflow, schedule…), not a list",
    ),
    "yaml-alias-bomb.yaml": Expected(
        "yaml.alias-bomb", 6, 8, "expands to more than 100,000 values"
    ),
    "yaml-deep-nesting.yaml": Expected("yaml.too-deep", 6, 258, "nested more than 64 levels deep"),
    "yaml-python-object-tag.yaml": Expected(
        "yaml.unsafe-tag",
        6,
        10,
        "the tag !!python/object/apply:os.system would build a Python object",
    ),
    "yaml-python-name-tag.yaml": Expected("yaml.unsafe-tag", 2, 11, "!!python/name:os.system"),
    "yaml-undefined-alias.yaml": Expected(
        "yaml.unknown-alias", 2, 11, "the alias *job refers to an anchor that is not defined"
    ),
    "yaml-complex-key.yaml": Expected(
        "yaml.complex-key", 2, 3, "a mapping key must be a plain value"
    ),
    "yaml-merge-scalar.yaml": Expected(
        "yaml.bad-merge", 2, 5, "a merge key (<<) must refer to a mapping"
    ),
    "yaml-bad-explicit-int.yaml": Expected(
        "yaml.bad-value", 7, 23, "'three' is not a valid !!int value"
    ),
    "yaml-bool-tag-yes.yaml": Expected(
        "yaml.bad-value",
        6,
        21,
        "'yes' is not a valid !!bool value; workflow files are read as YAML 1.2",
    ),
    # -- bytes that are not UTF-8 text ------------------------------------------------------------
    "file-latin-1.yaml": Expected("file.encoding", 6, 13, "not valid UTF-8 (byte 0xe9)"),
    "file-nul-bytes.yaml": Expected("file.binary", 2, 5, "NUL bytes"),
    # -- the tree: the same id in two files, both reported ---------------------------------------
    "duplicate-id-first.yaml": Expected(
        "tree.duplicate-id", 1, 5, "the id 'shared-name' is also used by duplicate-id-second.yaml"
    ),
    "duplicate-id-second.yaml": Expected(
        "tree.duplicate-id", 2, 5, "the id 'shared-name' is also used by duplicate-id-first.yaml"
    ),
}


@pytest.fixture(scope="module")
def corpus() -> LoadResult:
    return load_tree(BAD, OPTIONS, now=NOW)


def test_the_corpus_holds_at_least_fifty_bad_files() -> None:
    assert len(EXPECTED) >= 50


def test_every_file_in_the_corpus_folder_has_an_expected_diagnostic() -> None:
    on_disk = {path.name for path in BAD.iterdir()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_bad_file_gets_its_diagnostic_at_its_line_and_column(
    corpus: LoadResult, name: str
) -> None:
    expected = EXPECTED[name]
    (result,) = [result for result in corpus.files if result.relative == name]
    found = [
        diagnostic
        for diagnostic in result.diagnostics
        if diagnostic.is_error
        and diagnostic.code == expected.code
        and (diagnostic.line, diagnostic.column) == (expected.line, expected.column)
        and expected.fragment in diagnostic.message
    ]
    rendered = "\n".join(diagnostic.render() for diagnostic in result.diagnostics)
    assert found, f"expected {expected} for {name}, got:\n{rendered}"
    location = f"{name}:{expected.line}:{expected.column}" if expected.line else name
    assert found[0].render().startswith(f"{location}: error: ")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_bad_file_yields_no_schedule_and_one_error(corpus: LoadResult, name: str) -> None:
    (result,) = [result for result in corpus.files if result.relative == name]
    assert result.schedule is None
    assert name in corpus.invalid_files
    errors = [diagnostic for diagnostic in result.diagnostics if diagnostic.is_error]
    assert len(errors) == 1, "\n".join(diagnostic.render() for diagnostic in errors)


def test_both_files_that_share_an_id_claim_it(corpus: LoadResult) -> None:
    assert "shared-name" in corpus.claimed_workflow_ids
    assert "shared-name" not in corpus.desired


def test_a_file_over_the_size_cap_is_refused_without_being_parsed(tmp_path: Path) -> None:
    padding = "# " + "x" * 78 + "\n"
    text = workflow_yaml("huge", every="1h") + padding * (tree.MAX_FILE_BYTES // len(padding) + 1)
    write_workflow(tmp_path, "huge.yaml", text)

    result = load_tree(tmp_path, OPTIONS, now=NOW)

    (diagnostic,) = result.diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("file.too-large", 0, 0)
    assert "larger than 1 MiB" in diagnostic.message
    assert result.desired == {}


def test_one_bad_file_never_hurts_the_others(tmp_path: Path) -> None:
    root = tmp_path / "workflows"
    shutil.copytree(BAD, root / "bad")
    write_workflow(root, "huge.yaml", "id: huge\n" + "#" * (tree.MAX_FILE_BYTES + 1))
    good = workflow_yaml("good-neighbour", cron="0 9 * * 1-5", jitter="30s")
    write_workflow(root, "good/neighbour.yaml", good)
    write_workflow(tmp_path / "alone", "neighbour.yaml", good)

    result = load_tree(root, OPTIONS, now=NOW)
    by_itself = load_tree(tmp_path / "alone", OPTIONS, now=NOW)

    assert result.invalid_files == {f"bad/{name}" for name in EXPECTED} | {"huge.yaml"}
    assert list(result.desired) == ["good-neighbour"]
    assert (
        result.desired["good-neighbour"].fingerprint
        == by_itself.desired["good-neighbour"].fingerprint
    )
    good_result = next(item for item in result.files if item.relative == "good/neighbour.yaml")
    assert good_result.diagnostics == ()


def _documents() -> list[tuple[str, object]]:
    """Every corpus file that is readable YAML, as data."""
    documents = []
    for path in sorted(BAD.iterdir()):
        text = tree.read_text(path)
        if isinstance(text, str):
            try:
                documents.append((path.name, read_yaml(text).data))
            except YamlReadError:
                continue
    return documents


DOCUMENTS = _documents()


# -- YAML that is no workflow file ---------------------------------------------------------------

NOT_WORKFLOWS = Path(__file__).parent / "not-workflows"
NO_ID = "it has no top-level `id`"
EMPTY = "it is empty or holds only comments"
# The file, where the warning points, and why it is no workflow file; then the error it is once
# `include` is set (the code, line, column and a piece of the message, as in EXPECTED).
NOT_WORKFLOW_EXPECTED: dict[str, tuple[int, int, str, Expected]] = {
    "mkdocs.yml": (1, 1, NO_ID, Expected("schema.missing-key", 1, 1, "the file has no `id`")),
    "docker-compose.yaml": (
        2,
        1,
        NO_ID,
        Expected("schema.missing-key", 2, 1, "the file has no `id`"),
    ),
    "kubernetes-worker.yaml": (
        1,
        1,
        "it holds 3 YAML documents and none has an `id`",
        Expected("yaml.multiple-documents", 7, 1, "more than one YAML document"),
    ),
    "platform-project.yaml": (
        2,
        1,
        NO_ID,
        Expected("schema.missing-key", 2, 1, "the file has no `id`"),
    ),
    "ansible-playbook.yml": (
        1,
        1,
        NO_ID,
        Expected("schema.type", 1, 1, "the file must hold a mapping of keys"),
    ),
    "yaml-empty.yaml": (1, 1, EMPTY, Expected("yaml.empty", 0, 0, "the file has no content")),
    "yaml-comments-only.yaml": (1, 1, EMPTY, Expected("yaml.empty", 0, 0, "only comments")),
    "yaml-null-document.yaml": (1, 1, EMPTY, Expected("yaml.empty", 0, 0, "no content")),
    "yaml-top-level-scalar.yaml": (
        1,
        1,
        NO_ID,
        Expected("schema.type", 1, 1, "not the text 'just some text'"),
    ),
}


def test_every_file_in_the_not_workflow_folder_has_an_expectation() -> None:
    assert {path.name for path in NOT_WORKFLOWS.iterdir()} == set(NOT_WORKFLOW_EXPECTED)


@pytest.fixture(scope="module")
def not_workflows() -> LoadResult:
    return load_tree(NOT_WORKFLOWS, OPTIONS, now=NOW)


@pytest.mark.parametrize("name", sorted(NOT_WORKFLOW_EXPECTED))
def test_yaml_without_an_id_is_a_warning_at_its_first_line_and_nothing_else(
    not_workflows: LoadResult, name: str
) -> None:
    line, column, why, _ = NOT_WORKFLOW_EXPECTED[name]
    (result,) = [result for result in not_workflows.files if result.relative == name]
    (warning,) = result.diagnostics
    assert warning.render().startswith(
        f"{name}:{line}:{column}: warning: not a workflow file: {why}; skipped"
    )
    assert warning.code == "file.not-a-workflow"
    assert (result.valid, result.is_workflow, result.workflow_id) == (True, False, None)


def test_a_tree_of_yaml_without_ids_validates_with_warnings_only(
    not_workflows: LoadResult,
) -> None:
    assert (not_workflows.error_count, not_workflows.warning_count) == (
        0,
        len(NOT_WORKFLOW_EXPECTED),
    )
    assert not_workflows.workflow_files == 0
    assert not_workflows.not_workflow_files == set(NOT_WORKFLOW_EXPECTED)


@pytest.mark.parametrize("name", sorted(NOT_WORKFLOW_EXPECTED))
def test_with_include_set_yaml_without_an_id_is_the_error_of_a_workflow_file(name: str) -> None:
    expected = NOT_WORKFLOW_EXPECTED[name][3]
    result = load_tree(NOT_WORKFLOWS, replace(OPTIONS, ids_required=True), now=NOW)
    (found,) = [found for found in result.files if found.relative == name]
    (error,) = found.diagnostics
    assert (error.severity, error.code, error.line, error.column) == (
        "error",
        expected.code,
        expected.line,
        expected.column,
    )
    assert expected.fragment in error.message
    assert found.is_workflow


@pytest.mark.parametrize(("name", "data"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_the_fast_schema_check_agrees_with_jsonschema(name: str, data: object) -> None:
    fast = _fast_check()
    assert fast is not None, "the fast check no longer understands the schema"
    validator = jsonschema.Draft202012Validator(workflow_schema())
    assert fast(data) == validator.is_valid(data)
