"""A small client of the wire contract: publish requests, collect their results. Used by send, demo and bench.

It uses nothing but aiokafka and :mod:`schemas`, i.e. exactly what the README tells a client to do.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Mapping

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError

from gateway.errors import BrokerError
from gateway.kafka_security import KafkaTarget, connection
from gateway.tenant_binding import sign
from schemas.request import LLMRequest
from schemas.result import LLMResult


class GatewayClient:
    """Publishes :class:`LLMRequest` events and reads :class:`LLMResult` events from a reply topic."""

    def __init__(
        self,
        bootstrap: KafkaTarget,
        *,
        requests_topic: str = "llm.requests",
        results_topic: str = "llm.results",
        tenant_keys: Mapping[str, str] | None = None,
    ) -> None:
        """``tenant_keys``: tenant -> key; requests of those tenants are signed (:mod:`gateway.tenant_binding`)."""
        self._bootstrap = bootstrap
        self._tenant_keys = dict(tenant_keys or {})
        self.requests_topic = requests_topic
        self.results_topic = results_topic
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._seen: dict[str, LLMResult] = {}  # every result read so far, first per id

    async def __aenter__(self) -> GatewayClient:
        """Connect; raises :class:`BrokerError` when the broker cannot be reached or has no results topic."""
        try:
            await self._connect()
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def _connect(self) -> None:
        self._producer = AIOKafkaProducer(
            **connection(self._bootstrap).client_kwargs(), linger_ms=5, max_batch_size=1 << 20, max_request_size=4 << 20
        )
        self._consumer = AIOKafkaConsumer(
            **connection(self._bootstrap).client_kwargs(),
            group_id=f"streamgate-client-{uuid.uuid4().hex[:8]}",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
            auto_offset_reset="latest",
        )
        await _start(self._producer, self._bootstrap)
        await _start(self._consumer, self._bootstrap)
        partitions = await self._wait_partitions(self.results_topic)
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the end offsets now, before anything is published
            await self._consumer.position(tp)

    async def __aexit__(self, *_: object) -> None:
        if self._producer is not None:
            await self._producer.stop()
        if self._consumer is not None:
            await self._consumer.stop()

    async def _wait_partitions(self, topic: str) -> list[TopicPartition]:
        assert self._consumer is not None
        for _ in range(100):
            parts = self._consumer.partitions_for_topic(topic)
            if parts:
                return [TopicPartition(topic, p) for p in sorted(parts)]
            await self._consumer._client.force_metadata_update()
            await asyncio.sleep(0.05)
        raise BrokerError(f"topic {topic} does not exist on {self._bootstrap} (no worker has set the gateway up)")

    async def publish(self, requests: Iterable[LLMRequest], *, keyed: bool = True) -> None:
        """Publish requests and wait until the broker has them.

        ``keyed``: each record's key is its tenant (the gateway then screens it where it lands, skipping a hop);
        otherwise unkeyed.
        """
        assert self._producer is not None
        futures = []
        for r in requests:
            value = r.model_dump_json(exclude_none=True).encode()
            key = self._tenant_keys.get(r.tenant)
            headers = sign(value, r.tenant, key) if key is not None else None
            futures.append(
                await self._producer.send(
                    self.requests_topic, value=value, key=r.tenant.encode() if keyed else None, headers=headers
                )
            )
        await asyncio.gather(*futures)

    async def publish_raw(self, values: Iterable[bytes]) -> None:
        """Publish arbitrary bytes (for testing the dead-letter path)."""
        assert self._producer is not None
        futures = [await self._producer.send(self.requests_topic, value=v) for v in values]
        await asyncio.gather(*futures)

    async def collect(self, ids: Iterable[str], *, timeout_s: float = 60.0) -> dict[str, LLMResult]:
        """Results for ``ids`` (the first one seen per id) until all arrived or the timeout passed.

        Results of other ids read meanwhile are kept, so a later ``collect`` for them still finds them.
        """
        assert self._consumer is not None
        wanted = set(ids)
        deadline = time.monotonic() + timeout_s
        while wanted - self._seen.keys() and time.monotonic() < deadline:
            batches = await self._consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for record in records:
                    doc = orjson.loads(record.value or b"{}")
                    if doc.get("type") == "chunk":  # a streamed answer's piece; its result follows
                        continue
                    result = LLMResult.model_validate(doc)
                    self._seen.setdefault(result.id, result)
        return {rid: self._seen[rid] for rid in wanted if rid in self._seen}


def new_request_id(prefix: str = "req") -> str:
    """A unique request id."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


async def read_topic(bootstrap: KafkaTarget, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record currently on ``topic`` (all partitions, from the beginning, up to the current end)."""
    consumer = AIOKafkaConsumer(**connection(bootstrap).client_kwargs(), enable_auto_commit=False, group_id=None)
    try:
        await _start(consumer, bootstrap)
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while True:
            positions = [await consumer.position(tp) for tp in tps]
            if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                return records
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()


async def _start(client: AIOKafkaProducer | AIOKafkaConsumer, bootstrap: KafkaTarget) -> None:
    """Start a producer or consumer; a broker that does not answer is a :class:`BrokerError`."""
    try:
        await client.start()
    except KafkaConnectionError as exc:
        raise BrokerError(f"no Kafka broker answers at {bootstrap}") from exc
