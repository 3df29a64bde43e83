"""Read the usage topic over a time range, with a progress bar on stderr (``streamgate usage``)."""

from __future__ import annotations

import logging
import sys

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from pydantic import ValidationError
from tqdm import tqdm

from gateway.errors import BrokerError
from gateway.kafka_security import KafkaTarget, connection
from gateway.usage_report.timerange import TimeRange
from schemas.usage import UsageEvent


async def _start_offsets(consumer: AIOKafkaConsumer, tps: list[TopicPartition], start_ms: int | None) -> None:
    """Seek to the first record at or after ``start_ms`` (by broker timestamp), or to the beginning."""
    await consumer.seek_to_beginning(*tps)
    if start_ms is None:
        return
    try:
        found = await consumer.offsets_for_times(dict.fromkeys(tps, start_ms))
    except Exception:  # a broker without timestamp lookups: read from the beginning and filter
        return
    ends = await consumer.end_offsets(tps)
    for tp in tps:
        hit = found.get(tp)
        consumer.seek(tp, hit.offset if hit is not None else ends[tp])


async def read_usage(
    bootstrap: KafkaTarget, topic: str, window: TimeRange, *, progress: bool = True
) -> tuple[list[UsageEvent], int]:
    """Every usage event on ``topic`` now whose ``ts_ms`` is in ``window``, and how many records did not parse."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # an unreachable broker is our one line, not theirs
    consumer = AIOKafkaConsumer(**connection(bootstrap).client_kwargs(), enable_auto_commit=False, group_id=None)
    try:
        await consumer.start()
    except KafkaConnectionError as exc:
        await consumer.stop()
        raise BrokerError(f"no Kafka broker answers at {bootstrap}") from exc
    events: list[UsageEvent] = []
    bad = 0
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return [], 0
        consumer.assign(tps)
        await _start_offsets(consumer, tps, window.start_ms)
        ends = await consumer.end_offsets(tps)
        remaining = {tp: max(0, ends[tp] - await consumer.position(tp)) for tp in tps}
        with tqdm(total=sum(remaining.values()), unit="ev", file=sys.stderr, disable=not progress, desc=topic) as bar:
            # The end offsets are a lower bound: read until every partition reached them and a fetch comes back
            # empty (the embedded broker reports the last batch's base offset + 1 as a partition's end).
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                for batch in batches.values():
                    bar.update(len(batch))
                    for record in batch:
                        try:
                            event = UsageEvent.model_validate_json(record.value or b"")
                        except ValidationError:
                            bad += 1
                            continue
                        if window.contains(event.ts_ms):
                            events.append(event)
                if not batches and all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                    break
    finally:
        await consumer.stop()
    return events, bad
