"""The error hierarchy: every failure says which file or schedule it concerns and what to do."""

from __future__ import annotations


class ScheduledError(Exception):
    """Base of every error `scheduled` raises on purpose."""
