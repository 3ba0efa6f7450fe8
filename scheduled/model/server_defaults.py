"""What Temporal's server stores when a field is left out, in one place.

Checked against a real server (../shared/TEMPORAL_NOTES.md). The gateway sends these values
explicitly where the SDK would otherwise leave a field unset, and the diff compares the file's
value *as Temporal will hold it*, so a field left out of the file is never shown as a change.
"""

from __future__ import annotations

import struct
from datetime import timedelta

from scheduled.model.desired import RetryPolicy

CATCHUP_WINDOW = timedelta(days=365)
CATCHUP_WINDOW_MINIMUM = timedelta(seconds=10)  # a shorter window is stored as 10 s
RETRY_INITIAL_INTERVAL = timedelta(seconds=1)
RETRY_BACKOFF_COEFFICIENT = 2.0
RETRY_MAX_INTERVAL_FACTOR = 100  # maximum_interval defaults to 100 x initial_interval


def effective_catchup_window(value: timedelta | None) -> timedelta:
    """The catchup window Temporal holds for the file's value (None: the server's default)."""
    if value is None:
        return CATCHUP_WINDOW
    return max(value, CATCHUP_WINDOW_MINIMUM)


def effective_retry(policy: RetryPolicy | None) -> RetryPolicy | None:
    """The retry policy Temporal holds for the file's (or a described) one, defaults filled in."""
    if policy is None:
        return None
    initial = policy.initial_interval or RETRY_INITIAL_INTERVAL
    return RetryPolicy(
        maximum_attempts=policy.maximum_attempts or 0,
        initial_interval=initial,
        backoff_coefficient=policy.backoff_coefficient or RETRY_BACKOFF_COEFFICIENT,
        maximum_interval=policy.maximum_interval or initial * RETRY_MAX_INTERVAL_FACTOR,
        non_retryable_error_types=tuple(policy.non_retryable_error_types),
    )


def stored_fairness_weight(weight: float) -> float:
    """The fairness weight as Temporal gives it back: its proto field is a 32-bit float, so
    0.1 returns as 0.10000000149011612. Both sides are taken to the shortest decimal that is
    the same 32-bit float, so a file's 0.1 and the server's answer compare equal."""
    stored: float = struct.unpack("<f", struct.pack("<f", weight))[0]
    for digits in range(1, 10):
        shortest = float(f"{stored:.{digits}g}")
        if struct.unpack("<f", struct.pack("<f", shortest))[0] == stored:
            return shortest
    return stored
