"""The fetch wait: Faust's worker consumer waits 1.5 s whatever the settings say; ours waits what they say."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiokafka
import faust
import pytest
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams.faust_patches import fetch_wait, patching


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
