"""How every Kafka client of streamgate connects: the ``[kafka]`` security settings and the one place they become
client arguments.

:class:`KafkaSecurity` is the ``[kafka]`` table of the settings (``security_protocol``, the SASL mechanism and
credentials, the CA file, the client certificate and key). :class:`KafkaConnection` pairs it with bootstrap servers;
:meth:`KafkaConnection.client_kwargs` is what every aiokafka producer, consumer and admin client the project
starts is built with (worker helpers, CLI commands, the dev tools, the bench, the client SDK), and
:meth:`KafkaConnection.faust_credentials` is the same thing as Faust's ``broker_credentials`` (Faust turns it back
into exactly these aiokafka arguments for the worker's own producer and consumers). Both come from
:func:`security_kwargs`, so a client can never be configured differently from the worker.

Secrets (the SASL password, the key password) are :class:`~pydantic.SecretStr`: never in a ``repr``, a log line or
``/status``. :meth:`KafkaSecurity.describe` is the form that may be shown.

:func:`admin_client`, :func:`create_topics` and :func:`led_topics` are the admin steps the worker's topic set-up
(``streams.runtime.admin``) and the client SDK's reply topics (``streamgate.kafka``) share.

This module imports no Faust at import time (the client SDK uses it without the worker).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from aiokafka.abc import AbstractTokenProvider
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.helpers import create_ssl_context
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from gateway.errors import ConfigError

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]

_TLS: frozenset[str] = frozenset({"SSL", "SASL_SSL"})
_SASL: frozenset[str] = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})


class KafkaSecurity(BaseModel):
    """Transport security and authentication of every Kafka connection (``[kafka]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", description="PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (SASL over TLS)."
    )
    sasl_mechanism: SaslMechanism = Field(
        default="PLAIN", description="PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (SASL_* protocols only)."
    )
    sasl_username: str | None = None
    sasl_password: SecretStr | None = Field(default=None, description="Never logged or shown.")
    sasl_oauth_token_file: Path | None = Field(
        default=None,
        description="OAUTHBEARER: a file holding the bearer token, read at every (re)authentication, so a "
        "sidecar can refresh it.",
    )
    ssl_cafile: Path | None = Field(
        default=None, description="CA bundle of the broker's certificate (else the system's)."
    )
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (PEM) for mutual TLS.")
    ssl_keyfile: Path | None = Field(default=None, description="Client private key (PEM); may be inside ssl_certfile.")
    ssl_key_password: SecretStr | None = Field(default=None, description="Password of the client key, if any.")
    ssl_check_hostname: bool = Field(default=True, description="Check the broker certificate's host name.")

    @model_validator(mode="after")
    def _check(self) -> KafkaSecurity:
        if self.security_protocol in _SASL:
            if self.sasl_mechanism == "OAUTHBEARER":
                if self.sasl_oauth_token_file is None:
                    raise ConfigError("kafka.sasl_mechanism OAUTHBEARER needs kafka.sasl_oauth_token_file")
            elif not self.sasl_username or self.sasl_password is None:
                raise ConfigError(f"kafka.sasl_mechanism {self.sasl_mechanism} needs sasl_username and sasl_password")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ConfigError("kafka.ssl_keyfile is set without kafka.ssl_certfile")
        return self

    @property
    def tls(self) -> bool:
        """Whether connections are TLS (SSL or SASL_SSL)."""
        return self.security_protocol in _TLS

    @property
    def sasl(self) -> bool:
        """Whether connections authenticate with SASL."""
        return self.security_protocol in _SASL

    def describe(self) -> dict[str, Any]:
        """What may be shown (status pages, logs): the protocol, the mechanism and user, the file names; no secret."""
        shown: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.sasl:
            shown.update(sasl_mechanism=self.sasl_mechanism, sasl_username=self.sasl_username)
        if self.tls:
            shown.update(ssl_cafile=_name(self.ssl_cafile), ssl_certfile=_name(self.ssl_certfile))
        return shown


class FileTokenProvider(AbstractTokenProvider):  # type: ignore[misc]  # aiokafka.abc is untyped
    """OAUTHBEARER tokens read from a file at each authentication (whatever refreshes the file owns the token)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def token(self) -> str:
        """The file's content, stripped; a missing or empty file is a :class:`ConfigError`."""
        try:
            value = self.path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"kafka.sasl_oauth_token_file {self.path}: {exc.strerror}") from exc
        if not value:
            raise ConfigError(f"kafka.sasl_oauth_token_file {self.path} is empty")
        return value

    def __repr__(self) -> str:
        return f"FileTokenProvider({self.path})"


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext | None:
    """The client TLS context of ``security`` (``None`` without TLS); a bad file is a :class:`ConfigError`."""
    if not security.tls:
        return None
    password = security.ssl_key_password.get_secret_value() if security.ssl_key_password else None
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=security.ssl_cafile,
            certfile=security.ssl_certfile,
            keyfile=security.ssl_keyfile,
            password=password,
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"kafka TLS files cannot be loaded: {exc}") from exc
    context.check_hostname = security.ssl_check_hostname
    return context


def security_kwargs(security: KafkaSecurity, context: ssl.SSLContext | None = None) -> dict[str, Any]:
    """The aiokafka keyword arguments (``security_protocol``, ``ssl_context``, ``sasl_*``) of ``security``.

    ``context`` is the TLS context to use (default: a new one from :func:`ssl_context`); the same names and values
    are accepted by ``AIOKafkaProducer``, ``AIOKafkaConsumer`` and ``AIOKafkaAdminClient``.
    """
    kwargs: dict[str, Any] = {"security_protocol": security.security_protocol}
    if security.tls:
        kwargs["ssl_context"] = context if context is not None else ssl_context(security)
    if security.sasl:
        kwargs.setdefault("ssl_context", None)  # as Faust's credentials give it
        kwargs["sasl_mechanism"] = security.sasl_mechanism
        if security.sasl_mechanism == "OAUTHBEARER":
            assert security.sasl_oauth_token_file is not None  # checked by the model
            kwargs["sasl_oauth_token_provider"] = FileTokenProvider(security.sasl_oauth_token_file)
        else:
            assert security.sasl_password is not None  # checked by the model
            kwargs["sasl_plain_username"] = security.sasl_username
            kwargs["sasl_plain_password"] = security.sasl_password.get_secret_value()
    return kwargs


@dataclass(frozen=True)
class KafkaConnection:
    """Bootstrap servers and the security to reach them with: what every Kafka client is built from."""

    bootstrap_servers: str
    security: KafkaSecurity = field(default_factory=KafkaSecurity)

    @cached_property
    def _kwargs(self) -> dict[str, Any]:
        return security_kwargs(self.security)  # one TLS context per connection, shared by its clients

    def security_kwargs(self) -> dict[str, Any]:
        """:func:`security_kwargs` of this connection (one TLS context, built once)."""
        return dict(self._kwargs)

    def client_kwargs(self) -> dict[str, Any]:
        """``bootstrap_servers`` plus :meth:`security_kwargs`: pass to any aiokafka client (``**``)."""
        return {"bootstrap_servers": self.bootstrap_servers, **self._kwargs}

    def faust_credentials(self) -> Any:
        """Faust's ``broker_credentials`` for the same security (``None`` for PLAINTEXT).

        Faust's aiokafka driver turns these back into :meth:`security_kwargs` (same context, same SASL values).
        """
        from faust.auth import OAuthCredentials, SASLCredentials, SSLCredentials

        kwargs = self._kwargs
        context = kwargs.get("ssl_context")
        if not self.security.sasl:
            return SSLCredentials(context) if context is not None else None
        if self.security.sasl_mechanism == "OAUTHBEARER":
            return OAuthCredentials(oauth_cb=kwargs["sasl_oauth_token_provider"], ssl_context=context)
        return SASLCredentials(
            username=kwargs["sasl_plain_username"],
            password=kwargs["sasl_plain_password"],
            ssl_context=context,
            mechanism=self.security.sasl_mechanism,
        )

    def __str__(self) -> str:
        return self.bootstrap_servers


KafkaTarget = KafkaConnection | str
"""Where a helper connects: a :class:`KafkaConnection`, or bare bootstrap servers (PLAINTEXT, dev and tests)."""


def connection(target: KafkaTarget) -> KafkaConnection:
    """``target`` as a :class:`KafkaConnection` (bare bootstrap servers mean PLAINTEXT)."""
    return target if isinstance(target, KafkaConnection) else KafkaConnection(target)


TOPIC_ALREADY_EXISTS = 36
"""The Kafka error code CreateTopics answers for a topic that exists (not a failure when creating idempotently)."""


@asynccontextmanager
async def admin_client(kafka: KafkaConnection, timeout_s: float) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client for ``kafka``, closed on the way out; starting it and everything done with it must
    finish within ``timeout_s`` (else ``TimeoutError``). Callers turn ``TimeoutError`` and ``KafkaError`` into
    their own :class:`~gateway.errors.BrokerError`."""
    admin = AIOKafkaAdminClient(**kafka.client_kwargs(), request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            yield admin
    finally:
        await admin.close()


async def create_topics(
    admin: AIOKafkaAdminClient, specs: dict[str, int], replication_factor: int
) -> tuple[list[str], list[dict[str, Any]]]:
    """Create the topics of ``specs`` (name to partitions) that the cluster lacks (listing all topics, which
    auto-creates nothing): the names this call created, and the errors other than "already exists"."""
    existing = set(await admin.list_topics())
    missing = [NewTopic(name, partitions, replication_factor) for name, partitions in specs.items()]
    missing = [topic for topic in missing if topic.name not in existing]
    if not missing:
        return [], []
    errors: list[dict[str, Any]] = (await admin.create_topics(missing)).to_object()["topic_errors"]
    created = [e["topic"] for e in errors if e["error_code"] == 0]
    return created, [e for e in errors if e["error_code"] not in (0, TOPIC_ALREADY_EXISTS)]


async def led_topics(admin: AIOKafkaAdminClient, names: Iterable[str]) -> dict[str, int]:
    """The partition counts of those of ``names`` that exist with a leader for every partition (usable now)."""
    return {
        topic["topic"]: len(topic["partitions"])
        for topic in await admin.describe_topics(list(names))
        if topic["error_code"] == 0 and topic["partitions"] and all(p["leader"] >= 0 for p in topic["partitions"])
    }


def _name(path: Path | None) -> str | None:
    return None if path is None else str(path)
