"""The gateway's error translation and memo reading, without a server (the calls themselves are
exercised against the real dev server in test_reconcile_temporal.py)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from temporalio.service import RPCError, RPCStatusCode

from scheduled.reconcile.gateway import (
    PermanentGatewayError,
    ScheduleExistsError,
    ScheduleNotFoundError,
    TransientGatewayError,
)
from scheduled.temporal.gateway import read_schedule_memo, translate_rpc_error


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (RPCStatusCode.NOT_FOUND, ScheduleNotFoundError),
        (RPCStatusCode.ALREADY_EXISTS, ScheduleExistsError),
        (RPCStatusCode.UNAVAILABLE, TransientGatewayError),
        (RPCStatusCode.RESOURCE_EXHAUSTED, TransientGatewayError),
        (RPCStatusCode.DEADLINE_EXCEEDED, TransientGatewayError),
        (RPCStatusCode.INVALID_ARGUMENT, PermanentGatewayError),
        (RPCStatusCode.PERMISSION_DENIED, PermanentGatewayError),
    ],
)
def test_sdk_errors_are_translated_by_kind(status: RPCStatusCode, error_type: type) -> None:
    translated = translate_rpc_error(RPCError("boom", status, b""), "schedule-x-y")
    assert type(translated) is error_type
    assert (translated.schedule_id, translated.status) == ("schedule-x-y", status.name)
    assert f"Temporal answered {status.name}: boom" == str(translated)


def test_an_undecodable_schedule_memo_reads_as_not_ours() -> None:
    async def unreadable() -> dict[str, Any]:
        raise RuntimeError("payload encoding binary/encrypted is not supported")

    async def readable() -> dict[str, Any]:
        return {"k": "v"}

    async def main() -> None:
        assert await read_schedule_memo(unreadable) == {}
        assert await read_schedule_memo(readable) == {"k": "v"}

    anyio.run(main)
