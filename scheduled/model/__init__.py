"""Plain frozen values: desired and observed schedules, calendars, durations, Temporal's defaults. Stdlib only."""
