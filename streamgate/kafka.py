"""Every Kafka client the SDK and the front door start is built here, from the settings.

:func:`connection_kwargs` is the one place that says how to reach the cluster: the bootstrap servers with the
``[kafka]`` security settings (TLS, SASL) of :meth:`gateway.settings.Settings.kafka_connection`, so the producer,
the reply consumer and the admin client connect alike.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from gateway.errors import BrokerError, ConfigError
from gateway.kafka_security import admin_client, create_topics, led_topics
from gateway.settings import Settings

log = logging.getLogger(__name__)


def bootstrap_of(settings: Settings, bootstrap: str | None = None) -> str:
    """``bootstrap`` when given, else ``KAFKA_BOOTSTRAP_SERVERS`` from the settings; :class:`BrokerError` if neither."""
    try:
        return settings.kafka_connection(bootstrap).bootstrap_servers
    except ConfigError as exc:
        raise BrokerError("no Kafka broker: pass bootstrap= or set KAFKA_BOOTSTRAP_SERVERS") from exc


def connection_kwargs(settings: Settings, bootstrap: str) -> dict[str, Any]:
    """The aiokafka keyword arguments that reach the cluster (shared by producer, consumer and admin client)."""
    return settings.kafka_connection(bootstrap).client_kwargs()


def new_producer(settings: Settings, bootstrap: str) -> AIOKafkaProducer:
    """A producer for requests: small linger so concurrent sends share a batch."""
    return AIOKafkaProducer(
        **connection_kwargs(settings, bootstrap),
        linger_ms=settings.producer_linger_ms,
        max_batch_size=settings.producer_max_batch_size,
        max_request_size=settings.producer_max_request_size,
    )


def new_consumer(settings: Settings, bootstrap: str) -> AIOKafkaConsumer:
    """A group-less consumer (partitions are assigned by hand): it reads one reply topic from its end."""
    return AIOKafkaConsumer(
        **connection_kwargs(settings, bootstrap),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="latest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )


async def start(client: AIOKafkaProducer | AIOKafkaConsumer, bootstrap: str) -> None:
    """Start a producer or consumer; a broker that does not answer is a :class:`BrokerError`."""
    try:
        await client.start()
    except KafkaConnectionError as exc:
        raise BrokerError(f"no Kafka broker answers at {bootstrap}") from exc


async def create_topic(
    settings: Settings, bootstrap: str, name: str, partitions: int, *, timeout_s: float = 30.0
) -> bool:
    """Create topic ``name`` unless it exists and wait until it has leaders; whether this call created it."""
    try:
        async with admin_client(settings.kafka_connection(bootstrap), timeout_s) as admin:
            created, bad = await create_topics(admin, {name: partitions}, settings.replication_factor)
            if bad:
                raise BrokerError(f"cannot create reply topic {name} on {bootstrap}: error {bad}")
            while name not in await led_topics(admin, [name]):  # noqa: ASYNC110  # polling the broker, nothing to signal
                await asyncio.sleep(0.05)
            return name in created
    except TimeoutError as exc:
        raise BrokerError(f"reply topic {name} not ready on {bootstrap} within {timeout_s} s") from exc
    except KafkaError as exc:
        raise BrokerError(f"cannot set up reply topic {name} on {bootstrap}: {exc!r}") from exc


async def probe(settings: Settings, bootstrap: str, *, timeout_s: float = 10.0) -> None:
    """Check that the cluster answers (a metadata request); :class:`BrokerError` when it does not."""
    try:
        async with admin_client(settings.kafka_connection(bootstrap), timeout_s) as admin:
            await admin.list_topics()
    except (TimeoutError, KafkaError) as exc:
        raise BrokerError(f"no Kafka broker answers at {bootstrap}: {exc!r}") from exc


async def delete_topic(settings: Settings, bootstrap: str, name: str, *, timeout_s: float = 10.0) -> None:
    """Delete topic ``name``; a failure is logged, never raised (the client is closing)."""
    try:
        async with admin_client(settings.kafka_connection(bootstrap), timeout_s) as admin:
            await admin.delete_topics([name])
    except (TimeoutError, KafkaError) as exc:
        log.warning("could not delete reply topic %s: %r", name, exc)
