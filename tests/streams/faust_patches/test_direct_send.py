"""Direct sends: records reach the aiokafka producer under Faust's as Faust would send them, in order, with futures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata, TopicPartition

from streams.faust_patches.changelog_barrier import ChangelogBarrier, install
from streams.faust_patches.direct_send import ChangelogOutbox, kafka_producer
from streams.runtime.delivery import send


class Producer(AIOKafkaProducer):
    """An aiokafka producer that is never started: it records what it is handed and answers with its futures."""

    def __init__(self) -> None:
        super().__init__(bootstrap_servers="127.0.0.1:1")
        self.sent: list[dict[str, Any]] = []
        self.futures: list[asyncio.Future[Any]] = []
        self.refuse: BaseException | None = None

    async def send(self, topic: str, value: Any = None, key: Any = None, partition: Any = None, **kw: Any) -> Any:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append({"topic": topic, "key": key, "value": value, "partition": partition} | kw)
        self.futures.append(asyncio.get_running_loop().create_future())
        return self.futures[-1]

    def answer(self, index: int, offset: int) -> None:
        sent = self.sent[index]
        tp = TopicPartition(sent["topic"], sent["partition"] or 0)
        self.futures[index].set_result(RecordMetadata(tp.topic, tp.partition, tp, offset, -1, 0, 0))


@pytest.fixture
async def app() -> AsyncIterator[faust.App]:
    """An app that is never started, with a table like the ledger's."""
    yield faust.App("test-direct-send", broker="kafka://127.0.0.1:1", store="memory://")


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_changelog_records_are_serialised_as_faust_does_and_sent_in_order(app: faust.App) -> None:
    table = app.Table("usage", default=None, partitions=8)
    producer, outbox = Producer(), ChangelogOutbox()
    first = outbox.put(producer, table, 3, "tenant-a", {"usd": 1.5})
    second = outbox.put(producer, table, 5, "tenant-b", None, value_serializer="raw")  # a delete
    assert (first.message.partition, second.message.partition) == (3, 5)  # what Table.on_key_set reads
    assert len(outbox) == 2 and producer.sent == []  # handed over by one task, not inline
    await settle()
    topic = table.changelog_topic
    key, _ = topic.prepare_key("tenant-a", table.key_serializer, None, topic.prepare_headers(None))
    value, _ = topic.prepare_value({"usd": 1.5}, table.value_serializer, None, topic.prepare_headers(None))
    assert producer.sent == [
        {"topic": topic.get_topic_name(), "key": key, "value": value, "partition": 3, "headers": None},
        {"topic": topic.get_topic_name(), "key": b'"tenant-b"', "value": None, "partition": 5, "headers": None},
    ]
    assert not first.done()  # only once the broker has it
    producer.answer(1, offset=41)
    producer.answer(0, offset=40)
    await settle()
    assert first.result().offset == 40 and second.result().offset == 41


async def test_a_refused_record_fails_its_future_and_the_next_ones_still_go(app: faust.App) -> None:
    table = app.Table("requests", default=None, partitions=8, value_type=bytes)
    producer, outbox = Producer(), ChangelogOutbox()
    producer.refuse = RuntimeError("producer stopped")
    refused = outbox.put(producer, table, 0, "k1", b"v1")
    await settle()
    assert isinstance(refused.exception(), RuntimeError)
    producer.refuse = None
    later = outbox.put(producer, table, 0, "k2", b"v2")
    await settle()
    producer.answer(0, offset=7)
    await settle()
    assert later.result().offset == 7


async def test_records_cancelled_with_the_app_fail_the_one_in_its_send_and_the_queued_ones(app: faust.App) -> None:
    table = app.Table("usage", default=None, partitions=8)
    blocked = asyncio.Event()

    class Stuck(Producer):
        async def send(self, topic: str, value: Any = None, key: Any = None, partition: Any = None, **kw: Any) -> Any:
            blocked.set()
            await asyncio.Event().wait()  # the broker's metadata never comes

    producer, outbox = Stuck(), ChangelogOutbox()
    in_send = outbox.put(producer, table, 1, "k1", {"n": 1})
    queued = outbox.put(producer, table, 1, "k2", {"n": 2})
    await blocked.wait()
    drain = outbox._drain
    assert drain is not None
    drain.cancel()
    with pytest.raises(asyncio.CancelledError):
        await drain
    assert in_send.cancelled() and queued.cancelled()  # none left pending for the barrier to wait on
    assert len(outbox) == 0


async def test_a_failed_delivery_reaches_the_future(app: faust.App) -> None:
    table = app.Table("usage", default=None, partitions=8)
    producer, outbox = Producer(), ChangelogOutbox()
    written = outbox.put(producer, table, 1, "k", {"n": 1})
    await settle()
    producer.futures[0].set_exception(ConnectionError("broker gone"))
    await settle()
    assert isinstance(written.exception(), ConnectionError)


async def test_table_writes_go_through_the_outbox_and_the_barrier_once_the_producer_runs(app: faust.App) -> None:
    table = app.Table("usage", default=None, partitions=8)
    barrier, outbox, producer = ChangelogBarrier(), ChangelogOutbox(), Producer()
    install(barrier, commit_timeout_s=0.05, outbox=outbox)
    app.producer._producer = producer  # type: ignore[attr-defined]  # what Faust's producer holds once started
    assert kafka_producer(app) is producer
    written = table.send_changelog(2, "tenant-a", {"usd": 2.0})
    assert len(barrier) == 1
    await settle()
    assert producer.sent[0]["partition"] == 2
    producer.answer(0, offset=3)
    await settle()
    assert written.done() and len(barrier) == 0


async def test_send_goes_straight_to_the_producer_once_it_runs(app: faust.App) -> None:
    topic = app.topic("llm.results", key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    assert kafka_producer(app) is None  # not started: Faust's own path (exercised by the integration tests)
    producer = Producer()
    app.producer._producer = producer  # type: ignore[attr-defined]
    future = await send(topic, b"id-1", b"{}", headers=[("h", b"1")])
    assert producer.sent == [
        {"topic": "llm.results", "key": b"id-1", "value": b"{}", "partition": None, "headers": [("h", b"1")]}
    ]
    assert future is producer.futures[0]
