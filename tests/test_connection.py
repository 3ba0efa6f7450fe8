"""The Temporal connection: explicit settings over Temporal's env/profile, which are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduled.temporal.connection import Connection


@pytest.fixture(autouse=True)
def _clean_temporal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "TEMPORAL_API_KEY",
        "TEMPORAL_TLS",
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
        "TEMPORAL_TLS_CLIENT_KEY_PATH",
        "TEMPORAL_PROFILE",
        "TEMPORAL_CONFIG_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_localhost_and_the_default_namespace() -> None:
    resolved = Connection().resolve()
    assert (resolved["target_host"], resolved["namespace"]) == ("localhost:7233", "default")


def test_temporal_environment_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "prod")
    resolved = Connection().resolve()
    assert (resolved["target_host"], resolved["namespace"]) == ("temporal.internal:7233", "prod")


def test_an_explicit_address_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    assert Connection(address="other:7233").resolve()["target_host"] == "other:7233"


def test_an_api_key_turns_tls_on() -> None:
    assert Connection(api_key="secret-key").resolve()["tls"] is True


def test_tls_on_keeps_the_client_certificate_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_text("cert")
    key.write_text("key")
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(cert))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(key))
    tls = Connection(tls=True).resolve()["tls"]
    assert tls is not True and tls.client_cert == b"cert"


def test_tls_off_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", "secret-key")
    assert Connection(tls=False).resolve()["tls"] is False


def test_connection_flags_win_over_temporal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "env-host:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "env-ns")
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", "/nonexistent/temporal.toml")
    assert Connection().resolve()["target_host"] == "env-host:7233"
    assert Connection().resolve()["namespace"] == "env-ns"
    resolved = Connection(address="flag-host:1", namespace="flag-ns", api_key="secret").resolve()
    assert (resolved["target_host"], resolved["namespace"], resolved["tls"]) == (
        "flag-host:1",
        "flag-ns",
        True,
    )
    assert Connection(api_key="secret", tls=False).resolve()["tls"] is False
    described = Connection(address="flag-host:1", api_key="secret").describe()
    assert described == "flag-host:1 (namespace env-ns)" and "secret" not in described
