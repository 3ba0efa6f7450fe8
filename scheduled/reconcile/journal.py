"""The journal of recent writes: which schedules a project's passes wrote in the last minutes.

Temporal's list lags behind writes in content, not only in existence: right after 500 updates,
a list still returned the previous write records for most of them for about 20 s (measured,
../shared/TEMPORAL_NOTES.md). A listed record therefore cannot prove that a schedule written a
moment ago is unchanged. Each pass that writes also records what it wrote in one small record
per project, which is read with describe (strongly consistent); the next pass, by any process,
describes the schedules written within `WINDOW_S` instead of trusting the list for them.
Pure functions over plain mappings; where the record lives in Temporal is the gateway's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

WINDOW_S = 120.0  # several times the longest list lag measured (~20 s on a 2-core machine)


def recently_written(journal: Mapping[str, float], now: float) -> frozenset[str]:
    """The schedule ids written within the window before now (epoch seconds)."""
    return frozenset(schedule_id for schedule_id, at in journal.items() if now - at < WINDOW_S)


def with_writes(
    journal: Mapping[str, float], written: Iterable[str], now: float
) -> dict[str, float]:
    """The journal after writing `written` at `now`, without entries older than the window."""
    kept = {schedule_id: at for schedule_id, at in journal.items() if now - at < WINDOW_S}
    kept.update({schedule_id: now for schedule_id in written})
    return kept
