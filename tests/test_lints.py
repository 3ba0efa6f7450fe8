"""lints: what is wrong with a valid schedule (cron warnings, DST, no jitter, end_at past)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from pathlib import Path

import pytest
from file_loading import codes, load_text, warnings
from trees import workflow_yaml

from scheduled.format.lints import RULES, end_in_past, lint
from scheduled.format.spec_fields import SpecFields
from scheduled.model.desired import Spec


def test_a_rare_but_real_date_is_not_called_never_firing(tmp_path: Path) -> None:
    # February 29 falls on a Monday in 2044 only: far beyond any look-ahead window.
    result = load_text(tmp_path, workflow_yaml("leap-monday", cron="0 0 29 2 1", jitter="1m"))
    assert "cron.never-fires" not in codes(result)
    assert result.schedule is not None


def test_a_cron_whose_only_year_has_passed_never_fires(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("past", cron="0 0 9 1 1 * 2020", jitter="1m"))
    assert codes(result) == ["cron.never-fires"]


def test_day_of_month_and_day_of_week_together_warn_that_temporal_ands_them(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("both", cron="0 9 1 * MON", jitter="1m"))
    (warning,) = warnings(result)
    assert warning.code == "cron.warning"
    assert "Temporal runs only on days that match both" in warning.message
    assert result.schedule is not None


def test_a_fire_time_in_the_spring_forward_gap_warns(tmp_path: Path) -> None:
    text = workflow_yaml("gap", cron="30 2 * * *", timezone="America/New_York", jitter="1m")
    result = load_text(tmp_path, text)
    found = [w for w in warnings(result) if w.code == "schedule.dst"]
    assert found
    assert "02:30, which does not exist on 2026-03-08 in America/New_York" in found[0].message
    assert result.schedule is not None


def test_a_fire_time_in_the_fall_back_repeat_warns(tmp_path: Path) -> None:
    text = workflow_yaml("repeat", cron="30 1 * * *", timezone="America/New_York", jitter="1m")
    messages = [w.message for w in warnings(load_text(tmp_path, text)) if w.code == "schedule.dst"]
    assert any("01:30, which happens twice on 2026-11-01" in message for message in messages)


def test_a_fire_time_away_from_dst_changes_does_not_warn(tmp_path: Path) -> None:
    text = workflow_yaml("calm", cron="0 9 * * *", timezone="America/New_York", jitter="1m")
    assert load_text(tmp_path, text).diagnostics == ()


def test_the_same_time_in_utc_never_warns_about_dst(tmp_path: Path) -> None:
    assert (
        load_text(tmp_path, workflow_yaml("utc", cron="30 2 * * *", jitter="1m")).diagnostics == ()
    )


def test_a_top_of_the_hour_cron_without_jitter_warns(tmp_path: Path) -> None:
    result = load_text(tmp_path, workflow_yaml("herd", cron="0 9 * * *"))
    (warning,) = warnings(result)
    assert warning.code == "schedule.no-jitter"
    assert "add e.g. `jitter: 30s`" in warning.message
    assert result.schedule is not None


@pytest.mark.parametrize(
    "fields", [{"cron": "0 9 * * *", "jitter": "30s"}, {"cron": "17 9 * * *"}, {"every": "1h"}]
)
def test_jitter_an_odd_minute_or_an_interval_do_not_warn(
    tmp_path: Path, fields: dict[str, str]
) -> None:
    assert load_text(tmp_path, workflow_yaml("calm", **fields)).diagnostics == ()


def test_an_end_at_in_the_past_warns(tmp_path: Path) -> None:
    text = workflow_yaml("ended", every="1h", end_at="2026-02-01T00:00:00Z")
    result = load_text(tmp_path, text)
    (warning,) = warnings(result)
    assert warning.code == "schedule.end-in-past"
    assert "will never fire again" in warning.message
    assert result.schedule is not None


def test_each_rule_is_a_pure_function_of_what_was_built() -> None:
    fields = SpecFields(
        spec=Spec(end_at=datetime(2026, 1, 1, tzinfo=UTC)),
        zone=zoneinfo.ZoneInfo("UTC"),
        crons=(),
    )
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert [(found.code, found.path) for found in lint(fields, now)] == [
        ("schedule.end-in-past", ("schedule", "end_at"))
    ]
    assert end_in_past(fields, datetime(2025, 1, 1, tzinfo=UTC)) == []
    assert end_in_past in RULES
