"""Connecting to Temporal within a deadline, with a sentence for each way it fails.

The SDK's own connect waits 30 s on a server that accepts TCP and never answers, and reports
every failure as a transport dump (`tonic::transport::Error(...)`). A person needs to know what
was tried (address, namespace, TLS, API key or not) and what to check; so this module puts a
deadline on the connect, asks for the namespace once (so a wrong one fails here, not as a
"schedule not found" later), and words each failure it recognises.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
import temporalio.api.workflowservice.v1 as workflowservice
import temporalio.client as tc
import temporalio.service

from scheduled import __version__
from scheduled.reconcile.gateway import GatewayError, PermanentGatewayError, TransientGatewayError
from scheduled.temporal.connection import Connection, sdk_runtime

CONNECT_TIMEOUT_S = 8.0  # the whole connect, namespace check included: under 10 s to a sentence
_Status = temporalio.service.RPCStatusCode


async def dial(connection: Connection) -> tc.Client:
    """A connected client for the connection's namespace, or a GatewayError that says why not."""
    arguments = connection.resolve()
    target = arguments.pop("target_host")
    tried = _what_was_tried(target, arguments)
    try:
        with anyio.fail_after(CONNECT_TIMEOUT_S):
            client = await tc.Client.connect(
                target, identity=f"scheduled/{__version__}", runtime=sdk_runtime(), **arguments
            )
            await _check_namespace(client, arguments["namespace"])
    except TimeoutError as error:
        raise TransientGatewayError(
            f"cannot connect to Temporal at {tried}: no answer within {CONNECT_TIMEOUT_S:.0f} s. "
            "Something accepts connections there but does not answer as Temporal: check the "
            "address and port (the frontend's gRPC port, 7233 by default; not the Web UI's), "
            "and whether the server expects TLS",
            status="UNAVAILABLE",
        ) from error
    except RuntimeError as error:  # the SDK reports connect failures as RuntimeError
        raise _connect_error(str(error), tried, tls=bool(arguments.get("tls"))) from error
    except temporalio.service.RPCError as error:
        raise _rpc_error(error, tried, arguments["namespace"]) from error
    return client


def _what_was_tried(target: str, arguments: dict[str, Any]) -> str:
    tls = "TLS" if arguments.get("tls") else "no TLS"
    key = ", an API key" if arguments.get("api_key") else ""
    return f"{target} (namespace {arguments['namespace']!r}, {tls}{key})"


async def _check_namespace(client: tc.Client, namespace: str) -> None:
    try:
        await client.workflow_service.describe_namespace(
            workflowservice.DescribeNamespaceRequest(namespace=namespace),
            timeout=timedelta(seconds=CONNECT_TIMEOUT_S),
        )
    except temporalio.service.RPCError as error:
        if error.status == _Status.PERMISSION_DENIED:
            return  # a key scoped to its namespace may not describe it: the calls will tell
        raise


def _connect_error(detail: str, tried: str, *, tls: bool) -> GatewayError:
    lowered = detail.lower()
    if (
        "invalidcontenttype" in lowered
        or "invalid content type" in lowered
        or (tls and ("corrupt message" in lowered or "invalidmessage" in lowered))
    ):
        advice = (
            "the server does not speak TLS there: turn TLS off (--no-tls, TEMPORAL_TLS=false or "
            "`tls = false`), or use the address of a TLS endpoint"
        )
    elif not tls and ("h2 protocol error" in lowered or "broken pipe" in lowered):
        advice = "the server may expect TLS (Temporal Cloud does): add --tls"
    elif "dns error" in lowered or "failed to lookup" in lowered:
        advice = "the host name does not resolve: check the address"
    elif "connection refused" in lowered or "connecterror" in lowered:
        advice = "nothing listens there: is the server running, and is the address right?"
    else:
        advice = "check the address, TLS and the API key"
    return TransientGatewayError(
        f"cannot connect to Temporal at {tried}: {advice} ({_short(detail)})", status="UNAVAILABLE"
    )


def _rpc_error(error: temporalio.service.RPCError, tried: str, namespace: str) -> GatewayError:
    if error.status == _Status.NOT_FOUND:
        return PermanentGatewayError(
            f"Temporal at {tried} has no namespace {namespace!r}: check --namespace "
            "(TEMPORAL_NAMESPACE, `namespace` in the config); `temporal operator namespace list` "
            "shows the ones there are",
            status="NOT_FOUND",
        )
    if error.status == _Status.UNAUTHENTICATED:
        return PermanentGatewayError(
            f"Temporal at {tried} refused the credentials ({error.message}): check the API key "
            "(--api-key, TEMPORAL_API_KEY) or the client certificate, and that it is for this "
            "namespace",
            status="UNAUTHENTICATED",
        )
    name = error.status.name if error.status is not None else "UNKNOWN"
    return TransientGatewayError(
        f"cannot connect to Temporal at {tried}: it answered {name}: {error.message}", status=name
    )


def _short(detail: str, limit: int = 160) -> str:
    """The SDK's transport dump, cut to its first line and a readable length."""
    line = detail.splitlines()[0] if detail else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
