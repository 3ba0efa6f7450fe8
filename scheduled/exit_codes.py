"""Exit codes, one meaning each, so CI and systemd can branch on them (listed in `--help`)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # clean, converged, or stopped gracefully
    FAILED = 1  # invalid files, failed operations, not converged, Temporal unreachable
    USAGE = 2  # bad flags or config (click's own usage errors use 2 as well)
    CHANGES_PENDING = 2  # `plan` only: the tree and Temporal differ
