"""Durations as people write them in workflow files: Go's syntax (`500ms`, `1.5s`, `1h30m`,
`2h45m30s`) plus `d` for days, as Temporal's own tools accept them.

Stricter than Go's time.ParseDuration in two ways that catch typos: units go from the largest
to the smallest, each at most once (`30m1h` is refused), and there is no sign (nothing here can
be negative).
"""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction

# Kept in step with the `duration` definition in workflow.schema.json (a test compares them).
# One number: digits with an optional fraction, or a fraction alone (`.5s`), as Go allows.
_NUMBER = r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+"
_UNITS = ("d", "h", "m", "s", "ms", "(?:us|µs|μs)", "ns")
_PARTS = "".join(f"(?:({_NUMBER}){unit})?" for unit in _UNITS)
DURATION_PATTERN = f"^(?:0|(?=[0-9.]){_PARTS})$"  # Go's bare "0" too
_DURATION = re.compile(DURATION_PATTERN)
_NANOSECONDS = (86_400 * 10**9, 3_600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1)
# Temporal holds durations as int64 nanoseconds (Go's time.Duration).
MAX_SECONDS = (2**63 - 1) // 10**9
_MAX_NANOSECONDS = 2**63 - 1


def parse_duration(text: str) -> timedelta:
    """Parse `1h30m`-style text; raises ValueError with a readable message."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration; write a number with a unit, such as 500ms, 1.5s, "
            "90s, 15m, 1h30m or 2d (units largest first)"
        )
    parts = zip(match.groups(), _NANOSECONDS, strict=True)
    total = sum((Fraction(part) * size for part, size in parts if part), Fraction(0))
    if total > _MAX_NANOSECONDS:
        raise ValueError(
            f"{text!r} is longer than Temporal can hold (about 292 years); write a shorter duration"
        )
    if total % 1000:
        # timedelta, and so the Temporal SDK's conversion, stops at microseconds.
        raise ValueError(f"{text!r} is finer than a microsecond; round it to whole microseconds")
    return timedelta(microseconds=int(total // 1000))


def is_whole_seconds(value: timedelta) -> bool:
    return value.microseconds == 0


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, for messages and plans (`1h30m`, `1.5s`, `500ms`, `0s`)."""
    micros = value // timedelta(microseconds=1)
    if micros == 0:
        return "0s"
    whole, fraction = divmod(micros, 1_000_000)
    if whole == 0:
        return f"{fraction // 1000}ms" if fraction % 1000 == 0 else f"{fraction}us"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        amount, whole = divmod(whole, size)
        if amount:
            parts.append(f"{amount}{unit}")
    if whole or fraction:
        decimals = f".{fraction:06d}".rstrip("0") if fraction else ""
        parts.append(f"{whole}{decimals}s")
    return "".join(parts)
