"""The stream's dependencies failing under it: the providers (outage, flapping, hangs), Redis (stopped and
restarted: a private server) and the broker (frozen with SIGSTOP: a private one). Workers are never restarted
here; they must recover by themselves, and the audit (:mod:`tests.chaos.audit`) holds as after a crash."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import time
from pathlib import Path

import pytest

from streams.devtools.embedded_broker import EmbeddedBroker
from tests.chaos.audit import Figures, audit, collect
from tests.chaos.control import readiness, wait_ready
from tests.chaos.traffic import MODEL, Stream, chaos_config
from tests.support.gateway import gateway_stack
from tests.support.redis import StoppableRedis

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(1200)]

REQUESTS = 1000
RATE = 25.0
HAIKU = "claude-3-5-haiku-latest"  # the upstream name of gpt-4o-mini's fallback


async def test_provider_outage_flapping_and_hangs(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path, figures: Figures
) -> None:
    # A short breaker cooldown: with the default 30 s a 6 s outage would keep the circuit open past the stream.
    extra = "[resilience]\nattempt_timeout_s = 3\n[resilience.breaker]\ncooldown_s = 2\n"
    config = chaos_config(tmp_path / "chaos.toml", extra=extra)
    started = time.monotonic()
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path, config_file=config, simulator_latency_ms=50) as stack:
        stream = Stream(stack.bootstrap, stack.settings.topics.requests, REQUESTS, RATE)
        publishing = asyncio.create_task(stream.publish())
        fault = stack.simulator_fault
        await asyncio.sleep(4)
        fault(model=MODEL, replace=True, error_rate=1.0, error_status=503)  # outage: the fallback serves
        await asyncio.sleep(6)
        fault(model=HAIKU, replace=True, error_rate=1.0, error_status=500)  # both down: all_providers_failed
        await asyncio.sleep(3)
        fault(model=HAIKU, replace=True)
        for flip in range(8):  # flapping, one second each way
            fault(model=MODEL, replace=True, error_rate=1.0 if flip % 2 == 0 else 0.0, error_status=502)
            await asyncio.sleep(1)
        fault(model=MODEL, replace=True, hang=True)  # hangs: attempts time out, then the fallback serves
        await asyncio.sleep(6)
        fault(model=MODEL, replace=True, error_rate=0.3, error_status=500)  # an unreliable primary
        await asyncio.sleep(4)
        fault(model=MODEL, replace=True)
        await publishing
        figures.notes.update(stream_s=round(stream.finished - stream.started, 1))
        await audit(stack, figures, stream.ids)
        assert figures.statuses.get("ok", 0) > REQUESTS // 2, figures.statuses
        assert "internal_error" not in figures.statuses, figures.statuses
    figures.seconds = time.monotonic() - started


async def test_redis_stopped_and_restarted_mid_stream(tmp_path: Path, kafka_bootstrap: str, figures: Figures) -> None:
    """While Redis is down every request is still answered and every budget stays exact (tables live in Kafka);
    what is lost meanwhile is the answer cache and the completion store (a redelivery in that window could pay
    again: none happens here, so the paid count must still be exact)."""
    redis = StoppableRedis(tmp_path / "redis")
    redis.start()
    config = chaos_config(tmp_path / "chaos.toml")
    started = time.monotonic()
    try:
        with gateway_stack(kafka_bootstrap, redis.url, tmp_path, config_file=config, simulator_latency_ms=100) as stack:
            stream = Stream(stack.bootstrap, stack.settings.topics.requests, REQUESTS, RATE)
            publishing = asyncio.create_task(stream.publish())
            await asyncio.sleep(8)
            down_at = time.time()
            redis.stop()
            await asyncio.sleep(10)
            redis.start()
            up_at = time.time()
            await publishing
            await audit(stack, figures, stream.ids)
            records = await collect(stack, stack.settings.topics.results, set(stream.ids), "id", 30)
            during = [r.json()["latency_ms"] for r in records if down_at * 1000 <= r.timestamp_ms <= up_at * 1000]
            others = [r.json()["latency_ms"] for r in records if not down_at * 1000 <= r.timestamp_ms <= up_at * 1000]
            assert during, "nothing was answered while Redis was down"
            figures.notes.update(
                redis_down_s=round(up_at - down_at, 1),
                answered_while_down=len(during),
                p50_ms_down=round(statistics.median(during)),
                p50_ms_up=round(statistics.median(others)),
            )
    finally:
        redis.stop()
    figures.seconds = time.monotonic() - started


async def test_broker_frozen_and_resumed(tmp_path: Path, redis_url: str, figures: Figures) -> None:
    """SIGSTOP the broker for 10-30 s under the stream, then SIGCONT: the same worker process carries on by
    itself (it is never restarted) and the audit holds."""
    config = chaos_config(tmp_path / "chaos.toml")
    started = time.monotonic()
    with EmbeddedBroker(tmp_path / "broker") as broker, gateway_stack(
        broker.bootstrap_servers, redis_url, tmp_path, config_file=config, simulator_latency_ms=100
    ) as stack:
        worker_pid = stack.pid("worker-0")
        stream = Stream(stack.bootstrap, stack.settings.topics.requests, REQUESTS, RATE)
        publishing = asyncio.create_task(stream.publish())
        await asyncio.sleep(8)
        frozen_s = random.uniform(10, 30)
        os.killpg(broker.pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(frozen_s / 2)
            noticed = await readiness(stack, 0)
            await asyncio.sleep(frozen_s / 2)
        finally:
            os.killpg(broker.pid, signal.SIGCONT)
        resumed = time.monotonic()
        assert noticed is not None and "broker" in noticed["failing"], noticed
        await wait_ready(stack, 0)
        recovered_s = time.monotonic() - resumed
        await publishing
        await audit(stack, figures, stream.ids)
        assert stack.pid("worker-0") == worker_pid
        figures.notes.update(frozen_s=round(frozen_s, 1), ready_again_s=round(recovered_s, 1))
    figures.seconds = time.monotonic() - started
