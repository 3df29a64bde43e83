"""An event the broker accepts but the pipeline cannot carry (~3 MB of metadata) is answered, dead-lettered and
acked: its partition's committed offset moves past it and later requests on that partition are answered."""

from __future__ import annotations

import asyncio
import json
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.codes import ErrorCode
from schemas.dead_letter import DeadLetter
from streams.devtools.dev import DevStack
from tests.integration.helpers import request, results_for, topic_docs

BIG_METADATA_BYTES = 3 * 1024 * 1024


async def _produce_big(stack: DevStack, docs: list[dict[str, object]], key: bytes) -> list[tuple[int, int]]:
    # The client may send records far larger than the gateway's own producer request size.
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, max_request_size=8 * 1024 * 1024, linger_ms=0)
    await producer.start()
    try:
        sent = [
            await producer.send_and_wait(stack.settings.topics.requests, json.dumps(d).encode(), key=key) for d in docs
        ]
        return [(meta.partition, meta.offset) for meta in sent]
    finally:
        await producer.stop()


async def _committed_reaches(stack: DevStack, partition: int, end: int, timeout_s: float = 60.0) -> int | None:
    """The worker group's committed offset of ``partition`` once it is at ``end`` (or the last seen)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, group_id=stack.settings.app_id)
    await consumer.start()
    try:
        tp = TopicPartition(stack.settings.topics.requests, partition)
        deadline = time.monotonic() + timeout_s
        committed = await consumer.committed(tp)
        while (committed is None or committed < end) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            committed = await consumer.committed(tp)
        return committed
    finally:
        await consumer.stop()


async def test_a_3_mb_metadata_request_is_answered_dead_lettered_and_its_partition_moves_on(stack: DevStack) -> None:
    big = request("big", metadata={"blob": "m" * BIG_METADATA_BYTES})
    later = [request(f"after {n}") for n in range(5)]
    placed = await _produce_big(stack, [big, *later], key=b"acme")
    partition = placed[0][0]
    assert {p for p, _ in placed} == {partition}

    found = await results_for(stack, [big["id"], *(d["id"] for d in later)])
    refused = found[big["id"]][0]
    assert refused["status"] == "rejected" and refused["error"]["code"] == ErrorCode.PAYLOAD_TOO_LARGE
    assert refused["metadata"] == {}  # the result does not echo what could not fit
    assert all(found[d["id"]][0]["status"] == "ok" for d in later)

    def is_ours(letter: dict[str, object]) -> bool:  # other modules' dead letters share the topic
        return (letter["topic"], letter["partition"], letter["offset"]) == (stack.settings.topics.requests, *placed[0])

    letters = await topic_docs(stack, stack.settings.topics.dlq, lambda rs: any(is_ours(r.json()) for r in rs))
    letter = DeadLetter.model_validate(next(d for d in letters if is_ours(d)))
    assert letter.truncated and letter.raw_size > BIG_METADATA_BYTES and len(letter.raw_b64) < 1024 * 1024

    end = placed[-1][1] + 1
    assert await _committed_reaches(stack, partition, end) == end
