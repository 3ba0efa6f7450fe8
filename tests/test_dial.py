"""Connecting: each way a connect fails ends in a sentence that says what was tried and what to
check, and a server that never answers costs the deadline, not the SDK's 30 s."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import anyio
import pytest

from scheduled.devserver import free_port
from scheduled.reconcile.gateway import GatewayError
from scheduled.temporal.connection import Connection
from scheduled.temporal.dial import CONNECT_TIMEOUT_S, dial


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    listener.close()


def failure(connection: Connection) -> str:
    async def connect() -> None:
        await dial(connection)

    with pytest.raises(GatewayError) as raised:
        anyio.run(connect)
    return str(raised.value)


def test_the_deadline_is_under_ten_seconds() -> None:
    assert CONNECT_TIMEOUT_S < 10


@pytest.mark.timeout(CONNECT_TIMEOUT_S + 20)
def test_a_server_that_never_answers_is_named_with_what_to_check(silent_server: str) -> None:
    message = failure(Connection(address=silent_server, tls=False))
    assert message.startswith(f"cannot connect to Temporal at {silent_server} (namespace 'default'")
    assert "no answer within 8 s" in message and "port" in message


@pytest.mark.temporal
def test_tls_to_a_plain_server_says_to_turn_tls_off(temporal_address: str) -> None:
    message = failure(Connection(address=temporal_address, tls=True))
    assert f"at {temporal_address} (namespace 'default', TLS)" in message
    assert "does not speak TLS" in message and "--no-tls" in message


@pytest.mark.temporal
def test_a_namespace_the_server_does_not_have_fails_at_connect(temporal_address: str) -> None:
    message = failure(Connection(address=temporal_address, namespace="no-such-namespace"))
    assert "has no namespace 'no-such-namespace'" in message and "--namespace" in message


def test_nothing_listening_says_so() -> None:
    address = f"127.0.0.1:{free_port()}"
    message = failure(Connection(address=address, tls=False))
    assert "nothing listens there" in message
    assert len(message) < 400  # the SDK's transport dump is cut to a readable length


@pytest.mark.temporal
def test_the_right_settings_connect(temporal_address: str) -> None:
    async def connect() -> str:
        client = await dial(Connection(address=temporal_address))
        return client.namespace

    assert anyio.run(connect) == "default"
