"""scheduled: GitOps for Temporal Schedules."""

__version__ = "0.1.0"
