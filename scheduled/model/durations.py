"""Durations as people write them in workflow files: `90s`, `15m`, `1h30m`, `2d`."""

from __future__ import annotations

import re
from datetime import timedelta

# Kept in step with the `duration` definition in workflow.schema.json.
DURATION_PATTERN = r"^(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$"
_DURATION = re.compile(DURATION_PATTERN)
# Temporal holds durations as int64 nanoseconds (Go's time.Duration).
MAX_SECONDS = (2**63 - 1) // 10**9


def parse_duration(text: str) -> timedelta:
    """Parse `1h30m`-style text; raises ValueError with a readable message."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration; write a number with a unit, such as 90s, 15m, 1h30m or 2d"
        )
    days, hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total > MAX_SECONDS:
        raise ValueError(
            f"{text!r} is longer than Temporal can hold (about 292 years); write a shorter duration"
        )
    return timedelta(seconds=total)


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, for messages and plans (`1h30m`, `0s`)."""
    total = int(value.total_seconds())
    if total == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)
