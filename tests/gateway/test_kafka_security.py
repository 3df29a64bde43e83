"""``[kafka]`` security settings and the one function every Kafka client is configured from."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
import trustme
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from gateway.errors import ConfigError
from gateway.kafka_security import FileTokenProvider, KafkaConnection, KafkaSecurity, connection, security_kwargs
from gateway.settings import load_settings


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def test_plaintext_by_default_and_for_bare_bootstrap_servers() -> None:
    assert load_settings().kafka.security_protocol == "PLAINTEXT"
    kafka = connection("127.0.0.1:9092")
    assert kafka.client_kwargs() == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    assert kafka.faust_credentials() is None


def test_the_kafka_table_of_a_config_file_and_the_environment(
    tmp_path: Path, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[kafka]\nsecurity_protocol = "SASL_SSL"\nsasl_mechanism = "SCRAM-SHA-512"\nsasl_username = "gw"\n'
        f'ssl_cafile = "{ca_file}"\n'
    )
    monkeypatch.setenv("STREAMGATE_KAFKA__SASL_PASSWORD", "from-env")  # a secret from the environment
    settings = load_settings(config, kafka_bootstrap_servers="broker:9093")
    kwargs = settings.kafka_connection().client_kwargs()
    assert isinstance(kwargs.pop("ssl_context"), ssl.SSLContext)
    assert kwargs == {
        "bootstrap_servers": "broker:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "gw",
        "sasl_plain_password": "from-env",
    }


def test_secrets_are_never_shown(ca_file: Path) -> None:
    security = KafkaSecurity(
        security_protocol="SASL_SSL", sasl_username="gw", sasl_password="s3cret", ssl_cafile=ca_file
    )
    assert "s3cret" not in repr(security) and "s3cret" not in str(security.describe())
    assert security.describe() == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "PLAIN",
        "sasl_username": "gw",
        "ssl_cafile": str(ca_file),
        "ssl_certfile": None,
    }
    assert "s3cret" not in repr(KafkaConnection("b:1", security).faust_credentials())


@pytest.mark.parametrize(
    "fields",
    [
        {"security_protocol": "SSL"},
        {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-256",
            "sasl_username": "u",
            "sasl_password": "p",
        },
        {"security_protocol": "SASL_SSL", "sasl_username": "u", "sasl_password": "p"},
        {"security_protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER", "sasl_oauth_token_file": "/run/token"},
    ],
)
def test_faust_credentials_become_exactly_the_clients_arguments(fields: dict[str, str], ca_file: Path) -> None:
    kafka = KafkaConnection("b:1", KafkaSecurity(ssl_cafile=ca_file, **fields))  # type: ignore[arg-type]
    assert credentials_to_aiokafka_auth(kafka.faust_credentials()) == kafka.security_kwargs()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"security_protocol": "SASL_SSL", "sasl_username": "u"}, "needs sasl_username and sasl_password"),
        ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "OAUTHBEARER"}, "sasl_oauth_token_file"),
        ({"ssl_keyfile": "k.pem"}, "without kafka.ssl_certfile"),
    ],
)
def test_incomplete_security_is_a_config_error(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        KafkaSecurity(**fields)  # type: ignore[arg-type]


def test_unreadable_tls_files_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be loaded"):
        security_kwargs(KafkaSecurity(security_protocol="SSL", ssl_cafile=tmp_path / "missing.pem"))


def test_the_oauth_token_is_read_at_each_authentication(tmp_path: Path) -> None:
    token = tmp_path / "token"
    provider = FileTokenProvider(token)
    with pytest.raises(ConfigError, match="token"):
        asyncio.run(provider.token())
    token.write_text("first\n")
    assert asyncio.run(provider.token()) == "first"
    token.write_text("refreshed")
    assert asyncio.run(provider.token()) == "refreshed"
