"""Redis stopped and started under a running worker: every request is still answered, and the cache comes back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bench import probe
from streams.devtools.dev import DevStack
from tests.integration.helpers import publish, request, results_for
from tests.support.gateway import gateway_stack
from tests.support.redis import StoppableRedis


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[StoppableRedis]:
    server = StoppableRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


async def ask(stack: DevStack, text: str) -> dict[str, object]:
    doc = request(text, cache={"mode": "default"})
    await publish(stack, [doc])
    return (await results_for(stack, [doc["id"]]))[doc["id"]][0]


async def test_requests_are_answered_while_redis_is_down_and_the_cache_recovers(
    kafka_bootstrap: str, own_redis: StoppableRedis, tmp_path: Path
) -> None:
    with gateway_stack(kafka_bootstrap, own_redis.url, tmp_path) as stack:
        text = f"Tell me about Redis restarts, case {uuid.uuid4().hex}"  # a sentence: see test_cache_e2e
        assert (await ask(stack, text))["cached"] is False
        assert (await ask(stack, text))["cache_hit"] == "exact"
        own_redis.stop()
        during = [await ask(stack, text) for _ in range(3)]
        assert all(r["status"] == "ok" and r["cached"] is False for r in during)
        own_redis.start()  # empty: no persistence
        await asyncio.sleep(1.5)  # the cache leaves Redis alone for retry_after_s after a failure
        assert (await ask(stack, text))["cached"] is False
        assert (await ask(stack, text))["cache_hit"] == "exact"  # recovered by itself
        async with aiohttp.ClientSession() as session:
            totals = await probe.metrics(session, stack.worker_ports[0])
        assert totals.get("streamgate_cache_errors_total", 0) > 0
        log = (stack.log_dir / "worker-0.log").read_text(errors="replace")
        assert log.count("response cache unavailable, bypassing it") >= 1
