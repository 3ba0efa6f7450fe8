"""search_attributes: typed search attributes as a file writes them, for the schedule and for
each started workflow; the type follows from the value or is stated."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from file_loading import load_text, schedule_of
from trees import workflow_yaml

from scheduled.model.desired import AttributeType, SearchAttribute

FIELDS = ["search_attributes", "workflow_search_attributes"]


def attributes_of(tmp_path: Path, field: str, value: dict[str, Any]) -> tuple[SearchAttribute, ...]:
    schedule = schedule_of(tmp_path, workflow_yaml("a", every="1h", **{field: value}))
    if field == "search_attributes":
        return schedule.search_attributes
    return schedule.action.search_attributes


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(
    ("written", "kind", "value"),
    [
        ("payments", AttributeType.KEYWORD, "payments"),
        (3, AttributeType.INT, 3),
        (0.5, AttributeType.DOUBLE, 0.5),
        (True, AttributeType.BOOL, True),
        (["eu", "us"], AttributeType.KEYWORD_LIST, ("eu", "us")),
    ],
    ids=["keyword", "int", "double", "bool", "keyword_list"],
)
def test_the_type_follows_from_the_value(
    tmp_path: Path, field: str, written: Any, kind: AttributeType, value: Any
) -> None:
    assert attributes_of(tmp_path, field, {"Attr": written}) == (
        SearchAttribute(name="Attr", type=kind, value=value),
    )


@pytest.mark.parametrize(
    ("stated", "value"),
    [
        ({"type": "text", "value": "some words"}, "some words"),
        (
            {"type": "datetime", "value": "2026-01-01T10:00:00+01:00"},
            datetime(2026, 1, 1, 9, tzinfo=UTC),
        ),
        ({"type": "double", "value": 2}, 2.0),
        ({"type": "keyword", "value": "3"}, "3"),
    ],
    ids=["text", "datetime-in-utc", "double-from-int", "keyword"],
)
def test_a_stated_type_is_taken_as_stated(
    tmp_path: Path, stated: dict[str, Any], value: Any
) -> None:
    (found,) = attributes_of(tmp_path, "search_attributes", {"Attr": stated})
    assert (found.type, found.value) == (AttributeType(stated["type"]), value)


def test_attributes_are_held_sorted_by_name(tmp_path: Path) -> None:
    found = attributes_of(tmp_path, "search_attributes", {"Zeta": "z", "Alpha": "a"})
    assert [attribute.name for attribute in found] == ["Alpha", "Zeta"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(
    ("written", "where", "words"),
    [
        ({"type": "int", "value": "x"}, "Attr.value", "of type int, and its value is the text 'x'"),
        ({"type": "datetime", "value": "2026-01-01T10:00"}, "Attr.value", "with an offset"),
        ({"type": "float", "value": 1}, "Attr.type", "unknown type 'float'"),
        ({"value": 1}, "Attr", "needs exactly `type` and `value`"),
        ([1, 2], "Attr", "a list of not only text"),
        (None, "Attr", "has no value"),
        ([], "Attr", "an empty list, which Temporal does not store"),
        ({"type": "keyword_list", "value": []}, "Attr", "an empty list"),
        ({"type": "datetime", "value": "0001-01-01T00:00:00+01:00"}, "Attr.value", "ISO 8601"),
        ({"type": "double", "value": 10**400}, "Attr.value", "write a number"),
    ],
    ids=[
        "wrong-value",
        "naive-datetime",
        "unknown-type",
        "no-type",
        "mixed-list",
        "empty",
        "empty-list",  # Temporal stores none: it would be rewritten on every resync
        "empty-stated-list",
        "datetime-before-utc-begins",
        "double-past-any-float",
    ],
)
def test_an_unusable_attribute_is_an_error_at_its_place(
    tmp_path: Path, field: str, written: Any, where: str, words: str
) -> None:
    result = load_text(tmp_path, workflow_yaml("a", every="1h", **{field: {"Attr": written}}))
    (error,) = [diagnostic for diagnostic in result.diagnostics if diagnostic.is_error]
    assert error.code == "schedule.search-attribute"
    assert error.path == f"schedule.{field}.{where}"
    assert words in error.message
    assert error.line == 6 and error.column > 1
    assert result.schedule is None


def test_temporals_own_names_are_refused(tmp_path: Path) -> None:
    text = workflow_yaml("a", every="1h", search_attributes={"TemporalSchedulePaused": True})
    (error,) = load_text(tmp_path, text).diagnostics
    assert "names starting with 'Temporal' are Temporal's own" in error.message


def test_search_attributes_that_are_no_mapping_are_a_schema_error(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("a", every="1h", search_attributes=["Team"]))
    assert [d.code for d in result.diagnostics] == ["schema.type"]
