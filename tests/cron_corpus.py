"""Cron strings in `scheduled`'s own syntax (6 fields = seconds first), accepted and rejected.

tests/test_cron_against_temporal.py checks every accepted string against a real server, and that
the server rejects every rejected one too, except those in STRICTER_THAN_TEMPORAL.
"""

from __future__ import annotations

ACCEPTED: list[str] = [
    # 5 fields: minute hour day-of-month month day-of-week
    "0 9 * * 1-5 # hello",
    "*/15 * * * *",
    "30 2 1,15 * *",
    "0 12 * JAN-MAR MON",
    "5 4 * * 7",
    "* * * * *",
    "0 0 * * *",
    "5/15 * * * *",
    "10-50/20 * * * *",
    "0-30/10 9-17 * * mon-fri",
    "1,1,1 * * * *",
    "5,1 * * * *",
    "0 9 * * mon-fri",
    "0 9 * jan-mar Mon",
    "0 9 * * MO-FR",
    "0 9 * * Tue",
    "0 9 * * TUES",
    "0 9 * * wednesday",
    "0 9 * JANUARY *",
    "0 9 * sept *",
    "0 9 * * su,sa",
    "0 9 * * sun-sat",
    "* * * * 0-7",
    "* * * * 5-7",
    "* * * * 6-7",
    "* * * * 7-7",
    "* * * * 0,7",
    "* * * * 1-7",
    "* * * * 1-7/2",
    "* * * * 3-7/3",
    "* * * * */2",
    "* * * * */7",
    "* * * * 7/2",
    "* * * * mon/2",
    "*/60 * * * *",
    "*/59 * * * *",
    "*/100 * * * *",
    "0 */6 * * *",
    "0 0 */2 * *",
    "0 0 1 */3 *",
    "0 0 31 * *",
    "0 9 31 2 *",
    "0 9 30 4 *",
    "0 9 1 * 1",
    "0 0 29 2 *",
    "59 23 31 12 6",
    "0 009 * * *",
    "0 9 * * 01",
    "0 9 * * +1",
    " 0  9   *  *  1-5",
    "0\t9\t*\t*\t*",
    "0 9 * * * #x",
    "0 9 * * * #",
    "0 9 * * * ## double",
    "0 9 * * * # a # b",
    "0 9 * * 1-5   #   spaced comment   ",
    "0 9 * * * # " + "x" * 200,
    # 6 fields, seconds first (scheduled's own form; Temporal gets 7 fields)
    "0 0 9 * * 1-5",
    "*/10 * * * * *",
    "30 0 9 * * MON-FRI",
    "0,30 * * * * *",
    "15-45/15 */5 * * * *",
    "59 59 23 31 12 7",
    "0 30 2 * * * # seconds first, with a comment",
    # 7 fields: Temporal's own, year last
    "0 0 9 * * 1-5 *",
    "0 0 9 * * 1-5 2027",
    "30 0 9 * * 1-5 2027-2030",
    "0 0 0 1 1 * */2",
    "0 0 0 1 1 * 2025/5",
    "0 0 0 1 1 * 2000",
    "0 0 0 1 1 * 2100",
    "0 0 0 1 1 * 2027,2029,2031",
    "0 0 12 * * * 2030-2100/10",
    "0 0 0 29 2 * 2027",
    # shortcuts
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
    "@daily # comment",
    "@hourly  ",
    # intervals
    "@every 15m",
    "@every 1h30m/5m",
    "@every 90s",
    "@every 1d",
    "@every 2h/1h",
    "@every 1.5h",
    "@every 36h/90m",
    "@every 1h # comment",
    "@every 1d12h",
    "@every .5d",
    "@every 7m",
    "@every 1h0m0s",
    "@every 10s/0s",
    "@every 1h/",
    # time zones
    "CRON_TZ=America/New_York 0 9 * * *",
    "TZ=Europe/Berlin 0 9 * * *",
    "CRON_TZ=America/New_York @daily",
    "CRON_TZ=America/New_York @every 1h",
    "CRON_TZ=Asia/Kolkata 0 0 9 * * 1-5 # seconds first with a zone",
    "CRON_TZ=UTC */15 * * * *",
    "  CRON_TZ=Europe/Berlin   30 2 * * *  ",
]

# (string, a fragment of scheduled's error message)
REJECTED: list[tuple[str, str]] = [
    ("", "empty"),
    ("*/100000000000000000000 * * * *", "is too large"),  # past int32 (and Go's int64)
    ("   ", "empty"),
    ("0 9 * *", "expected 5, 6 or 7 fields, found 4"),
    ("0 9 * * * * * *", "expected 5, 6 or 7 fields, found 8"),
    ("0", "found 1"),
    ("? * * * *", "'?' is not supported by Temporal"),
    ("0 9 ? * MON", "'?' is not supported by Temporal"),
    ("0 9 * * ?", "'?' is not supported by Temporal"),
    ("0 24 * * *", "hour 24 is out of range 0-23"),
    ("60 * * * *", "minute 60 is out of range 0-59"),
    ("0 0 0 * *", "day of month 0 is out of range 1-31"),
    ("0 0 32 * *", "day of month 32 is out of range 1-31"),
    ("0 0 * 13 *", "month 13 is out of range 1-12"),
    ("0 0 * 0 *", "month 0 is out of range 1-12"),
    ("0 0 * * 8", "day of week 8 is out of range 0-7"),
    ("0 0-24 * * *", "hour 24 is out of range 0-23"),
    ("60 0 9 * * *", "second 60 is out of range 0-59"),
    ("0 0 24 * * *", "hour 24 is out of range 0-23"),
    ("0 0 9 * * 1-5 1999", "year 1999 is out of range 2000-2100"),
    ("0 0 9 * * 1-5 2101", "year 2101 is out of range 2000-2100"),
    ("0 0 9 * * 1-5 x", "year 'x' is not a number"),
    ("*/0 * * * *", "step 0 in the minute field must be at least 1"),
    ("*/x * * * *", "step 'x' in the minute field is not a number"),
    ("*/ * * * *", "step '' in the minute field is not a number"),
    ("/5 * * * *", "nothing before '/'"),
    ("50-10 * * * *", "minute range 50-10 goes backwards"),
    ("0 9 * * fri-mon", "day of week range fri-mon goes backwards"),
    ("0 9 * dec-jan *", "month range dec-jan goes backwards"),
    ("0 0 0 1 1 * 2030-2025", "year range 2030-2025 goes backwards"),
    ("1-2-3 * * * *", "more than one '-'"),
    ("1/2/3 * * * *", "more than one '/'"),
    ("0 9 * * 1//2", "more than one '/'"),
    ("0 9 * * 1-", "has no end"),
    ("0 9 * * -1", "has no start"),
    ("0 9 * * ,1", "empty item in the day of week list"),
    ("0 9 * * 1,", "empty item in the day of week list"),
    ("1,,2 * * * *", "empty item in the minute list"),
    ("0 9 L * *", "'L' (last day / nearest weekday) is not supported by Temporal"),
    ("0 9 15W * *", "'15W' (last day / nearest weekday) is not supported by Temporal"),
    ("0 9 LW * *", "not supported by Temporal"),
    ("0 9 * * 5L", "'5L' (last weekday of the month) is not supported by Temporal"),
    ("0 L * * *", "hour 'L' is not a number"),
    ("0 9 * * M", "'M' is not a day of the week"),
    ("0 9 * * T", "'T' is not a day of the week"),
    ("0 9 * * mondays", "'mondays' is not a day of the week"),
    ("0 9 * JA *", "'JA' is not a month"),
    ("0 9 * foo *", "'foo' is not a month"),
    ("0 mon * * *", "hour 'mon' is not a number"),
    ("a b c d e", "minute 'a' is not a number"),
    ("0 9 * * 1#2", "nth-weekday"),
    ("0 9 * * *#x", "'#' right after a value"),
    ("@reboot", "unknown shortcut '@reboot'"),
    ("@DAILY", "unknown shortcut '@DAILY'"),
    ("@daily 5", "unknown shortcut"),
    ("@every", "@every needs a duration"),
    ("@every15m", "@every needs a duration"),
    ("@every 15", "'15' is not a duration"),
    ("@every 15x", "'15x' is not a duration"),
    ("@every 1w", "'1w' is not a duration"),
    ("@every 1h 30m", "is not a duration"),
    ("@every  15m", "is not a duration"),
    ("@every -1h", "'-1h' is not a duration"),
    ("@every 0s", "must be at least 1 second"),
    ("@every 500ms", "not a whole number of seconds"),
    ("@every 1500ms", "not a whole number of seconds"),
    ("@every 1h/90.5s", "not a whole number of seconds"),
    ("@every 1h/1h", "offset 1h must be shorter than the interval 1h"),
    ("@every 1h/2h", "must be shorter than the interval"),
    ("CRON_TZ=Nowhere/Zone 0 9 * * *", "unknown time zone 'Nowhere/Zone'"),
    ("TZ=Mars/Olympus @daily", "unknown time zone 'Mars/Olympus'"),
    ("CRON_TZ=America/New_York", "must be followed by a space"),
    ("CRON_TZ= 0 9 * * *", "no zone name"),
    ("0 9 * * * # " + "x" * 201, "Temporal allows at most 200"),
    ("# just a comment", "no schedule"),
    ("CRON_TZ=UTC # only a comment", "no schedule"),
]

# Rejected on purpose although Temporal accepts them, because Temporal's reading is a trap.
STRICTER_THAN_TEMPORAL: frozenset[str] = frozenset(
    {
        "0 9 * * 1#2",  # Temporal: Monday, with the comment "2" (Quartz: second Monday)
        "0 9 * * *#x",  # Temporal: comment "x"
        "@every 1500ms",  # Temporal counts whole seconds: every 1 s
        "@every 1h/90.5s",  # ditto for the offset
        "CRON_TZ= 0 9 * * *",  # Temporal: no zone at all
    }
)


# -- several specs and exclusions (tests/test_cron_against_temporal.py) ------------------------
#
# The `schedule:` lines of a workflow file that say when it fires, in the shapes Temporal allows
# beyond one cron: several crons, several intervals (with offsets), crons and intervals together.
WHEN_SHAPES: list[str] = [
    'cron: ["0 9 * * 1-5", "30 17 * * 5"]',
    'cron: ["*/20 8-10 * * *", "0 0 1 * *", "15 12 * * 0,6"]',
    "every: [1h, {every: 90m, offset: 10m}]",
    "every: [{every: 7h, offset: 30m}, 11h, {every: 1d, offset: 3h}]",
    'cron: "0 12 * * *"\n  every: 5h',
    'cron: ["0 6 * * *", "0 18 * * *"]\n  every: {every: 8h, offset: 1h}',
    'cron: ["0 9 * * *", "@every 10h/2h"]\n  every: 14h',
    "every: [37m, {every: 53m, offset: 17s}]",
    'cron: "0 0 9 * * 1 2027-2028"\n  every: 1d',
]

# `skip:` values, with <N> for the day N days after the case's start (so every shape meets its
# exclusions within the server's next ten fire times).
SKIP_SHAPES: list[str] = [
    '"* * * * 6,0"',
    '["* 12-13 * * *", "* 0-5 * * *"]',
    "[<0>, <2>]",
    "[{from: <0>, to: <2>}]",
    "{from: <-2>, to: <1>}",
    '["0 9 * * 1", "30 * * * *", "0 0 * * 0"]',
    '["*/10 * 9-12 * * 1-5", "0 17 * * 5"]',
    '[<1>, "* 0-8 * * *", {from: <3>, to: <5>}]',
]

# (time zone, first day): a plain month in UTC, New York's spring-forward day (2027-03-14) among
# the skipped days, and Berlin across the turn of the year (a range split over two years).
SHAPE_STARTS: list[tuple[str, str]] = [
    ("UTC", "2027-03-01"),
    ("America/New_York", "2027-03-13"),
    ("Europe/Berlin", "2027-12-30"),
]
