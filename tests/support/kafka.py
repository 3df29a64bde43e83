"""Kafka for tests: the session's broker and plain-aiokafka helpers that bypass Faust.

Broker choice, first that works (:func:`kafka_session`):

1. ``KAFKA_BOOTSTRAP_SERVERS`` from the environment (an external broker; nothing is started);
2. testcontainers' ``KafkaContainer`` in KRaft mode when a Docker engine answers (image from
   ``STREAMGATE_TEST_KAFKA_IMAGE``, default ``confluentinc/cp-kafka:7.6.0``);
3. an :class:`~streams.devtools.embedded_broker.EmbeddedBroker` (Tansu, memory storage) for the whole session.

Brokers auto-create topics on metadata requests with their own partition count, so tests create their topics
with :func:`streams.devtools.embedded_broker.ensure_topics` before producing.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.devtools.embedded_broker import EmbeddedBroker

DEFAULT_KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"


@dataclass(frozen=True)
class KafkaTarget:
    """The session's broker: its bootstrap servers, where it came from and (embedded only) its log file."""

    bootstrap_servers: str
    kind: Literal["external", "container", "embedded"]
    log_path: Path | None = None


@dataclass(frozen=True)
class Record:
    """One consumed record, key and value as raw bytes."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def text(self) -> str:
        """The value decoded as UTF-8 (empty for a tombstone)."""
        return (self.value or b"").decode()

    def json(self) -> Any:
        """The value parsed as JSON."""
        return orjson.loads(self.value or b"null")


def docker_engine_available(timeout_s: float = 2.0) -> bool:
    """Whether a Docker engine answers a ping (about 0.2 s when there is none)."""
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=timeout_s)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextmanager
def kafka_session(log_dir: Path) -> Iterator[KafkaTarget]:
    """Yield the session's broker (see the module docstring) and stop whatever was started for it."""
    explicit = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if explicit:
        yield KafkaTarget(explicit, "external")
    elif docker_engine_available():
        try:
            from testcontainers.community.kafka import KafkaContainer
        except ImportError:  # testcontainers < 4.13
            from testcontainers.kafka import KafkaContainer
        image = os.environ.get("STREAMGATE_TEST_KAFKA_IMAGE", DEFAULT_KAFKA_IMAGE)
        with KafkaContainer(image).with_kraft() as kafka:
            yield KafkaTarget(kafka.get_bootstrap_server(), "container")
    else:
        with EmbeddedBroker(log_dir) as broker:
            yield KafkaTarget(broker.bootstrap_servers, "embedded", broker.log_path)


def unique_name(prefix: str = "t") -> str:
    """A topic-safe name that no other test (or earlier run against the same broker) uses."""
    safe = re.sub(r"[^a-zA-Z0-9._-]+", "-", prefix).strip("-")[:60] or "t"
    return f"{safe}-{uuid.uuid4().hex[:10]}"


async def produce(
    bootstrap: str,
    topic: str,
    values: Sequence[bytes | None],
    keys: Sequence[bytes | None] | None = None,
    *,
    headers: Sequence[tuple[str, bytes]] = (),
) -> list[tuple[int, int]]:
    """Send ``values`` (with ``keys`` when given) in one batch and wait for the acks.

    Returns the ``(partition, offset)`` of each record. Create the topic first if its partition count matters.
    """
    if keys is not None and len(keys) != len(values):
        raise ValueError(f"{len(keys)} keys for {len(values)} values")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=1024 * 1024)
    await producer.start()
    try:
        pending = [
            await producer.send(topic, value, key=None if keys is None else keys[i], headers=list(headers))
            for i, value in enumerate(values)
        ]
        sent = await asyncio.gather(*pending)
        return [(meta.partition, meta.offset) for meta in sent]
    finally:
        await producer.stop()


async def consume_until(
    bootstrap: str,
    topic: str,
    until: int | Callable[[list[Record]], bool],
    timeout_s: float = 30.0,
    *,
    raise_on_timeout: bool = True,
) -> list[Record]:
    """Read ``topic`` from the beginning until ``until`` records arrived or ``until(records)`` is true.

    Returns every record read (possibly more than a count asked for), in arrival order; order holds within a
    partition only. Waits for the topic to exist without auto-creating it. Raises :class:`TimeoutError` after
    ``timeout_s`` unless ``raise_on_timeout`` is false, in which case it returns what it has.

    It reads every partition by assignment, without a consumer group: a fresh group would read the same
    records, but a group join on the embedded broker costs half the session timeout.
    """
    done: Callable[[list[Record]], bool] = (lambda rs: len(rs) >= until) if isinstance(until, int) else until
    deadline = time.monotonic() + timeout_s
    partitions = await _wait_partitions(bootstrap, topic, deadline)
    records: list[Record] = []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=20
    )
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in partitions] if partitions else []
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        while not done(records) and (remaining := deadline - time.monotonic()) > 0:
            batch = await consumer.getmany(timeout_ms=int(min(remaining, 0.2) * 1000) + 1)
            for messages in batch.values():
                records.extend(_record(m) for m in messages)
    finally:
        await consumer.stop()
    if raise_on_timeout and not done(records):
        tail = ", ".join(r.text[:200] for r in records[-3:])
        raise TimeoutError(f"{topic}: not done after {timeout_s} s; {len(records)} records, last: {tail}")
    return records


async def _wait_partitions(bootstrap: str, topic: str, deadline: float) -> list[int]:
    """The topic's partition ids once it exists; listing all topics does not auto-create it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while True:
            if topic in await admin.list_topics():
                (meta,) = await admin.describe_topics([topic])
                if meta["error_code"] == 0 and meta["partitions"]:
                    return sorted(p["partition"] for p in meta["partitions"])
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {topic!r} does not exist on {bootstrap}")
            await asyncio.sleep(0.05)
    finally:
        await admin.close()


def _record(message: Any) -> Record:
    return Record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=message.timestamp,
        key=message.key,
        value=message.value,
        headers=tuple(message.headers or ()),
    )
