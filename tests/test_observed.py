"""What a write sends as the schedule's own search attributes, from the file and what Temporal
holds: Temporal replaces them as a whole, so those others set are sent back unchanged."""

from __future__ import annotations

from dataclasses import replace

from test_plan import desired, observed, record_of

from scheduled.model.desired import (
    AttributeType,
    DesiredSchedule,
    SearchAttribute,
    with_fingerprint,
)
from scheduled.model.observed import Revision, record_for, search_attributes_to_write

TEAM = SearchAttribute(name="Team", type=AttributeType.KEYWORD, value="payments")
TIER = SearchAttribute(name="Tier", type=AttributeType.INT, value=1)
NOTES = SearchAttribute(name="Notes", type=AttributeType.TEXT, value="by hand")


def with_attributes(*found: SearchAttribute) -> DesiredSchedule:
    return with_fingerprint(replace(desired(), search_attributes=found))


def test_a_create_sends_the_files_attributes() -> None:
    assert search_attributes_to_write(with_attributes(TEAM, TIER), None) == (TEAM, TIER)


def test_without_attributes_in_file_or_record_they_are_left_alone() -> None:
    schedule = desired()
    held = replace(observed(schedule), search_attributes=(NOTES,))
    assert search_attributes_to_write(schedule, held) is None


def test_an_update_keeps_what_others_set_and_replaces_its_own() -> None:
    schedule = with_attributes(replace(TEAM, value="billing"))
    held = replace(observed(schedule), search_attributes=(NOTES, TEAM))
    assert search_attributes_to_write(schedule, held) == (NOTES, replace(TEAM, value="billing"))


def test_an_attribute_the_file_dropped_is_removed() -> None:
    schedule = desired()
    record = record_of(schedule, search_attribute_names=("Team",))
    held = replace(observed(schedule, record=record), search_attributes=(NOTES, TEAM))
    assert search_attributes_to_write(schedule, held) == (NOTES,)


def test_the_record_names_the_attributes_the_write_set() -> None:
    record = record_for(with_attributes(TEAM, TIER), Revision())
    assert record.search_attribute_names == ("Team", "Tier")
