"""A minimal HTTP/1.1 server for probes and scraping: GET only, one response per connection.

A few read-only endpoints do not justify a web framework; anyio's TCP listener keeps it inside
the daemon's task group, so it starts and stops with everything else. A body that is costly to
build (the status page of a large tree) is built in a worker thread, so a page view never holds
up the event loop the passes, the watcher and the probes share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import anyio
from anyio.abc import SocketStream, TaskStatus
from loguru import logger

MAX_REQUEST_BYTES = 8192
_REASONS = {
    200: "OK",
    404: "Not Found",
    405: "Method Not Allowed",
    400: "Bad Request",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    # Builds the body instead, in a worker thread: the route reads the state it needs on the
    # event loop and hands this a copy.
    deferred: Callable[[], bytes] | None = None

    def content(self) -> bytes:
        """The body, built here when it is deferred (for callers without a thread to spare)."""
        return self.deferred() if self.deferred is not None else self.body


Router = Callable[[str], Response]


def parse_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"HTTP address {address!r} must be host:port, e.g. 0.0.0.0:8080")
    return (host.strip("[]") or "0.0.0.0"), int(port)


async def serve_http(
    address: str, router: Router, *, task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED
) -> None:
    """Serve until cancelled; reports the bound port through task_status (port 0 = any)."""
    host, port = parse_address(address)
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port, reuse_port=False)
    bound = listener.extra(anyio.abc.SocketAttribute.local_port)
    logger.bind(address=f"{host}:{bound}").info("HTTP endpoints listening")
    task_status.started(bound)

    async def handle(stream: SocketStream) -> None:
        async with stream:
            try:
                with anyio.fail_after(10):
                    request = await _read_head(stream)
                response = _respond(request, router)
                body = response.body
                if response.deferred is not None:
                    body = await anyio.to_thread.run_sync(response.deferred)
                head = (
                    f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'OK')}\r\n"
                    f"Content-Type: {response.content_type}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                )
                if request.startswith(b"HEAD "):
                    body = b""
                await stream.send(head.encode() + body)
            except (
                TimeoutError,
                anyio.BrokenResourceError,
                anyio.EndOfStream,
                anyio.ClosedResourceError,
                ConnectionError,
            ) as error:
                logger.debug("HTTP client went away: {}", error)

    async with listener:
        await listener.serve(handle)


async def _read_head(stream: SocketStream) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST_BYTES:
        chunk = await stream.receive(4096)
        if not chunk:
            break
        data += chunk
    return data


def _respond(request: bytes, router: Router) -> Response:
    line = request.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3:
        return Response(400, b"bad request\n")
    method, target, _ = parts
    if method not in ("GET", "HEAD"):
        return Response(405, b"only GET\n")
    return router(target.split("?", 1)[0])
