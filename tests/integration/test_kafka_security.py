"""Kafka TLS and SASL for real: every protocol and mechanism of ``[kafka]`` against a broker that enforces it.

The embedded Tansu 0.6.0 accepts ``--cert``/``--authentication`` but serves PLAINTEXT with the first and cannot
create a SCRAM user with the second (README, Operations), so a :class:`~tests.support.secure_proxy.SecureProxy`
terminates TLS (certificates made here by ``trustme``, client certificates required) and checks SASL in front of
it; the broker advertises the proxy, so every connection of every client goes through it.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme

from gateway.errors import BrokerError
from gateway.kafka_security import KafkaConnection, KafkaSecurity
from schemas.request import ChatMessage, LLMRequest
from streams.devtools.client import GatewayClient, new_request_id, read_topic
from streams.devtools.embedded_broker import EmbeddedBroker
from streams.runtime.admin import ensure_topics
from tests.support.gateway import gateway_stack
from tests.support.ports import closed_port
from tests.support.secure_proxy import SecureProxy

pytestmark = pytest.mark.integration

PASSWORD = "pw-never-logged-7f3a"
USERS = {"gateway": PASSWORD}
TOKEN = "oauth-token-1"
ALL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A CA, a server context for 127.0.0.1 requiring client certificates, and the client's PEM files."""
    where = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    ca.configure_trust(server)
    server.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: the client's certificate and key are used too
    client = ca.issue_cert("streamgate-worker")
    files = {"ca": where / "ca.pem", "cert": where / "client.pem", "key": where / "client.key"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    client.cert_chain_pems[0].write_to_path(str(files["cert"]))
    client.private_key_pem.write_to_path(str(files["key"]))
    token_file = where / "token"
    token_file.write_text(TOKEN + "\n")
    return {"server": server, "token_file": token_file, **files}


@contextmanager
def secured_broker(log_dir: Path, *, tls: ssl.SSLContext | None, mechanisms: tuple[str, ...]) -> Iterator[SecureProxy]:
    """An embedded broker reachable only through a proxy enforcing ``tls`` and ``mechanisms``."""
    broker_port, proxy_port = closed_port(), closed_port()
    proxy = SecureProxy(
        f"127.0.0.1:{broker_port}",
        proxy_port,
        server_context=tls,
        users=USERS,
        mechanisms=mechanisms,
        tokens=frozenset({TOKEN}),
    )
    with proxy.running(), EmbeddedBroker(log_dir, port=broker_port, advertised=f"127.0.0.1:{proxy_port}"):
        yield proxy


def security(pki: dict[str, Any], protocol: str, mechanism: str = "PLAIN", **changes: Any) -> KafkaSecurity:
    """``[kafka]`` for ``protocol``/``mechanism`` with the test's CA, client certificate and credentials."""
    fields: dict[str, Any] = {"security_protocol": protocol, "sasl_mechanism": mechanism}
    if "SSL" in protocol:
        fields.update(ssl_cafile=pki["ca"], ssl_certfile=pki["cert"], ssl_keyfile=pki["key"])
    if "SASL" in protocol:
        if mechanism == "OAUTHBEARER":
            fields["sasl_oauth_token_file"] = pki["token_file"]
        else:
            fields.update(sasl_username="gateway", sasl_password=PASSWORD)
    return KafkaSecurity(**{**fields, **changes})


async def round_trip(kafka: KafkaConnection, topic: str) -> list[bytes | None]:
    """Create ``topic``, publish one record with the project's client, read it back with the project's reader."""
    await ensure_topics(kafka, [(topic, 1)], timeout_s=10)
    async with GatewayClient(kafka, requests_topic=topic, results_topic=topic) as client:
        await client.publish_raw([b"hello over " + kafka.security.security_protocol.encode()])
    return [record.value for record in await read_topic(kafka, topic)]


@pytest.mark.parametrize(
    ("protocol", "mechanism"),
    [
        ("SSL", "PLAIN"),
        ("SASL_PLAINTEXT", "PLAIN"),
        ("SASL_PLAINTEXT", "SCRAM-SHA-256"),
        ("SASL_SSL", "SCRAM-SHA-512"),
        ("SASL_SSL", "OAUTHBEARER"),
    ],
)
def test_clients_connect_with_each_protocol_and_mechanism(
    pki: dict[str, Any], tmp_path: Path, protocol: str, mechanism: str
) -> None:
    tls = pki["server"] if "SSL" in protocol else None
    sasl = (mechanism,) if "SASL" in protocol else ()
    with secured_broker(tmp_path, tls=tls, mechanisms=sasl) as proxy:
        kafka = KafkaConnection(f"127.0.0.1:{proxy.port}", security(pki, protocol, mechanism))
        assert asyncio.run(round_trip(kafka, "secured")) == [f"hello over {protocol}".encode()]
    assert not [why for why in proxy.counts if why.startswith("refused")], proxy.counts
    assert proxy.counts["connections"] >= 2
    if tls is not None:
        assert proxy.counts["tls"] == proxy.counts["connections"]
    if sasl:
        assert proxy.counts[f"auth:{mechanism}"] == proxy.counts["connections"]


def test_wrong_credentials_a_missing_certificate_and_plaintext_are_refused(pki: dict[str, Any], tmp_path: Path) -> None:
    with secured_broker(tmp_path, tls=pki["server"], mechanisms=("SCRAM-SHA-256", "PLAIN")) as proxy:
        target = f"127.0.0.1:{proxy.port}"
        attempts = {
            "wrong password": security(pki, "SASL_SSL", "SCRAM-SHA-256", sasl_password="wrong"),
            "unknown user": security(pki, "SASL_SSL", "PLAIN", sasl_username="mallory"),
            "no client certificate": security(pki, "SASL_SSL", "PLAIN", ssl_certfile=None, ssl_keyfile=None),
            "plaintext": KafkaSecurity(),
            "TLS without SASL": security(pki, "SSL"),
        }
        for what, each in attempts.items():
            with pytest.raises(BrokerError):
                asyncio.run(ensure_topics(KafkaConnection(target, each), [], timeout_s=3))
            assert proxy.counts["auth:PLAIN"] == proxy.counts["auth:SCRAM-SHA-256"] == 0, what
    refused = " ".join(proxy.counts)
    assert "SCRAM failed" in refused and "bad user name or password" in refused and "before authentication" in refused


def test_a_worker_serves_requests_through_tls_and_sasl(pki: dict[str, Any], redis_url: str, tmp_path: Path) -> None:
    config = tmp_path / "secure.toml"
    config.write_text(
        "[kafka]\n"
        'security_protocol = "SASL_SSL"\nsasl_mechanism = "SCRAM-SHA-512"\n'
        f'sasl_username = "gateway"\nsasl_password = "{PASSWORD}"\n'
        f'ssl_cafile = "{pki["ca"]}"\nssl_certfile = "{pki["cert"]}"\nssl_keyfile = "{pki["key"]}"\n'
    )
    with secured_broker(tmp_path, tls=pki["server"], mechanisms=("SCRAM-SHA-512",)) as proxy:
        target = f"127.0.0.1:{proxy.port}"
        with gateway_stack(target, redis_url, tmp_path / "stack", config_file=config) as stack:
            assert stack.kafka.security.security_protocol == "SASL_SSL"  # the stack's own client, as configured
            request = LLMRequest(
                id=new_request_id("tls"),
                tenant="secure",
                user="alice",
                messages=[ChatMessage(role="user", content="hello through TLS and SCRAM")],
            )
            results = asyncio.run(
                _serve(stack.kafka, stack.settings.topics.requests, stack.settings.topics.results, request)
            )
            assert results[request.id].status == "ok", results
            (worker,) = stack.describe()["workers"]  # type: ignore[misc]
            with urllib.request.urlopen(f"{worker}/status", timeout=5) as response:
                status = response.read().decode()
            with urllib.request.urlopen(f"{worker}/ready", timeout=5) as response:
                assert json.load(response)["checks"]["broker"] is True  # probed over the secured connection
        worker_log = (tmp_path / "stack" / "logs" / "worker-0.log").read_text()
    assert PASSWORD not in worker_log and PASSWORD not in status
    assert not [why for why in proxy.counts if why.startswith("refused")], proxy.counts
    # the worker's Faust consumer and producer, its admin helpers and the test's clients: all through the proxy
    assert proxy.counts["auth:SCRAM-SHA-512"] == proxy.counts["tls"] == proxy.counts["connections"] >= 5


async def _serve(kafka: KafkaConnection, requests: str, results: str, request: LLMRequest) -> dict[str, Any]:
    async with GatewayClient(kafka, requests_topic=requests, results_topic=results) as client:
        await client.publish([request])
        return await client.collect([request.id], timeout_s=60)
