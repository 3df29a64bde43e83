"""The baseline's far end: a bare aiokafka consumer that republishes every record it reads, unchanged.

Run as ``python -m bench.echo BOOTSTRAP SOURCE TARGET GROUP FETCH_WAIT_MS LINGER_MS`` in its own process (like a
worker). It consumes ``SOURCE`` in consumer group ``GROUP`` with the worker's fetch wait and produces to ``TARGET``
with the worker's linger, so produce -> consume -> produce -> consume through it is the cost of one Kafka hop and
back with nothing else on the path.
"""

from __future__ import annotations

import asyncio
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gateway.settings import load_settings


async def echo(bootstrap: str, source: str, target: str, group: str, fetch_wait_ms: int, linger_ms: int) -> None:
    """Republish ``source`` to ``target`` (same key and partition) until killed."""
    kafka = load_settings().kafka_connection(bootstrap)  # the [kafka] security of the bench's environment
    consumer = AIOKafkaConsumer(
        source,
        **kafka.client_kwargs(),
        group_id=group,
        fetch_max_wait_ms=fetch_wait_ms,
        auto_offset_reset="latest",
        enable_auto_commit=True,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_partition_fetch_bytes=4 << 20,
    )
    producer = AIOKafkaProducer(
        **kafka.client_kwargs(), linger_ms=linger_ms, max_batch_size=1 << 20, max_request_size=8 << 20
    )
    await consumer.start()
    await producer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            for tp, records in batches.items():
                for record in records:
                    await producer.send(target, value=record.value, key=record.key, partition=tp.partition)
    finally:
        await producer.stop()
        await consumer.stop()


def main(argv: list[str]) -> None:
    """Entry point of ``python -m bench.echo``."""
    bootstrap, source, target, group, fetch_wait, linger = argv
    asyncio.run(echo(bootstrap, source, target, group, int(fetch_wait), int(linger)))


if __name__ == "__main__":
    main(sys.argv[1:])
