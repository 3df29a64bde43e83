"""End offsets that cover a partition's whole last record batch, on the real broker the tests run against, and
how Faust's recovery is made to use them."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams.faust_patches import end_offsets
from streams.faust_patches.end_offsets import true_end_offsets
from streams.runtime.admin import ensure_topics
from tests.support.kafka import KafkaTarget


async def test_end_offsets_reach_past_the_first_record_of_the_last_batch(
    kafka_broker: KafkaTarget, kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    topic = unique_topic_prefix + "batches"
    await ensure_topics(kafka_bootstrap, {topic: 2})
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=50)
    await producer.start()
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        written = TopicPartition(topic, 0)
        empty = TopicPartition(topic, 1)
        for size in (1, 5, 20):  # one record batch each (linger): 26 records, the last batch starts at offset 6
            sent = [await producer.send(topic, b"x" * 100, partition=0) for _ in range(size)]
            last = (await asyncio.gather(*sent))[-1].offset
        reported = await consumer.end_offsets([written, empty])
        # What Faust recovers to upstream: the embedded broker answers 7 here (the last batch's base offset + 1),
        # a real Kafka broker answers 26.
        if kafka_broker.kind == "embedded":
            assert reported[written] < last + 1
        ends = await true_end_offsets(kafka_bootstrap, reported)
        assert ends[written] == last + 1 == 26
        assert ends[empty] == 0
    finally:
        await producer.stop()
        await consumer.stop()


async def test_nothing_is_fetched_when_no_partition_has_records() -> None:
    # An unreachable broker proves no connection is attempted for empty partitions.
    assert await true_end_offsets("127.0.0.1:1", {"tp": 0}) == {"tp": 0}


async def test_installed_recovery_ends_at_the_true_end_outside_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[object, dict[str, int]]] = []

    async def upstream_highwaters(self: object, partitions: object) -> dict[str, int]:
        return {"tp": 7}

    async def raised(servers: object, reported: dict[str, int]) -> dict[str, int]:
        seen.append((servers, reported))
        return {"tp": 26}

    monkeypatch.setattr(AIOKafkaConsumerThread, "_highwaters", upstream_highwaters)
    monkeypatch.setattr(end_offsets, "true_end_offsets", raised)
    end_offsets.install()
    end_offsets.install()  # again: one layer over upstream's
    assert AIOKafkaConsumerThread._highwaters.__wrapped__ is upstream_highwaters  # type: ignore[attr-defined]
    client = SimpleNamespace(_bootstrap_servers="broker:9092")
    thread: Any = SimpleNamespace(consumer=SimpleNamespace(in_transaction=False))
    thread._ensure_consumer = lambda: SimpleNamespace(_client=client)
    assert await AIOKafkaConsumerThread._highwaters(thread, ["tp"]) == {"tp": 26}
    assert seen == [("broker:9092", {"tp": 7})]
    thread.consumer.in_transaction = True  # last stable offsets are right as reported
    assert await AIOKafkaConsumerThread._highwaters(thread, ["tp"]) == {"tp": 7}
