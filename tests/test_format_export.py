"""The reverse mapping: a schedule Temporal holds → the text of the workflow file that says it.

Every file `export_schedule` offers is loaded back by the real loader here too, and must give
the very schedule it came from; what no file can say exactly is refused, with the reason.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cron_corpus import ACCEPTED

from scheduled.format.cron import compile_cron
from scheduled.format.export import (
    CronText,
    ExportedFile,
    NotExportable,
    cron_for,
    differences,
    export_schedule,
    file_id_for,
)
from scheduled.format.workflow_file import LoadOptions, load_text
from scheduled.model.calendar import Calendar, Interval, Range
from scheduled.model.desired import (
    Action,
    AttributeType,
    DesiredSchedule,
    OverlapPolicy,
    Policies,
    Priority,
    RetryPolicy,
    SearchAttribute,
    Spec,
)
from scheduled.model.observed import Detail, ObservedSchedule

PROJECT = "foo"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def calendar(cron: str, comment: str = "") -> Calendar:
    """The calendar Temporal holds for a cron string, with the comment it keeps."""
    compiled = compile_cron(cron).calendar
    assert compiled is not None
    return replace(compiled, comment=comment)


def hand_made(
    schedule_id: str = "schedule-foo-report",
    *,
    spec: Spec | None = None,
    action: Action | None = None,
    policies: Policies | None = None,
    paused: bool = False,
    note: str = "",
    argument_count: int = 1,
    unsupported: tuple[str, ...] = (),
) -> ObservedSchedule:
    """A described schedule nobody's project owns, as the CLI or an SDK makes them."""
    return ObservedSchedule(
        schedule_id=schedule_id,
        owner=None,
        record=None,
        spec=spec or Spec(calendars=(calendar("15 4 * * *"),)),
        workflow_type="Report",
        paused=paused,
        note=note,
        detail=Detail(
            policies=policies or Policies(catchup_window=timedelta(days=365)),
            action=action
            or Action(workflow_type="Report", task_queue="reports", workflow_id="foo-report"),
            argument_count=argument_count,
            unsupported=unsupported,
        ),
    )


def exported(observed: ObservedSchedule) -> ExportedFile:
    result = export_schedule(observed, project=PROJECT, now=NOW)
    assert isinstance(result, ExportedFile), result
    return result


def refused(observed: ObservedSchedule) -> str:
    result = export_schedule(observed, project=PROJECT, now=NOW)
    assert isinstance(result, NotExportable), result
    return "; ".join(result.reasons)


def loaded_back(file: ExportedFile) -> DesiredSchedule:
    """The schedule the file gives, through the real loader."""
    result = load_text(file.relative, file.text, LoadOptions(project=PROJECT), now=NOW)
    assert result.valid, result.diagnostics
    assert result.schedule is not None
    return result.schedule


# -- cron ------------------------------------------------------------------------------------


CALENDAR_CRONS = [text for text in ACCEPTED if compile_cron(text).calendar is not None]


@pytest.mark.parametrize("text", CALENDAR_CRONS)
def test_every_calendar_of_the_cron_corpus_comes_back_as_cron_that_compiles_to_it(
    text: str,
) -> None:
    structure = replace(calendar(text), comment="")
    found = cron_for(structure)
    assert found is not None
    assert replace(calendar(found.text), comment="") == structure


def test_a_comment_that_is_the_cron_of_its_calendar_is_the_text_verbatim() -> None:
    text = "0 9 * * MON-FRI # standup"
    assert cron_for(calendar(text, comment=text)) == CronText(text)  # as scheduled writes it


def test_cron_tz_of_the_schedules_own_zone_is_dropped_from_a_comment() -> None:
    comment = "CRON_TZ=Europe/Berlin 30 7 * * *"
    held = calendar(comment, comment=comment)
    found = cron_for(held, "Europe/Berlin")
    assert found is not None and found.text == "30 7 * * *"
    other_zone = cron_for(held, "America/New_York")  # the comment is stale: rebuilt
    assert other_zone is not None and other_zone.text == "30 7 * * *"
    assert other_zone.dropped == comment


def test_a_hand_written_comment_follows_the_rebuilt_cron() -> None:
    found = cron_for(calendar("30 9 * * 1-5", comment="weekdays"))
    assert found is not None and found.text == "30 9 * * 1-5 # weekdays"


def test_a_stale_cron_comment_is_dropped_not_kept() -> None:
    edited_in_the_ui = calendar("0 10 * * *", comment="0 9 * * *")
    found = cron_for(edited_in_the_ui)
    assert found is not None
    assert (found.text, found.dropped) == ("0 10 * * *", "0 9 * * *")


def test_seconds_and_years_choose_six_or_seven_fields() -> None:
    assert cron_text(Calendar(second=(Range(30),), hour=(Range(9),))) == "30 0 9 * * *"
    with_year = Calendar(hour=(Range(9),), year=(Range(2027, 2030),))
    assert cron_text(with_year) == "0 0 9 * * * 2027-2030"


def test_steps_and_lists_keep_their_shape() -> None:
    held = Calendar(
        minute=(Range(0, 59, 15),),
        hour=(Range(9, 17, 2), Range(20)),
        day_of_week=(Range(1, 5),),
    )
    assert cron_text(held) == "*/15 9-17/2,20 * * 1-5"
    # A range of one value with a step (an SDK can send it) has no short spelling.
    assert cron_text(Calendar(minute=(Range(5, 5, 3),))) == "5-5/3 0 * * *"


def cron_text(held: Calendar) -> str:
    found = cron_for(held)
    assert found is not None
    assert replace(calendar(found.text), comment="") == held
    return found.text


def test_a_calendar_that_matches_no_cron_is_reported_not_written() -> None:
    no_hours = Calendar(hour=())  # an SDK can send an empty field; no cron field says that
    assert cron_for(no_hours) is None
    reason = refused(hand_made(spec=Spec(calendars=(no_hours,))))
    assert "has no exact cron form" in reason


# -- intervals -------------------------------------------------------------------------------


def test_one_interval_becomes_every_with_its_offset() -> None:
    file = exported(
        hand_made(spec=Spec(intervals=(Interval(timedelta(minutes=90), timedelta(minutes=5)),)))
    )
    assert '  every: "1h30m"\n  offset: "5m"\n' in file.text
    assert loaded_back(file).spec.intervals == (
        Interval(timedelta(minutes=90), timedelta(minutes=5)),
    )


def test_several_specs_become_a_cron_list_and_an_every_list() -> None:
    spec = Spec(
        calendars=(calendar("0 9 * * *"), calendar("0 17 * * 5")),
        intervals=(Interval(timedelta(hours=6)), Interval(timedelta(days=1), timedelta(hours=3))),
    )
    file = exported(hand_made(spec=spec))
    assert (
        '  cron:\n    - "0 9 * * *"\n    - "0 17 * * 5"\n'
        '  every:\n    - "6h"\n    - {"every": "1d", "offset": "3h"}\n'
    ) in file.text
    assert loaded_back(file).spec.intervals == spec.intervals


def test_several_intervals_alone_become_an_every_list() -> None:
    spec = Spec(
        intervals=(
            Interval(timedelta(hours=1)),
            Interval(timedelta(minutes=90), timedelta(minutes=10)),
        )
    )
    file = exported(hand_made(spec=spec))
    assert '  every:\n    - "1h"\n    - {"every": "1h30m", "offset": "10m"}\n' in file.text
    assert loaded_back(file).spec.intervals == spec.intervals


def skip_of(text: str) -> tuple[Calendar, ...]:
    """The exclude calendars of a `skip:` value, as the loader reads it."""
    result = load_text(
        "x.yaml",
        f"id: x\nworkflow: W\ntask_queue: q\nschedule:\n  cron: '0 9 * * *'\n  skip: {text}\n",
        LoadOptions(project="foo"),
        now=NOW,
    )
    assert result.schedule is not None, [d.render() for d in result.diagnostics]
    return result.schedule.spec.skip


def test_exclusions_come_back_as_the_dates_ranges_and_crons_they_were_read_from() -> None:
    written = (
        '[2026-12-25, {from: 2026-12-20, to: 2027-01-03}, "* * * * 6,0", "*/10 * 12 * * *",'
        " {from: 2027-02-01, to: 2027-02-28}, 2027-03-01]"
    )
    spec = Spec(calendars=(calendar("0 9 * * *"),), skip=skip_of(written))
    file = exported(hand_made(spec=spec))
    assert (
        '  skip:\n    - "2026-12-25"\n    - {"from": "2026-12-20", "to": "2027-01-03"}\n'
        '    - "* * * * 6,0"\n    - "*/10 * 12 * * *"\n'
        '    - {"from": "2027-02-01", "to": "2027-02-28"}\n    - "2027-03-01"\n'
    ) in file.text
    assert loaded_back(file).spec.skip == spec.skip


def test_an_exclusion_with_no_skip_form_is_refused_with_the_reason() -> None:
    odd = Calendar(day_of_month=())  # matches nothing: no cron says that
    reason = refused(hand_made(spec=Spec(calendars=(calendar("0 9 * * *"),), skip=(odd,))))
    assert "no exact `skip` form" in reason


def test_a_schedule_with_no_spec_only_runs_when_triggered_and_is_refused() -> None:
    assert "only runs when triggered" in refused(hand_made(spec=Spec()))


# -- every field ------------------------------------------------------------------------------


def test_every_field_a_file_has_round_trips_through_the_loader() -> None:
    observed = hand_made(
        spec=Spec(
            calendars=(calendar("30 9 * * 1-5", comment="weekdays"),),
            timezone="Europe/Berlin",
            jitter=timedelta(seconds=30),
            start_at=datetime(2026, 1, 1, tzinfo=UTC),
            end_at=datetime(2027, 1, 1, 6, 30, tzinfo=UTC),
        ),
        policies=Policies(
            overlap=OverlapPolicy.BUFFER_ALL,
            catchup_window=timedelta(minutes=5),
            pause_on_failure=True,
        ),
        action=Action(
            workflow_type="Report",
            task_queue="reports",
            workflow_id="foo-report",
            args_json='[{"day":"today","n":[1,2]}]',
            memo_json='{"owner":"team-a"}',
            execution_timeout=timedelta(hours=1),
            run_timeout=timedelta(minutes=30),
            task_timeout=timedelta(seconds=10),
            retry=RetryPolicy(
                maximum_attempts=3,
                initial_interval=timedelta(seconds=2),
                backoff_coefficient=2.0,
                maximum_interval=timedelta(seconds=200),
                non_retryable_error_types=("Fatal",),
            ),
        ),
        paused=True,
        note="made by hand\u2028in the UI",  # a line separator YAML would fold, escaped
    )
    file = exported(observed)
    assert differences(loaded_back(file), observed) == []
    assert file.text.split("schedule:\n", 1)[1].splitlines() == [
        '  cron: "30 9 * * 1-5 # weekdays"',
        "  timezone: Europe/Berlin",
        '  jitter: "30s"',
        '  start_at: "2026-01-01T00:00:00Z"',
        '  end_at: "2027-01-01T06:30:00Z"',
        "  enabled: false",
        "  overlap_policy: buffer_all",
        '  catchup_window: "5m"',
        "  pause_on_failure: true",
        '  input: {"day": "today", "n": [1, 2]}',
        '  execution_timeout: "1h"',
        '  run_timeout: "30m"',
        '  task_timeout: "10s"',
        '  retry: {"maximum_attempts": 3, "initial_interval": "2s", "non_retryable_error_types": '
        '["Fatal"]}',
        '  memo: {"owner": "team-a"}',
        '  note: "made by hand\\u2028in the UI"',
    ]


def test_server_defaults_are_left_out_of_the_file() -> None:
    file = exported(
        hand_made(action=Action(workflow_type="R", task_queue="q", workflow_id="foo-report"))
    )
    assert file.text.endswith('schedule:\n  cron: "15 4 * * *"\n')


def test_a_retry_policy_of_server_defaults_is_still_a_retry_policy() -> None:
    action = Action(
        workflow_type="R",
        task_queue="q",
        workflow_id="foo-report",
        retry=RetryPolicy(
            maximum_attempts=0,
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=100),
        ),
    )
    assert "  retry: {}\n" in exported(hand_made(action=action)).text


@pytest.mark.parametrize(
    ("observed", "reason"),
    [
        (
            hand_made(unsupported=("search attributes (Team)", "a schedule memo (k)")),
            "cannot say: search attributes (Team); a schedule memo (k)",
        ),
        (
            hand_made(
                spec=Spec(calendars=(calendar("0 9 * * *"),), jitter=timedelta(milliseconds=500))
            ),
            "its jitter (0.5 s) is not a whole number of seconds",
        ),
        (
            hand_made(spec=Spec(calendars=(calendar("0 9 31 2 *"),))),
            "can never fire",
        ),
        (hand_made("Nightly Report"), "is not a valid file id"),
    ],
)
def test_what_no_file_can_say_exactly_is_refused_with_the_reason(
    observed: ObservedSchedule, reason: str
) -> None:
    assert reason in refused(observed)


# -- ids and what adopting changes ------------------------------------------------------------


def test_the_file_id_maps_back_onto_the_schedule() -> None:
    assert file_id_for("schedule-foo-report", PROJECT) == "report"
    assert file_id_for("nightly.report", PROJECT) == "nightly.report"
    assert file_id_for("schedule-foo-Report", PROJECT) is None
    file = exported(hand_made("schedule-foo-report"))
    assert (file.workflow_id, file.relative, file.in_place) == ("report", "report.yaml", True)


def test_an_id_off_the_convention_is_exported_with_a_plain_warning() -> None:
    file = exported(hand_made("nightly-report"))
    assert (file.workflow_id, file.in_place) == ("nightly-report", False)
    (warning,) = [note for note in file.notes if note.startswith("NOT ADOPTABLE IN PLACE")]
    assert "creates 'schedule-foo-nightly-report' as a second schedule" in warning
    assert "both run until you delete 'nightly-report'" in warning
    assert file.text.startswith(
        "# Exported by `scheduled export` from the Temporal schedule nightly-report.\n"
        "# - NOT ADOPTABLE IN PLACE"
    )


def test_a_workflow_id_off_the_default_and_no_argument_are_kept_by_the_file() -> None:
    action = Action(workflow_type="Report", task_queue="reports", workflow_id="report")
    file = exported(hand_made(action=action, argument_count=0))
    assert file.notes == ()
    assert "  workflow_id: report\n" in file.text
    assert "input" not in file.text and "args" not in file.text


def test_the_notes_say_when_the_server_chose_the_workflow_id() -> None:
    action = Action(workflow_type="Report", task_queue="reports", workflow_id="")
    assert exported(hand_made(action=action)).notes == (
        "The workflow id of its runs changes from one chosen by the server to 'foo-report' "
        "plus the fire time.",
    )


def test_arguments_that_are_not_one_mapping_are_exported_as_args() -> None:
    action = Action(
        workflow_type="R", task_queue="q", workflow_id="foo-report", args_json='["hello",2]'
    )
    file = exported(hand_made(action=action))
    assert '  args: ["hello", 2]\n' in file.text
    assert loaded_back(file).action.args == ["hello", 2]


def test_the_action_fields_and_search_attributes_round_trip_through_the_loader() -> None:
    action = Action(
        workflow_type="Report",
        task_queue="reports",
        workflow_id="nightly-report",
        args_json='[3,"eu",{"dry":true}]',
        summary="Nightly",
        details="Runs **all** reports.",
        priority=Priority(priority_key=2, fairness_key="tenant-a", fairness_weight=0.1),
        search_attributes=(
            SearchAttribute(name="Notes", type=AttributeType.TEXT, value="by hand"),
            SearchAttribute(name="Tier", type=AttributeType.INT, value=2),
        ),
    )
    observed = replace(
        hand_made(action=action),
        search_attributes=(
            SearchAttribute(
                name="Due", type=AttributeType.DATETIME, value=datetime(2026, 6, 1, tzinfo=UTC)
            ),
            SearchAttribute(name="Score", type=AttributeType.DOUBLE, value=2.0),
            SearchAttribute(name="Tags", type=AttributeType.KEYWORD_LIST, value=("a", "b")),
        ),
    )
    file = exported(observed)
    assert '  args: [3, "eu", {"dry": true}]\n' in file.text
    assert '"Due": {"type": "datetime", "value": "2026-06-01T00:00:00Z"}' in file.text
    assert '"Notes": {"type": "text", "value": "by hand"}' in file.text
    assert differences(loaded_back(file), observed) == []
