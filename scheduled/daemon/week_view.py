"""When the schedules fire in the coming week, by weekday and hour (UTC): the status page's heat
map, so that a herd of schedules at 09:00 on Monday is visible at a glance.

Fire times come from each spec in its own time zone (`model.calendar`, DST as the server does
it), nominal, before jitter. A cell counts the schedules that fire at least once in that hour,
not the fires: an every-minute schedule is one busy schedule, not sixty. The window is the 168
hours from the start of the current UTC hour, so every weekday-and-hour cell is one real hour.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduled.model.calendar import next_fire_times
from scheduled.model.desired import Spec

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS = 24
WINDOW_HOURS = len(WEEKDAYS) * HOURS
_HOUR = timedelta(hours=1)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class WeekView:
    """`cells[weekday][hour]`: the names of the schedules that fire in that UTC hour of the
    coming week (Monday first)."""

    start: datetime  # the start of the current UTC hour: the window is start .. start + 7 days
    cells: tuple[tuple[tuple[str, ...], ...], ...]

    def count(self, weekday: int, hour: int) -> int:
        return len(self.cells[weekday][hour])

    @property
    def busiest(self) -> int:
        return max((len(cell) for day in self.cells for cell in day), default=0)

    @property
    def end(self) -> datetime:
        return self.start + WINDOW_HOURS * _HOUR


def week_view(schedules: Iterable[tuple[str, Spec]], now: datetime) -> WeekView:
    """The heat map of (name, spec) pairs; leave paused schedules out, they do not fire."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    cells: list[list[list[str]]] = [[[] for _ in range(HOURS)] for _ in WEEKDAYS]
    for name, spec in schedules:
        for offset in hours_fired(spec, start):
            slot = start + offset * _HOUR
            cells[slot.weekday()][slot.hour].append(name)
    return WeekView(
        start=start,
        cells=tuple(tuple(tuple(sorted(cell)) for cell in day) for day in cells),
    )


@functools.lru_cache(maxsize=4096)
def hours_fired(spec: Spec, start: datetime) -> frozenset[int]:
    """The hours (0 .. 167 after `start`, a whole UTC hour) in which the spec fires at least once.

    One fire time per hour is enough, so the walk jumps to the end of each hour it found a fire
    in: at most 168 steps, however often the schedule fires. Cached: schedules in a herd share
    their spec, and the page is rendered again on every refresh within the same hour.
    """
    try:
        zone = ZoneInfo(spec.timezone)
    except (KeyError, ValueError):
        return frozenset()
    end = start + WINDOW_HOURS * _HOUR
    found: set[int] = set()
    after = start - _SECOND  # next_fire_times is strictly after: a fire at `start` counts
    while True:
        times = next_fire_times(
            spec.calendars,
            spec.intervals,
            zone,
            after,
            1,
            start_at=spec.start_at,
            end_at=spec.end_at,
            horizon=end - after,
            excludes=spec.skip,
        )
        if not times or times[0] >= end:
            break
        offset = int((times[0] - start) // _HOUR)
        found.add(offset)
        after = start + (offset + 1) * _HOUR - _SECOND
    return frozenset(found)
