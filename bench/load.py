"""The load generator and the taps: paced, batched aiokafka publishes and topic readers that time arrivals.

The generator is open-loop: message ``k`` of a run is *due* at ``start + k / rate`` and every latency is measured
from that due time, so a generator (or a broker) that falls behind shows up in the figures instead of silently
lowering the offered rate. Each tick (5 ms) publishes the messages that became due as one record batch
(``create_batch`` / ``send_batch``) on one partition, the next one each tick, which keeps the client's own cost per
message small and the number of record batches on the broker low.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from gateway.kafka_security import KafkaTarget, connection
from streams.runtime.direct import partition_for

TICK_S = 0.005
Parse = Callable[[bytes], tuple[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Payload:
    """One message to publish: the id its answer will carry, the serialized value and the record key."""

    id: str
    value: bytes
    key: bytes | None = None


@dataclass(frozen=True, slots=True)
class Arrival:
    """A record seen by a :class:`Tap`: when it arrived (epoch s), its record timestamp (epoch s), parsed data."""

    received: float
    record_ts: float
    data: Any


def parse_result(value: bytes) -> tuple[str, Any] | None:
    """``(id, result dict)`` of an ``LLMResult`` value (``None`` for a streamed answer's chunk events)."""
    doc = orjson.loads(value)
    if doc.get("type") == "chunk":
        return None
    return str(doc["id"]), doc


def parse_request(value: bytes) -> tuple[str, Any] | None:
    """``(id, None)`` of a request value (the admit topic and the baseline echo carry requests)."""
    return str(orjson.loads(value)["id"]), None


@dataclass
class Tap:
    """Reads every partition of ``topic`` from its current end and remembers when each id arrived."""

    bootstrap: KafkaTarget
    topic: str
    parse: Parse
    arrivals: dict[str, Arrival] = field(default_factory=dict)
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None
    _news: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> Tap:
        """Assign all partitions at their end offsets and start reading in the background."""
        consumer = AIOKafkaConsumer(
            **connection(self.bootstrap).client_kwargs(),
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
            max_partition_fetch_bytes=4 << 20,
        )
        await consumer.start()
        for _ in range(200):
            parts = consumer.partitions_for_topic(self.topic)
            if parts:
                break
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.05)
        else:
            raise TimeoutError(f"topic {self.topic} has no partitions")
        tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)
        self._consumer = consumer
        self._task = asyncio.create_task(self._read(consumer))
        return self

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=50)
            now = time.time()
            for records in batches.values():
                for record in records:
                    self._keep(record, now)
            if batches:
                self._news.set()

    def _keep(self, record: ConsumerRecord[bytes, bytes], now: float) -> None:
        if record.value is None:
            return
        parsed = self.parse(record.value)
        if parsed is not None and parsed[0] not in self.arrivals:
            self.arrivals[parsed[0]] = Arrival(now, record.timestamp / 1000.0, parsed[1])

    async def wait_for(self, ids: Sequence[str], *, timeout_s: float) -> dict[str, Arrival]:
        """Wait until every id arrived (or the timeout passed) and hand over (and forget) their arrivals."""
        deadline = time.monotonic() + timeout_s
        missing = {i for i in ids if i not in self.arrivals}
        while missing and (left := deadline - time.monotonic()) > 0:
            self._news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), timeout=left)
            missing = {i for i in missing if i not in self.arrivals}
        return {i: self.arrivals.pop(i) for i in ids if i in self.arrivals}

    def forget(self) -> None:
        """Drop everything seen so far."""
        self.arrivals.clear()

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()


async def new_producer(bootstrap: KafkaTarget) -> AIOKafkaProducer:
    """A started producer sized for batched publishing."""
    producer = AIOKafkaProducer(
        **connection(bootstrap).client_kwargs(), linger_ms=1, max_batch_size=1 << 20, max_request_size=8 << 20
    )
    await producer.start()
    return producer


async def offer(producer: AIOKafkaProducer, topic: str, payloads: Sequence[Payload], rate: float) -> dict[str, float]:
    """Publish ``payloads`` at ``rate`` per second (``0``: all at once); returns id -> due time (epoch s)."""
    partitions = sorted(await producer.partitions_for(topic))
    due: dict[str, float] = {}
    futures: list[asyncio.Future[Any]] = []
    start = time.time()
    sent = tick = 0
    while sent < len(payloads):
        now = time.time()
        ready = len(payloads) if rate <= 0 else min(len(payloads), int((now - start) * rate) + 1)
        if ready > sent:
            for k in range(sent, ready):
                due[payloads[k].id] = start if rate <= 0 else start + k / rate
            futures += await _publish(producer, topic, partitions, payloads[sent:ready], tick)
            sent, tick = ready, tick + 1
        if sent < len(payloads):
            await asyncio.sleep(max(TICK_S, start + sent / rate - time.time()) if rate > 0 else 0)
    await asyncio.gather(*futures)
    return due


async def _publish(
    producer: AIOKafkaProducer, topic: str, partitions: Sequence[int], chunk: Sequence[Payload], tick: int
) -> list[asyncio.Future[Any]]:
    """``chunk`` as record batches; returns the delivery futures.

    Keyed payloads go to their key's partition (Kafka's default partitioner, as any client's would), one batch
    per partition; unkeyed ones all go to one partition, the next one each tick. Not one batch per partition for
    those: the embedded broker's fetch cost grows with the number of record batches in a partition, so many tiny
    batches would slow down everything that reads the topic.
    """
    by_partition: dict[int, list[Payload]] = {}
    spread = partitions[tick % len(partitions)]
    for payload in chunk:
        partition = spread if payload.key is None else partition_for(payload.key, len(partitions))
        by_partition.setdefault(partition, []).append(payload)
    futures: list[asyncio.Future[Any]] = []
    for partition, payloads in by_partition.items():
        batch = producer.create_batch()
        for payload in payloads:
            if batch.append(key=payload.key, value=payload.value, timestamp=None) is None:
                futures.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                batch.append(key=payload.key, value=payload.value, timestamp=None)
        futures.append(await producer.send_batch(batch, topic, partition=partition))
    return futures
