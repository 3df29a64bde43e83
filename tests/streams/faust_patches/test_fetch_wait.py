"""The fetch wait: Faust's worker consumer waits 1.5 s whatever the settings say; ours waits what they say, and
longer only once records have stopped arriving."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiokafka
import faust
import pytest
from aiokafka import TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams.faust_patches import fetch_wait, patching
from streams.faust_patches.fetch_wait import IdleWait
from streams.runtime.admin import ensure_topics
from tests.support.kafka import produce


@pytest.fixture
async def app() -> AsyncIterator[faust.App]:
    """An app that is never started (its worker consumer is only built, never connected)."""
    yield faust.App("test-fetch-wait", broker="kafka://127.0.0.1:1")


async def built_worker_consumer(app: faust.App) -> aiokafka.AIOKafkaConsumer:
    """What Faust's consumer thread builds at start-up, built and closed without connecting."""
    thread = app.consumer._thread  # type: ignore[attr-defined]
    consumer: aiokafka.AIOKafkaConsumer = thread._create_worker_consumer(app.transport)
    await consumer.stop()
    return consumer


async def test_upstream_hard_codes_a_1500_ms_fetch_wait(app: faust.App) -> None:
    fetch_wait.install(fetch_max_wait_ms=10)
    fetch_wait.install(fetch_max_wait_ms=10)
    patching.restore(AIOKafkaConsumerThread, "_create_worker_consumer")
    consumer = await built_worker_consumer(app)
    assert consumer._fetch_max_wait_ms == 1500


async def test_ours_waits_what_the_settings_say(app: faust.App) -> None:
    fetch_wait.install(fetch_max_wait_ms=20)
    fetch_wait.install(fetch_max_wait_ms=7, fetch_min_bytes=4096)  # the latest install wins, wrapped once
    installed = AIOKafkaConsumerThread._create_worker_consumer
    assert installed.__wrapped__ is patching.upstream(AIOKafkaConsumerThread, "_create_worker_consumer")  # type: ignore[attr-defined]
    consumer = await built_worker_consumer(app)
    assert consumer._fetch_max_wait_ms == 7 and consumer._fetch_min_bytes == 4096
    assert consumer._group_id == "test-fetch-wait"  # still the consumer Faust built, only the wait changed


async def test_aiokafka_keeps_its_fetch_wait_where_the_wrapper_sets_it() -> None:
    consumer = aiokafka.AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1", fetch_max_wait_ms=321, fetch_min_bytes=7)
    assert consumer._fetch_max_wait_ms == 321 and consumer._fetch_min_bytes == 7
    await consumer.stop()


def test_the_wait_stays_short_while_records_arrive_and_grows_with_the_quiet_up_to_the_cap() -> None:
    policy = IdleWait(busy_ms=10, idle_ms=500, share=0.05)
    assert policy.after_fetch(False, 100.0) == 10  # the first answer starts the clock
    assert policy.after_fetch(False, 100.1) == 10  # 100 ms of quiet: 5 ms, never below the busy wait
    assert policy.after_fetch(False, 102.0) == 100  # 2 s of quiet: 5 % of it
    assert policy.after_fetch(False, 200.0) == 500  # capped
    assert policy.after_fetch(True, 200.5) == 10  # records: straight back to the busy wait
    assert policy.after_fetch(False, 201.5) == 50  # and the quiet counts from them


def test_an_idle_wait_not_above_the_busy_one_keeps_the_wait_fixed() -> None:
    policy = IdleWait(busy_ms=10, idle_ms=0)
    assert [policy.after_fetch(False, t) for t in (0.0, 5.0, 500.0)] == [10, 10, 10]


async def test_the_worker_consumer_adapts_its_fetcher_only_when_the_idle_wait_is_longer(app: faust.App) -> None:
    fetch_wait.install(fetch_max_wait_ms=10, fetch_idle_wait_ms=10)
    fixed = await built_worker_consumer(app)
    assert "start" not in vars(fixed)
    fetch_wait.install(fetch_max_wait_ms=10, fetch_idle_wait_ms=500)
    adapting = await built_worker_consumer(app)
    assert "start" in vars(adapting)  # its own start(), which adapts the fetcher start() builds


@dataclass
class Recorded(IdleWait):
    """The policy, remembering every answer it saw and the wait it chose after it."""

    seen: list[tuple[bool, int]] = field(default_factory=list)

    def after_fetch(self, found: bool, now: float) -> int:
        wait = super().after_fetch(found, now)
        self.seen.append((found, wait))
        return wait


async def test_a_fetcher_lengthens_its_wait_when_idle_and_shortens_it_when_a_record_lands(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    topic = unique_topic_prefix + "fetch-wait"
    await ensure_topics(kafka_bootstrap, {topic: 2})
    consumer = aiokafka.AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await consumer.start()
    try:
        policy = Recorded(10, 400, share=1.0)  # the wait follows the quiet one for one: longer within a few fetches
        fetch_wait.adapt(consumer._fetcher, policy)
        tps = [TopicPartition(topic, p) for p in (0, 1)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        while consumer._fetcher._fetch_max_wait_ms <= 10:  # noqa: ASYNC110  # the fetcher has no signal for its wait
            await asyncio.sleep(0.05)
        await produce(kafka_bootstrap, topic, [b"wake"])
        got = await consumer.getmany(timeout_ms=30_000)
        assert [m.value for ms in got.values() for m in ms] == [b"wake"]
        found = policy.seen.index((True, 10))  # the answer with the record set the busy wait again
        assert not any(hit for hit, _ in policy.seen[:found])
        assert 10 < max(wait for _, wait in policy.seen[:found]) <= 400
    finally:
        await consumer.stop()
