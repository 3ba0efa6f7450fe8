"""One workflow file to a FileResult: read, parse, check the schema, build, lint.

The builder here is slim on purpose: it reads the `id`, hands the `schedule:` block to the field
readers (spec_fields for when it fires, action_fields for what it starts and how runs overlap),
and only then runs the lints on what they built. A field the schema already rejected is not read
again, so each problem is reported once, in the schema's words.

Not every YAML file is a workflow file. With the default include globs, a file that YAML reads
(one document or several) in which no document names an `id` or holds a `schedule` block is
"not a workflow file": a warning, and nothing else. When `include` is set, every file it
selects is meant to be one, and such a file is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, TypedDict, Unpack

from scheduled.format import tree
from scheduled.format.action_fields import read_action, read_policies
from scheduled.format.diagnostics import Diagnostic, Severity, format_path, sort_key
from scheduled.format.globs import DEFAULT_SELECTION, FileSelection
from scheduled.format.lints import lint
from scheduled.format.schema import check_document, is_schedule_misspelt
from scheduled.format.search_attributes import read_search_attributes
from scheduled.format.spec_fields import read_spec
from scheduled.format.yaml_reader import (
    DocPath,
    Document,
    YamlReadError,
    read_yaml,
    read_yaml_documents,
)
from scheduled.model.desired import DesiredSchedule, schedule_id_for, with_fingerprint


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadOptions:
    project: str
    default_workflow: str | None = None
    default_task_queue: str | None = None
    max_file_bytes: int = tree.MAX_FILE_BYTES
    selection: FileSelection = DEFAULT_SELECTION  # which YAML files are workflow files
    # `include` was set: every file it selects must be a workflow file (one without an `id`
    # is an error, not "not a workflow file").
    ids_required: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    relative: str
    workflow_id: str | None = None  # when it could be read, even from an invalid file
    id_position: tuple[int, int] = (1, 1)  # line and column of the `id` value
    schedule: DesiredSchedule | None = None  # set only when the file is valid and has a schedule
    diagnostics: tuple[Diagnostic, ...] = ()
    is_workflow: bool = True  # False: YAML without an `id`, reported with a warning only

    @property
    def valid(self) -> bool:
        return not any(diagnostic.is_error for diagnostic in self.diagnostics)


class ErrorSink(Protocol):
    """All a field reader may do with the findings: add an error. Warnings about a valid
    schedule are the lints' business, and run after the building."""

    def error(self, code: str, message: str, *, path: DocPath, column_offset: int = 0) -> None: ...


class SchemaGate:
    """One mapping of the document as the schema judged it. A field the schema rejected reads as
    absent, so the builder does not report it a second time in other words.

    The schema's problems are kept by their first two path parts (`("schedule", "cron")`), which
    is as deep as the builder looks: inside `retry`, a field is read as written."""

    __slots__ = ("_bad", "_prefix", "values")

    def __init__(
        self, values: dict[str, Any], bad: frozenset[DocPath], prefix: DocPath = ()
    ) -> None:
        self.values = values  # as written, rejected fields included
        self._bad = bad
        self._prefix = prefix

    def rejected(self, name: str) -> bool:
        """The schema found a problem at this field or inside it."""
        return bool(self._bad) and (*self._prefix, name) in self._bad

    def valid(self, name: str) -> bool:
        """The field is written and the schema found nothing wrong with it."""
        return name in self.values and not self.rejected(name)

    def get(self, name: str, default: Any = None) -> Any:
        """The field's value when valid; the default when absent or rejected."""
        return self.values[name] if self.valid(name) else default

    def inner(self, name: str) -> SchemaGate | None:
        """The gate of a nested mapping (`schedule:`), or None when it is not a mapping."""
        value = self.values.get(name)
        if not isinstance(value, dict):
            return None
        return SchemaGate(value, self._bad, (*self._prefix, name))


def load_file(found: tree.FoundFile, options: LoadOptions, *, now: datetime) -> FileResult:
    """One file to a FileResult; every problem becomes a diagnostic, never an exception."""
    findings = _Findings(found.relative)
    if found.problem is not None:
        findings.error("file.unreadable", found.problem)
        return findings.result()
    text = tree.read_text(found.path, options.max_file_bytes)
    if isinstance(text, tree.ReadProblem):
        findings.error(text.code, text.message, line=text.line, column=text.column)
        return findings.result()
    return load_text(found.relative, text, options, now=now)


def load_text(relative: str, text: str, options: LoadOptions, *, now: datetime) -> FileResult:
    """One file's text to a FileResult, as if read from `relative` in the tree (`export`
    checks the files it writes with this, before writing them)."""
    findings = _Findings(relative)
    try:
        document = read_yaml(text)
    except YamlReadError as error:
        if not options.ids_required:
            unrelated = _not_a_workflow(error, text)
            if unrelated is not None:
                return findings.not_a_workflow(*unrelated)
        findings.error(error.code, error.message, line=error.line, column=error.column)
        # The id as far as the text shows it: a broken save still protects the schedule it
        # names, even when it is not that schedule's source (a duplicate, a rename).
        recovered = id_from_text(text)
        if recovered is None:
            return findings.result()
        return findings.result(workflow_id=recovered[0], id_position=recovered[1])
    findings.document = document
    if not options.ids_required and not names_a_workflow(document.data):
        where = document.position(())
        return findings.not_a_workflow(_NO_ID, where.line, where.column)
    _id_as_written(document)
    workflow_id: str | None = None
    id_position = (1, 1)
    try:
        top = _check_schema(document, findings)
        if top is None:
            return findings.result()
        workflow_id, id_position = _identity(document, top)
        schedule = _schedule(top, findings, options, now)
        return findings.result(workflow_id=workflow_id, id_position=id_position, schedule=schedule)
    except Exception as error:  # a bug of ours must cost this file, never the whole tree
        failed = _Findings(relative)
        failed.error(
            "internal.error",
            f"scheduled failed while checking this file ({type(error).__name__}: {error}); "
            "this is a bug in scheduled, please report it with the file",
            line=0,
            column=0,
        )
        # The id as far as it was read: its schedule is left alone, as for any error.
        return failed.result(workflow_id=workflow_id, id_position=id_position)


_NO_ID = "it has no top-level `id`"


def names_a_workflow(data: Any) -> bool:
    """A document that is meant as a workflow: a mapping with an `id`, or with a `schedule`
    block (or a key one typo from it), whose missing `id` is then an error; or a list of such
    mappings (workflows written into one file, which is an error too)."""
    if isinstance(data, list):
        return any(names_a_workflow(item) for item in data if isinstance(item, dict))
    if not isinstance(data, dict):
        return False
    return "id" in data or "schedule" in data or any(map(is_schedule_misspelt, data))


def _not_a_workflow(error: YamlReadError, text: str) -> tuple[str, int, int] | None:
    """Why a text read_yaml refused is still plainly not a workflow file, and where; None
    when it may be one (a broken file is an error whatever it was meant to be)."""
    if error.code == "yaml.empty":
        return "it is empty or holds only comments", 1, 1
    if error.code != "yaml.multiple-documents":
        return None
    try:
        documents = read_yaml_documents(text)
    except YamlReadError:
        return None
    if any(names_a_workflow(document.data) for document in documents):
        return None
    where = documents[0].position(())
    return (
        f"it holds {len(documents)} YAML documents and none has an `id`",
        where.line,
        where.column,
    )


def _id_as_written(document: Document) -> None:
    """An `id` that YAML reads as a number (`0123`, `2024`) is the text as written: an id is a
    name, and `0123` read as the number 123 would name another schedule."""
    data = document.data
    value = data.get("id") if isinstance(data, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = document.texts.get(("id",))
        if text is not None:
            data["id"] = text


_ID_LINE = re.compile(r"^id:[ \t]*(?P<value>[^#\s][^#\n]*?)[ \t]*(?:#.*)?$", re.MULTILINE)


def id_from_text(text: str) -> tuple[str, tuple[int, int]] | None:
    """The value of the one top-level `id:` line of a text YAML cannot read, and its
    position; None when there is no such line or more than one."""
    found = list(_ID_LINE.finditer(text))
    if len(found) != 1:
        return None
    match = found[0]
    value = match.group("value")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    if not value:
        return None
    line = text.count("\n", 0, match.start()) + 1
    return value, (line, match.start("value") - match.start() + 1)


def _check_schema(document: Document, findings: _Findings) -> SchemaGate | None:
    """Report the schema's problems; the gate of the top level, or None when it is no mapping."""
    bad: set[DocPath] = set()
    for problem in check_document(document.data):
        findings.error(problem.code, problem.message, path=problem.path, at_key=problem.at_key)
        bad.add(problem.path[:2])
    if not isinstance(document.data, dict):
        return None
    return SchemaGate(document.data, frozenset(bad))


def _identity(document: Document, top: SchemaGate) -> tuple[str | None, tuple[int, int]]:
    """The workflow id and where it stands, when the schema accepted it."""
    workflow_id = top.get("id")
    if not isinstance(workflow_id, str):
        return None, (1, 1)
    position = document.position(("id",))
    return workflow_id, (position.line, position.column)


def _schedule(
    top: SchemaGate, findings: _Findings, options: LoadOptions, now: datetime
) -> DesiredSchedule | None:
    """The `schedule:` block built, then linted; None when it is absent or anything failed."""
    block = top.inner("schedule")
    if block is None:
        return None
    when = read_spec(block, findings)
    action = read_action(top, block, options, findings)
    policies = read_policies(block, findings)
    attributes = (
        read_search_attributes(
            block.values["search_attributes"], ("schedule", "search_attributes"), findings
        )
        if block.valid("search_attributes")
        else ()
    )
    if when is not None:
        for found in lint(when, now):
            findings.add(found.severity, found.code, found.message, path=found.path)
    if findings.has_errors() or action is None or when is None or attributes is None:
        return None
    workflow_id = top.values["id"]
    return with_fingerprint(
        DesiredSchedule(
            workflow_id=workflow_id,
            schedule_id=schedule_id_for(options.project, workflow_id),
            source=findings.relative,
            spec=when.spec,
            policies=policies,
            action=action,
            enabled=bool(block.values.get("enabled", True)),
            note=str(block.values.get("note", "")),
            search_attributes=attributes,
            max_runs=_max_runs(block),
            trigger_immediately=bool(block.values.get("trigger_immediately", False)),
        )
    )


def _max_runs(block: SchemaGate) -> int | None:
    """The run limit, a whole number the schema checked (YAML may write it as 3.0)."""
    value = block.get("max_runs")
    return int(value) if value is not None else None


class Where(TypedDict, total=False):
    """Where a finding points: a path into the document (its key with `at_key`), or an
    explicit line and column."""

    path: DocPath
    at_key: bool
    line: int | None
    column: int | None
    column_offset: int


class _Findings:
    """Where one file's diagnostics go, located in its document: a sink and nothing more (what
    the file builds is returned by the builder, not kept here)."""

    __slots__ = ("diagnostics", "document", "relative")

    def __init__(self, relative: str) -> None:
        self.relative = relative
        self.document: Document | None = None
        self.diagnostics: list[Diagnostic] = []

    def add(self, severity: Severity, code: str, message: str, **where: Unpack[Where]) -> None:
        path = where.get("path", ())
        line, column = where.get("line"), where.get("column")
        if line is None and self.document is not None:
            position = self.document.position(path, key=where.get("at_key", False))
            line, column = position.line, position.column + where.get("column_offset", 0)
        self.diagnostics.append(
            Diagnostic(
                file=self.relative,
                line=line or 0,
                column=column or 0,
                severity=severity,
                code=code,
                message=message,
                path=format_path(path),
            )
        )

    def error(self, code: str, message: str, **where: Unpack[Where]) -> None:
        self.add(Severity.ERROR, code, message, **where)

    def not_a_workflow(self, why: str, line: int, column: int) -> FileResult:
        """The result of a YAML file that is no workflow file: one warning, nothing else."""
        self.diagnostics = []
        self.add(
            Severity.WARNING,
            "file.not-a-workflow",
            f"not a workflow file: {why}; skipped (add an `id` if it is meant to be one, "
            "or add it to `exclude` to silence this)",
            line=line,
            column=column,
        )
        return replace(self.result(), is_workflow=False)

    def has_errors(self) -> bool:
        return any(diagnostic.is_error for diagnostic in self.diagnostics)

    def result(
        self,
        *,
        workflow_id: str | None = None,
        id_position: tuple[int, int] = (1, 1),
        schedule: DesiredSchedule | None = None,
    ) -> FileResult:
        return FileResult(
            relative=self.relative,
            workflow_id=workflow_id,
            id_position=id_position,
            schedule=None if self.has_errors() else schedule,
            diagnostics=tuple(sorted(self.diagnostics, key=sort_key)),
        )
