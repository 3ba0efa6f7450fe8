"""The workflow file's JSON Schema, and its errors rewritten as sentences with a position.

jsonschema's own messages ("Additional properties are not allowed ('cronn' was unexpected)")
name the rule, not the fix; each error kind is turned into a sentence that says what to write,
with a "did you mean" for near misses of known keys and values.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from scheduled.format.diagnostics import format_path
from scheduled.format.yaml_core import FALSE, TRUE, YAML_1_1_FALSE, YAML_1_1_TRUE, boolean_fix

if TYPE_CHECKING:
    # Imported where a file fails the fast check: jsonschema (with referencing, attrs and rpds)
    # costs 40-120 ms of start-up, more than a `validate` of a few valid files takes in all.
    import jsonschema

SCHEMA_FILE = "workflow.schema.json"

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def schema_text() -> str:
    return resources.files("scheduled.format").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


@cache
def workflow_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    schema = workflow_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(_inline_refs(schema, schema))


# Read by editors only (yaml-language-server, VS Code): each enum value's text on hover, and
# the sentence shown instead of the bare regular expression when a pattern fails.
_ANNOTATIONS = frozenset(
    {
        "description",
        "title",
        "default",
        "examples",
        "$comment",
        "enumDescriptions",
        "patternErrorMessage",
        "errorMessage",
    }
)


def _inline_refs(node: Any, schema: dict[str, Any]) -> Any:
    """The schema with each local `$ref` replaced by what it points to, for speed.

    Resolving a `$ref` through jsonschema's registry costs more than the check it leads to, and
    every file crosses a dozen of them. Only refs whose siblings are annotations are inlined
    (then the result means the same); any other ref is left for jsonschema to resolve.
    """
    if isinstance(node, list):
        return [_inline_refs(item, schema) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if (
        isinstance(reference, str)
        and reference.startswith("#/")
        and set(node) - {"$ref"} <= _ANNOTATIONS
    ):
        target: Any = schema
        for part in reference[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        merged = {**_inline_refs(target, schema), **{k: v for k, v in node.items() if k != "$ref"}}
        return merged
    return {key: _inline_refs(value, schema) for key, value in node.items()}


# -- a fast yes/no check -------------------------------------------------------------------
#
# Most files are valid, and jsonschema spends most of a tree's load time proving it. This check
# interprets the same schema for the keywords the workflow schema uses, with jsonschema's exact
# semantics for each, and only ever answers "valid" or "ask jsonschema": when it says no (or the
# schema grows a keyword it does not know), jsonschema runs and writes the messages.

_Check = Callable[[Any], bool]
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "integer": lambda value: (
        (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer())
    ),
}
_IGNORED = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
    | _ANNOTATIONS
)


class _Unsupported(Exception):
    """The schema uses a keyword the fast check does not interpret."""


@cache
def _fast_check() -> _Check | None:
    schema = workflow_schema()
    try:
        return _compile(_inline_refs(schema, schema))
    except _Unsupported:
        return None


def _compile(schema: Any) -> _Check:
    if schema is True:
        return _always
    if not isinstance(schema, dict):
        raise _Unsupported(repr(schema))
    checks: list[_Check] = []
    for keyword, argument in schema.items():
        if keyword in _IGNORED or (keyword == "additionalProperties" and argument is True):
            continue
        if keyword not in _KEYWORDS:
            raise _Unsupported(keyword)
        checks.append(_KEYWORDS[keyword](argument, schema))
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _always(value: Any) -> bool:
    return True


def _type(argument: Any, schema: dict[str, Any]) -> _Check:
    tests = [_TYPES[name] for name in (argument if isinstance(argument, list) else [argument])]
    return lambda value: any(test(value) for test in tests)


def _required(argument: Any, schema: dict[str, Any]) -> _Check:
    keys = tuple(argument)
    return lambda value: not isinstance(value, dict) or all(key in value for key in keys)


def _properties(argument: Any, schema: dict[str, Any]) -> _Check:
    subschemas = {name: _compile(sub) for name, sub in argument.items()}

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(sub(value[name]) for name, sub in subschemas.items() if name in value)

    return check


def _additional_properties(argument: Any, schema: dict[str, Any]) -> _Check:
    if argument is not False or "patternProperties" in schema:
        raise _Unsupported("additionalProperties")
    known = frozenset(schema.get("properties", {}))
    return lambda value: not isinstance(value, dict) or known.issuperset(value)


def _dependent_required(argument: Any, schema: dict[str, Any]) -> _Check:
    pairs = tuple((key, tuple(needed)) for key, needed in argument.items())
    return lambda value: (
        not isinstance(value, dict)
        or all(need in value for key, needed in pairs if key in value for need in needed)
    )


def _one_of(argument: Any, schema: dict[str, Any]) -> _Check:
    options = [_compile(sub) for sub in argument]
    return lambda value: sum(1 for option in options if option(value)) == 1


def _any_of(argument: Any, schema: dict[str, Any]) -> _Check:
    options = [_compile(sub) for sub in argument]
    return lambda value: any(option(value) for option in options)


def _not(argument: Any, schema: dict[str, Any]) -> _Check:
    inner = _compile(argument)
    return lambda value: not inner(value)


def _items(argument: Any, schema: dict[str, Any]) -> _Check:
    item = _compile(argument)
    return lambda value: not isinstance(value, list) or all(item(entry) for entry in value)


def _enum(argument: Any, schema: dict[str, Any]) -> _Check:
    if not all(type(choice) is str for choice in argument):
        raise _Unsupported("enum")  # jsonschema's equality of 1, 1.0 and true is subtler
    choices = frozenset(argument)
    return lambda value: type(value) is str and value in choices


def _pattern(argument: Any, schema: dict[str, Any]) -> _Check:
    search = re.compile(argument).search  # re.search, as jsonschema does
    return lambda value: not isinstance(value, str) or search(value) is not None


def _length(kind: type[str] | type[list[Any]], low: int, high: int | None) -> _Check:
    def check(value: Any) -> bool:
        if not isinstance(value, kind):
            return True
        return len(value) >= low and (high is None or len(value) <= high)

    return check


def _bound(argument: Any, *, lower: bool) -> _Check:
    is_number = _TYPES["number"]
    if lower:
        return lambda value: not is_number(value) or not value < argument
    return lambda value: not is_number(value) or not value > argument


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any]], _Check]] = {
    "type": _type,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "dependentRequired": _dependent_required,
    "oneOf": _one_of,
    "anyOf": _any_of,
    "not": _not,
    "items": _items,
    "enum": _enum,
    "pattern": _pattern,
    "minLength": lambda argument, schema: _length(str, argument, None),
    "maxLength": lambda argument, schema: _length(str, 0, argument),
    "minItems": lambda argument, schema: _length(list, argument, None),
    "maxItems": lambda argument, schema: _length(list, 0, argument),
    "minimum": lambda argument, schema: _bound(argument, lower=True),
    "maximum": lambda argument, schema: _bound(argument, lower=False),
}


class SchemaProblem:
    """One schema violation: where (a path in the document), whether the key itself is meant."""

    __slots__ = ("at_key", "code", "message", "path")

    def __init__(self, path: tuple[str | int, ...], message: str, code: str, at_key: bool) -> None:
        self.path = path
        self.message = message
        self.code = code
        self.at_key = at_key


def check_document(data: Any) -> list[SchemaProblem]:
    """Every schema problem of a document, as readable sentences."""
    misses = _schedule_near_misses(data) + _not_finite(data)
    fast = _fast_check()
    if fast is not None and fast(data):
        return misses  # valid: jsonschema would find nothing either, and costs ten times more
    problems = [problem for error in _validator().iter_errors(data) for problem in _explain(error)]
    problems += misses
    problems.sort(key=lambda problem: (format_path(problem.path), problem.message))
    return problems


_JSON_VALUES = frozenset({"input", "args", "memo"})


def _not_finite(data: Any) -> list[SchemaProblem]:
    """`.nan` and `.inf` in the schedule block: JSON Schema's bounds let them through (every
    comparison with NaN is false), JSON cannot carry them, and NaN never equals itself, so a
    schedule holding one would read back as changed on every resync."""
    block = data.get("schedule") if isinstance(data, dict) else None
    found: list[SchemaProblem] = []

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            found.append(
                SchemaProblem(
                    path,
                    f"{_name(path)} is {value!r}, which is no number Temporal can hold; write a "
                    "finite number",
                    "schema.not-finite",
                    False,
                )
            )
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))

    if isinstance(block, dict):
        for key, value in block.items():
            if key not in _JSON_VALUES:  # checked as JSON where they are read
                walk(value, ("schedule", key))
    return found


def _schedule_near_misses(data: Any) -> list[SchemaProblem]:
    """Top-level keys one typo away from `schedule` (`shedule`, `Schedule`, `schedules`,
    `scheudle`). Other top-level keys belong to the workflow definition and are allowed, so
    without this a misspelt block would validate clean, read as "no schedule", and the next
    apply would delete the schedule."""
    if not isinstance(data, dict) or "schedule" in data:
        return []
    return [
        SchemaProblem(
            (key,),
            f"unknown top-level key `{key}`; did you mean `schedule`? (as written, the file "
            "has no schedule block; it is treated as invalid so its schedule is kept)",
            "schema.schedule-misspelt",
            True,
        )
        for key in data
        if is_schedule_misspelt(key)
    ]


def is_schedule_misspelt(key: object) -> bool:
    """A top-level key one typo from `schedule`, but not `schedule` itself."""
    return isinstance(key, str) and key != "schedule" and _one_typo_away(key, "schedule")


def _one_typo_away(word: str, target: str) -> bool:
    """Equal but for case, or one letter inserted, dropped, changed, or two swapped."""
    word = word.lower()
    if word == target:
        return True
    if abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        diffs = [index for index, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        swapped = (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and (word[diffs[0]] == target[diffs[1]] and word[diffs[1]] == target[diffs[0]])
        )
        return len(diffs) == 1 or swapped
    shorter, longer = sorted((word, target), key=len)
    return any(longer[:index] + longer[index + 1 :] == shorter for index in range(len(longer)))


def _name(path: tuple[str | int, ...]) -> str:
    return f"`{format_path(path)}`" if path else "the document"


def _describe_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"the text {value!r}"


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


# Long: one branch per JSON Schema keyword; a table of explainers is the next step.
def _explain(error: jsonschema.ValidationError) -> Iterator[SchemaProblem]:
    path = tuple(error.absolute_path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = sorted(schema.get("properties", {}))
        for key in sorted(set(instance) - set(known)):
            where = "the schedule block" if path == ("schedule",) else _name(path)
            yield SchemaProblem(
                (*path, key),
                f"unknown key `{key}` in {where}{did_you_mean(key, known)}"
                f" (allowed: {', '.join(known)})",
                "schema.unknown-key",
                at_key=True,
            )
        return
    if validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        if not path and missing == "id":
            message = "the file has no `id`; add `id: some-name` (lowercase letters and digits)"
        else:
            message = f"{_name(path)} needs the key `{missing}`"
        yield SchemaProblem(path, message, "schema.missing-key", at_key=False)
        return
    if validator == "type" and path == ("schedule", "args") and instance is None:
        message = "`schedule.args` is empty; write `args: []` for no argument (or `[null]`)"
        yield SchemaProblem(path, message, "schema.type", at_key=False)
        return
    if validator == "type":
        expected = error.validator_value
        words = (
            " or ".join(_TYPE_WORDS.get(str(kind), str(kind)) for kind in expected)
            if isinstance(expected, list)
            else _TYPE_WORDS.get(str(expected), str(expected))
        )
        if not path:
            message = (
                f"the file must hold a mapping of keys (id, workflow, schedule…), "
                f"not {_describe_type(instance)}"
            )
        elif path == ("id",):
            message = f"`id` must be a name such as daily-report, not {_describe_type(instance)}"
        else:
            message = f"{_name(path)} must be {words}, not {_describe_type(instance)}"
            if expected == "boolean" and isinstance(instance, str):
                message += _boolean_hint(instance)
        yield SchemaProblem(path, message, "schema.type", at_key=False)
        return
    if validator == "enum":
        choices = [str(choice) for choice in schema.get("enum", [])]
        hint = did_you_mean(str(instance), choices)
        yield SchemaProblem(
            path,
            f"{_name(path)} must be one of {', '.join(choices)}, not {instance!r}{hint}",
            "schema.enum",
            at_key=False,
        )
        return
    if validator == "pattern":
        yield SchemaProblem(path, _pattern_message(path, instance), "schema.pattern", at_key=False)
        return
    if validator == "anyOf" and path == ("schedule",) and not isinstance(instance, dict):
        return  # the `type` error already says that the block must be a mapping
    if validator == "anyOf" and path == ("schedule",) and isinstance(instance, dict):
        message = "the schedule needs `cron` (a cron expression), `every` (an interval), or both"
        yield SchemaProblem(path, message, "schema.cron-or-every", at_key=True)
        return
    if validator == "oneOf" and path[-1:] == ("cron",):
        if isinstance(instance, list) and not instance:
            message = "`schedule.cron` is an empty list; give at least one cron expression"
        else:
            message = f"`schedule.cron` must be a cron string or a list of cron strings, not {_describe_type(instance)}"
        yield SchemaProblem(path, message, "schema.cron-type", at_key=False)
        return
    if validator in ("oneOf", "anyOf") and path[1:2] in (("every",), ("skip",)):
        yield from _explain_branches(error, path)
        return
    if validator == "dependentRequired":
        yield SchemaProblem(
            (*path, "offset"),
            "`offset` only applies to `every` intervals; remove it or use `every`",
            "schema.offset-without-every",
            at_key=True,
        )
        return
    if validator in ("minimum", "maximum") and "errorMessage" in schema:
        # The field says why its range is what it is (`max_runs`: why not 0).
        yield SchemaProblem(path, str(schema["errorMessage"]), "schema.range", at_key=False)
        return
    if validator in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
        limits = {
            "minimum": f"at least {error.validator_value}",
            "maximum": f"at most {error.validator_value}",
            "minLength": f"at least {error.validator_value} characters long",
            "maxLength": f"at most {error.validator_value} characters long",
            "minItems": f"a list of at least {error.validator_value} items",
            "maxItems": f"a list of at most {error.validator_value} items",
        }
        requirement = (
            "must not be empty"
            if validator == "minLength" and error.validator_value == 1
            else f"must be {limits[str(validator)]}"
        )
        yield SchemaProblem(path, f"{_name(path)} {requirement}", "schema.range", at_key=False)
        return
    yield SchemaProblem(path, f"{_name(path)}: {error.message}", f"schema.{validator}", False)


_BRANCH_WORDS = {
    "every": "a duration such as 15m or {every: 90m, offset: 10m}",
    "skip": "a date (2026-12-25), a range {from: 2026-12-20, to: 2027-01-03} or a cron string",
}


def _explain_branches(
    error: jsonschema.ValidationError, path: tuple[str | int, ...]
) -> Iterator[SchemaProblem]:
    """A value that fits none of a field's forms: explained by the form for its own type (a
    list by the list form), else by naming the forms."""
    branches: dict[int, list[jsonschema.ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    for errors in branches.values():
        if not any(_wrong_type(sub, path) for sub in errors):
            for sub in errors:
                yield from _explain(sub)
            return
    kind = _BRANCH_WORDS[str(path[1])] + (", or a list of those" if len(path) == 2 else "")
    yield SchemaProblem(
        path,
        f"{_name(path)} must be {kind}, not {_describe_type(error.instance)}",
        "schema.type",
        at_key=False,
    )


def _wrong_type(error: jsonschema.ValidationError, path: tuple[str | int, ...]) -> bool:
    """The value at `path` is of a type this form does not take at all."""
    if tuple(error.absolute_path) != path:
        return False
    if error.validator == "type":
        return True
    if error.validator in ("oneOf", "anyOf"):
        return all(_wrong_type(sub, path) for sub in error.context or ())
    return False


def _boolean_hint(text: str) -> str:
    """How to write the boolean meant by text: `no` (a YAML 1.1 boolean) or a quoted "false"."""
    if text.lower() in YAML_1_1_TRUE | YAML_1_1_FALSE:
        return boolean_fix(text)
    if text in TRUE | FALSE:
        return f"; write {text.lower()} without quotes (quoted, it is text)"
    return ""


def _pattern_message(path: tuple[str | int, ...], instance: Any) -> str:
    field = path[-1] if path else ""
    if field == "id":
        return (
            f"`id` {instance!r} may use only lowercase letters, digits, '-', '_' and '.', "
            "and must start with a letter or digit"
        )
    if field in ("from", "to") or (len(path) > 1 and path[1] == "skip"):
        return f"{_name(path)} {instance!r} is not a date; write YYYY-MM-DD, e.g. 2026-12-25"
    if field in ("start_at", "end_at"):
        return (
            f"{_name(path)} {instance!r} is not a date-time; write e.g. 2026-01-01T09:00:00Z "
            "or 2026-01-01"
        )
    return (
        f"{_name(path)} {instance!r} is not a duration; write a number with a unit, "
        "such as 500ms, 1.5s, 90s, 15m, 1h30m or 2d (units largest first)"
    )
