"""The probe/scrape HTTP server: real TCP connections to a server on an ephemeral port."""

from __future__ import annotations

import contextlib
import threading

import anyio
import pytest

from scheduled.daemon.http_api import Response, parse_address, serve_http


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:9000", ("0.0.0.0", 9000)),
        (":9000", ("0.0.0.0", 9000)),
        ("[::1]:8081", ("::1", 8081)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_parse_address(address: str, expected: tuple[str, int]) -> None:
    assert parse_address(address) == expected


@pytest.mark.parametrize("address", ["localhost", "localhost:http", "127.0.0.1:"])
def test_parse_address_rejects_a_missing_port(address: str) -> None:
    with pytest.raises(ValueError, match="must be host:port"):
        parse_address(address)


def route(path: str) -> Response:
    if path == "/status":
        return Response(200, b'{"ok": true}\n', "application/json")
    return Response(404, b"not found\n")


def exchange(*requests: bytes) -> list[bytes]:
    """Send each raw request on its own connection; the raw responses, in order."""
    answers: list[bytes] = []
    seen: list[str] = []

    def router(path: str) -> Response:
        seen.append(path)
        return route(path)

    async def main() -> None:
        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                port = await group.start(serve_http, "127.0.0.1:0", router)
                for request in requests:
                    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
                        await stream.send(request)
                        data = b""
                        try:
                            while chunk := await stream.receive():
                                data += chunk
                        except anyio.EndOfStream:
                            pass
                        answers.append(data)
                group.cancel_scope.cancel()

    anyio.run(main)
    return answers


def test_get_routes_the_path_without_the_query() -> None:
    [answer] = exchange(b"GET /status?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 200 OK"
    assert b"Content-Type: application/json" in head
    assert b"Content-Length: 13" in head
    assert b"Connection: close" in head
    assert body == b'{"ok": true}\n'


def test_head_sends_the_headers_only() -> None:
    [answer] = exchange(b"HEAD /status HTTP/1.1\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: 13" in head
    assert body == b""


@pytest.mark.parametrize(
    ("request_bytes", "status_line"),
    [
        (b"GET /nope HTTP/1.1\r\n\r\n", b"HTTP/1.1 404 Not Found"),
        (b"POST /status HTTP/1.1\r\nContent-Length: 0\r\n\r\n", b"HTTP/1.1 405 Method Not Allowed"),
        (b"garbage\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
        (b"\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
    ],
)
def test_other_requests(request_bytes: bytes, status_line: bytes) -> None:
    [answer] = exchange(request_bytes)
    assert answer.split(b"\r\n")[0] == status_line


def test_a_silent_or_vanishing_client_does_not_hold_up_others() -> None:
    async def main() -> None:
        with anyio.fail_after(5):  # the silent client alone would hold its handler for 10 s
            async with anyio.create_task_group() as group:
                port = await group.start(serve_http, "127.0.0.1:0", route)
                silent = await anyio.connect_tcp("127.0.0.1", port)
                async with await anyio.connect_tcp("127.0.0.1", port) as vanishing:
                    await vanishing.send(b"GET /sta")
                    await vanishing.send_eof()
                    with pytest.raises(anyio.EndOfStream):
                        await vanishing.receive()  # closed without an answer
                async with await anyio.connect_tcp("127.0.0.1", port) as stream:
                    await stream.send(b"GET /status HTTP/1.1\r\n\r\n")
                    assert (await stream.receive()).startswith(b"HTTP/1.1 200 OK")
                await silent.aclose()
                group.cancel_scope.cancel()

    anyio.run(main)


def test_serving_on_a_taken_port_fails_at_start() -> None:
    async def main() -> None:
        async with anyio.create_task_group() as group:
            port = await group.start(serve_http, "127.0.0.1:0", route)
            with pytest.raises(OSError):
                await group.start(serve_http, f"127.0.0.1:{port}", route)
            group.cancel_scope.cancel()

    anyio.run(main)


def test_a_deferred_body_is_built_off_the_event_loop_and_sized() -> None:
    built_in: list[threading.Thread] = []

    def build() -> bytes:
        built_in.append(threading.current_thread())
        return b"<!doctype html>\n"

    def router(path: str) -> Response:
        return Response(200, b"", "text/html; charset=utf-8", deferred=build)

    async def main() -> bytes:
        async with anyio.create_task_group() as group:
            port = await group.start(serve_http, "127.0.0.1:0", router)
            async with await anyio.connect_tcp("127.0.0.1", port) as stream:
                await stream.send(b"GET / HTTP/1.1\r\n\r\n")
                data = b""
                with contextlib.suppress(anyio.EndOfStream):
                    while chunk := await stream.receive():
                        data += chunk
            group.cancel_scope.cancel()
        return data

    head, _, body = anyio.run(main).partition(b"\r\n\r\n")
    assert b"Content-Length: 16" in head and body == b"<!doctype html>\n"
    [thread] = built_in
    assert thread is not threading.main_thread()  # anyio.run's event loop runs on this one
