"""End offsets that cover a partition's whole last record batch, on the real broker the tests run against."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.faust_patches.end_offsets import true_end_offsets
from streams.runtime.admin import ensure_topics


async def test_end_offsets_reach_past_the_first_record_of_the_last_batch(
    kafka_bootstrap: str, unique_topic_prefix: str
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
        # The embedded broker answers 7 here (the last batch's base offset + 1); a real Kafka broker answers 26.
        ends = await true_end_offsets(kafka_bootstrap, reported)
        assert ends[written] == last + 1 == 26
        assert ends[empty] == 0
    finally:
        await producer.stop()
        await consumer.stop()


async def test_nothing_is_fetched_when_no_partition_has_records() -> None:
    # An unreachable broker proves no connection is attempted for empty partitions.
    assert await true_end_offsets("127.0.0.1:1", {"tp": 0}) == {"tp": 0}
