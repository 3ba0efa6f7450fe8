"""Exit codes, one meaning each, so CI and systemd can branch on them (listed in `--help`)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # clean, converged, or stopped gracefully
    FAILED = 1  # invalid files, failed operations, not converged, Temporal unreachable
    CHANGES_PENDING = 2  # `plan` (the tree and Temporal differ), `adopt --all` (not confirmed)
    USAGE = 64  # bad flags, settings or config (sysexits' EX_USAGE; never plan's 2)
