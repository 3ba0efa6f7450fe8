"""Typed search attributes as a file writes them: `search_attributes:` of the schedule and
`workflow_search_attributes:` of each started workflow.

A value's type follows from YAML (text: keyword, whole number: int, other number: double,
true/false: bool, list of text: keyword_list) or is stated, `{type: text, value: ...}`; text and
datetime can only be stated (YAML 1.2 has no timestamps, and most text is a keyword). Whether
the namespace has the attribute is the server's to say, at write time.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scheduled.format.schema import did_you_mean
from scheduled.format.yaml_reader import DocPath
from scheduled.model.desired import (
    RESERVED_ATTRIBUTE_PREFIX,
    AttributeType,
    SearchAttribute,
    SearchAttributeValue,
)

if TYPE_CHECKING:  # workflow_file imports action_fields, which imports this module
    from scheduled.format.workflow_file import ErrorSink

_INT64 = 2**63
_TYPES = ", ".join(str(kind) for kind in AttributeType)


def read_search_attributes(
    value: Any, path: DocPath, errors: ErrorSink
) -> tuple[SearchAttribute, ...] | None:
    """The attributes sorted by name, or None when one is unusable (each one reported)."""
    if not isinstance(value, dict):
        return None  # the schema said so already
    found: list[SearchAttribute] = []
    ok = True
    for name, written in value.items():
        where = (*path, name)
        if not isinstance(name, str) or not name or name.startswith(RESERVED_ATTRIBUTE_PREFIX):
            errors.error(
                "schedule.search-attribute",
                f"`{name}` cannot be a search attribute name: names starting with "
                f"{RESERVED_ATTRIBUTE_PREFIX!r} are Temporal's own",
                path=where,
            )
            ok = False
            continue
        attribute = _attribute(name, written, where, errors)
        if attribute is None:
            ok = False
        else:
            found.append(attribute)
    return tuple(sorted(found, key=lambda attribute: attribute.name)) if ok else None


def _attribute(name: str, written: Any, path: DocPath, errors: ErrorSink) -> SearchAttribute | None:
    if written == [] or (isinstance(written, dict) and written.get("value") == []):
        # Temporal stores no empty list: the schedule would read back without the attribute
        # and be rewritten on every resync (checked on a dev server).
        errors.error(
            "schedule.search-attribute",
            f"search attribute `{name}` is an empty list, which Temporal does not store; remove "
            "the attribute to leave it unset",
            path=path,
        )
        return None
    if isinstance(written, dict):
        return _stated(name, written, path, errors)
    kind = _inferred(written)
    if kind is None:
        errors.error(
            "schedule.search-attribute",
            f"search attribute `{name}` has {_kind_of(written)}; write text, a number, true or "
            f"false, a list of text, or state the type: {{type: ..., value: ...}} ({_TYPES})",
            path=path,
        )
        return None
    value = _value(kind, written)
    assert value is not None  # an inferred type always fits its value
    return SearchAttribute(name=name, type=kind, value=value)


def _stated(
    name: str, written: dict[str, Any], path: DocPath, errors: ErrorSink
) -> SearchAttribute | None:
    extra = sorted(str(key) for key in written if key not in ("type", "value"))
    if extra or "type" not in written or "value" not in written:
        errors.error(
            "schedule.search-attribute",
            f"search attribute `{name}` as a mapping needs exactly `type` and `value` "
            f"(e.g. {{type: text, value: some words}}); types: {_TYPES}",
            path=path,
        )
        return None
    try:
        kind = AttributeType(written["type"])
    except ValueError:
        errors.error(
            "schedule.search-attribute",
            f"search attribute `{name}` has the unknown type {written['type']!r}"
            f"{did_you_mean(str(written['type']), list(AttributeType))}; types: {_TYPES}",
            path=(*path, "type"),
        )
        return None
    value = _value(kind, written["value"])
    if value is None:
        errors.error(
            "schedule.search-attribute",
            f"search attribute `{name}` is of type {kind}, and its value is "
            f"{_kind_of(written['value'])}; {_EXPECTED[kind]}",
            path=(*path, "value"),
        )
        return None
    return SearchAttribute(name=name, type=kind, value=value)


_EXPECTED = {
    AttributeType.KEYWORD: "write text (quote a number: '42')",
    AttributeType.TEXT: "write text (quote a number: '42')",
    AttributeType.INT: "write a whole number",
    AttributeType.DOUBLE: "write a number",
    AttributeType.BOOL: "write true or false",
    AttributeType.DATETIME: "write an ISO 8601 date-time with an offset, e.g. 2026-01-01T09:00:00Z",
    AttributeType.KEYWORD_LIST: "write a list of text, e.g. [a, b]",
}


def _inferred(value: Any) -> AttributeType | None:
    if isinstance(value, bool):
        return AttributeType.BOOL
    if isinstance(value, int):
        return AttributeType.INT if -_INT64 <= value < _INT64 else None
    if isinstance(value, float):
        return AttributeType.DOUBLE if math.isfinite(value) else None
    if isinstance(value, str):
        return AttributeType.KEYWORD
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return AttributeType.KEYWORD_LIST
    return None


def _value(kind: AttributeType, value: Any) -> SearchAttributeValue | None:
    """The value as the model holds it for that type; None when it does not fit."""
    if kind in (AttributeType.KEYWORD, AttributeType.TEXT):
        return value if isinstance(value, str) else None
    if kind is AttributeType.BOOL:
        return value if isinstance(value, bool) else None
    if kind is AttributeType.INT:
        fits = isinstance(value, int) and not isinstance(value, bool)
        return value if fits and -_INT64 <= value < _INT64 else None
    if kind is AttributeType.DOUBLE:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        try:
            number = float(value)
        except OverflowError:  # a whole number past any double
            return None
        return number if math.isfinite(number) else None
    if kind is AttributeType.KEYWORD_LIST:
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        return tuple(value) if ok else None
    return _datetime(value)


def _datetime(value: Any) -> datetime | None:
    """In UTC: the same instant written with another offset is the same value to Temporal."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC datetime
        return None


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "no value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list" + (
            "" if all(isinstance(item, str) for item in value) else " of not only text"
        )
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"the text {value!r}"
