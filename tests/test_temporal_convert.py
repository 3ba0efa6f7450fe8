"""Conversion to and from the SDK's types, without a server."""

from __future__ import annotations

import asyncio
import dataclasses
import struct
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import temporalio.client as tc
import temporalio.common
import temporalio.converter
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.schedule.v1 import CalendarSpec, ScheduleActionResult, StructuredCalendarSpec
from temporalio.api.workflowservice.v1 import DescribeScheduleResponse
from test_plan import desired

from scheduled.model.calendar import Calendar, Range
from scheduled.model.desired import AttributeType, Priority, RetryPolicy, SearchAttribute
from scheduled.model.observed import WriteRecord
from scheduled.reconcile.gateway import ScheduleWrite
from scheduled.temporal.convert import (
    decode_action,
    observed_schedule,
    priority_from_sdk,
    recent_run,
    sdk_schedule,
    sdk_search_attributes,
    search_attributes_from_sdk,
    unsupported_parts,
)
from scheduled.temporal.marker import MEMO_KEY, parse_record

S = timedelta(seconds=1)


def test_write_sends_server_defaults_and_the_record_as_an_exclude_calendar() -> None:
    schedule = desired_for_unit_tests()
    write = ScheduleWrite(
        project="p",
        schedule=schedule,
        paused=True,
        note="n",
        record=WriteRecord(fingerprint="f", source="s.yaml", enabled=False),
    )
    sdk = sdk_schedule(write)
    assert sdk.policy.catchup_window == timedelta(days=365)
    assert sdk.spec.jitter is None and sdk.spec.time_zone_name == "UTC"
    skip = sdk.spec.skip[0]
    record = parse_record(skip.comment or "")
    assert record is not None and record.source == "s.yaml"
    assert (sdk.state.paused, sdk.state.note) == (True, "n")
    action = sdk.action
    assert isinstance(action, tc.ScheduleActionStartWorkflow)
    assert action.retry_policy is not None
    assert (action.retry_policy.initial_interval, action.retry_policy.backoff_coefficient) == (
        S,
        2.0,
    )


def test_recent_run_status_comes_from_the_raw_proto() -> None:
    at = Timestamp(seconds=1_800_000_000)
    result = ScheduleActionResult(
        schedule_time=at,
        actual_time=at,
        start_workflow_status=WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED,
    )
    result.start_workflow_result.workflow_id = "p-job-2027"
    run = recent_run(result)
    assert (run.status, run.workflow_id) == ("failed", "p-job-2027")
    assert run.scheduled_at == datetime.fromtimestamp(1_800_000_000, tz=UTC)
    assert recent_run(ScheduleActionResult(schedule_time=at)).status == "unknown"


def desired_for_unit_tests() -> Any:
    schedule = desired("job")
    return dataclasses.replace(
        schedule, action=dataclasses.replace(schedule.action, retry=RetryPolicy(maximum_attempts=3))
    )


def test_a_schedule_scheduled_wrote_holds_nothing_beyond_the_model() -> None:
    written = sdk_schedule(
        ScheduleWrite(
            project="p",
            schedule=desired_for_unit_tests(),
            paused=False,
            note="",
            record=WriteRecord(fingerprint="f", source="s.yaml", enabled=True),
        )
    )
    described = DescribeScheduleResponse()
    described.schedule.spec.exclude_structured_calendar.append(
        StructuredCalendarSpec(comment=written.spec.skip[0].comment or "")
    )
    described.schedule.action.start_workflow.input.payloads.append(Payload(data=b"{}"))
    assert unsupported_parts(described) == ()


def test_what_a_file_cannot_say_is_named_part_by_part() -> None:
    described = DescribeScheduleResponse()
    schedule = described.schedule
    schedule.spec.exclude_calendar.append(CalendarSpec(hour="12"))
    workflow = schedule.action.start_workflow
    workflow.input.payloads.extend([Payload(data=b"1"), Payload(data=b"2")])
    workflow.search_attributes.indexed_fields["Tier"].data = b"1"
    workflow.header.fields["tracing"].data = b"x"
    workflow.priority.priority_key = 1
    described.memo.fields["team"].data = b'"a"'
    described.memo.fields[MEMO_KEY].data = b"{}"  # the ownership marker is not a memo of theirs
    described.search_attributes.indexed_fields["Team"].data = b'"x"'
    assert unsupported_parts(described) == (
        "1 exclusion calendar(s) in Temporal's older CalendarSpec form",
        "workflow headers (tracing)",
        "a schedule memo (team)",
    )


def _write(schedule: Any) -> ScheduleWrite:
    return ScheduleWrite(
        project="p",
        schedule=schedule,
        paused=False,
        note="",
        record=WriteRecord(fingerprint="f", source="s.yaml", enabled=True),
    )


def _action(schedule: Any) -> tc.ScheduleActionStartWorkflow:
    action = sdk_schedule(_write(schedule)).action
    assert isinstance(action, tc.ScheduleActionStartWorkflow)
    return action


def test_no_argument_is_sent_as_no_payload() -> None:
    assert _action(desired("job")).args == []


def test_each_argument_is_sent_in_order() -> None:
    schedule = desired("job")
    several = replace(schedule, action=replace(schedule.action, args_json='[1,"two",null]'))
    assert _action(several).args == [1, "two", None]


def test_the_new_action_fields_reach_the_sdk() -> None:
    schedule = desired("job")
    action = replace(
        schedule.action,
        workflow_id="base",
        summary="Nightly",
        details="All of it",
        priority=Priority(priority_key=2, fairness_key="tenant-a", fairness_weight=0.5),
        search_attributes=(
            SearchAttribute(
                name="Due", type=AttributeType.DATETIME, value=datetime(2026, 1, 1, tzinfo=UTC)
            ),
            SearchAttribute(name="Tags", type=AttributeType.KEYWORD_LIST, value=("a", "b")),
        ),
    )
    sent = _action(replace(schedule, action=action))
    assert (sent.id, sent.static_summary, sent.static_details) == ("base", "Nightly", "All of it")
    assert sent.priority == temporalio.common.Priority(
        priority_key=2, fairness_key="tenant-a", fairness_weight=0.5
    )
    assert [(pair.key.name, pair.value) for pair in sent.typed_search_attributes] == [
        ("Due", datetime(2026, 1, 1, tzinfo=UTC)),
        ("Tags", ["a", "b"]),
    ]


def test_search_attributes_read_back_sorted_with_their_types() -> None:
    typed = sdk_search_attributes(
        (
            SearchAttribute(name="Tier", type=AttributeType.INT, value=3),
            SearchAttribute(name="Notes", type=AttributeType.TEXT, value="words"),
        )
    )
    assert search_attributes_from_sdk(typed) == (
        SearchAttribute(name="Notes", type=AttributeType.TEXT, value="words"),
        SearchAttribute(name="Tier", type=AttributeType.INT, value=3),
    )


def test_a_described_default_priority_reads_as_none() -> None:
    assert priority_from_sdk(temporalio.common.Priority()) is None
    assert priority_from_sdk(None) is None


def test_a_fairness_weight_reads_back_as_the_file_wrote_it() -> None:
    as_float32 = struct.unpack("<f", struct.pack("<f", 0.1))[0]  # what the server returns
    assert as_float32 != 0.1
    found = priority_from_sdk(temporalio.common.Priority(fairness_weight=as_float32))
    assert found == Priority(fairness_weight=0.1)


def test_summary_and_details_are_decoded_and_an_unset_one_is_empty() -> None:
    converter = temporalio.converter.DataConverter.default
    summary = asyncio.run(converter.encode(["Nightly"]))[0]
    action = tc.ScheduleActionStartWorkflow("W", id="x", task_queue="q")
    action.static_summary = summary  # type: ignore[assignment]  # as describe hands it over
    action.static_details = Payload()  # type: ignore[assignment]
    decoded = asyncio.run(decode_action(converter, action))
    assert (decoded.summary, decoded.details, decoded.args_json) == ("Nightly", "", "[]")


def test_temporals_own_search_attributes_are_left_out() -> None:
    typed = temporalio.common.TypedSearchAttributes(
        [
            temporalio.common.SearchAttributePair(
                temporalio.common.SearchAttributeKey.for_bool("TemporalSchedulePaused"), True
            ),
            temporalio.common.SearchAttributePair(
                temporalio.common.SearchAttributeKey.for_keyword("Team"), "a"
            ),
        ]
    )
    assert [attribute.name for attribute in search_attributes_from_sdk(typed)] == ["Team"]


def _write_with_skip(*skip: Calendar) -> tc.Schedule:
    schedule = desired_for_unit_tests()
    schedule = dataclasses.replace(schedule, spec=dataclasses.replace(schedule.spec, skip=skip))
    return sdk_schedule(
        ScheduleWrite(
            project="p",
            schedule=schedule,
            paused=False,
            note="",
            record=WriteRecord(fingerprint="f", source="s.yaml", enabled=True),
        )
    )


HOLIDAY = Calendar(
    second=(Range(0, 59),),
    minute=(Range(0, 59),),
    hour=(Range(0, 23),),
    day_of_month=(Range(25),),
    month=(Range(12),),
    year=(Range(2026),),
    comment="2026-12-25",
)


def test_the_write_record_is_the_first_exclude_calendar_and_the_files_follow_it() -> None:
    written = _write_with_skip(HOLIDAY, dataclasses.replace(HOLIDAY, comment="again"))
    assert parse_record(written.spec.skip[0].comment or "") is not None
    assert [calendar.comment for calendar in written.spec.skip[1:]] == ["2026-12-25", "again"]


def test_exclusions_read_back_without_the_write_record() -> None:
    written = _write_with_skip(HOLIDAY)
    observed = observed_schedule(
        "schedule-p-job",
        {},
        written.spec,
        "Job",
        paused=False,
        note="",
        next_runs=(),
        recent=(),
    )
    assert observed.spec.skip == (HOLIDAY,)
    assert observed.record is not None and observed.record.source == "s.yaml"


def test_structured_exclusions_are_something_a_file_can_say() -> None:
    described = DescribeScheduleResponse()
    described.schedule.spec.exclude_structured_calendar.append(
        StructuredCalendarSpec(comment="holidays")
    )
    assert unsupported_parts(described) == ()


def test_one_write_carries_exclusions_a_run_limit_and_the_new_action_fields() -> None:
    schedule = desired("job")
    team = SearchAttribute(name="Team", type=AttributeType.KEYWORD, value="payments")
    schedule = replace(
        schedule,
        spec=replace(schedule.spec, skip=(HOLIDAY,)),
        action=replace(schedule.action, summary="Nightly", priority=Priority(priority_key=2)),
        search_attributes=(team,),
        max_runs=5,
    )
    write = ScheduleWrite(
        project="p",
        schedule=schedule,
        paused=False,
        note="",
        record=WriteRecord(
            fingerprint="f",
            source="s.yaml",
            enabled=True,
            search_attribute_names=("Team",),
            max_runs=5,
        ),
        search_attributes=(team,),
        remaining_runs=3,
    )
    sent = sdk_schedule(write)
    record = parse_record(sent.spec.skip[0].comment or "")
    assert record is not None and (record.max_runs, record.search_attribute_names) == (5, ("Team",))
    assert [calendar.comment for calendar in sent.spec.skip[1:]] == ["2026-12-25"]
    assert (sent.state.limited_actions, sent.state.remaining_actions) == (True, 3)
    action = sent.action
    assert isinstance(action, tc.ScheduleActionStartWorkflow)
    assert action.static_summary == "Nightly"
    assert action.priority == temporalio.common.Priority(priority_key=2)
