"""Starting what a scenario needs: a :class:`DevStack` with generous limits, warmed up and checked."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import redis

from bench.load import Tap, new_producer, parse_result
from bench.payloads import misses, run_tag
from bench.probe import screened
from bench.runs import fixed_rate
from gateway.settings import Settings
from streams.devtools.dev import DevStack

BENCH_DIR = Path(".streamgate/bench")
LIMITS_ENV = {"STREAMGATE_LIMITS__DEFAULT_TIER": "pro"}


def redis_ok(settings: Settings) -> bool:
    """Whether the exact cache's Redis answers (without it every lookup degrades to a miss)."""
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1.0)
        return bool(client.ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def bench_stack(
    settings: Settings, name: str, *, workers: int = 1, latency_ms: float = 0.0, config_file: Path | None = None
) -> Iterator[DevStack]:
    """A started stack (broker unless ``KAFKA_BOOTSTRAP_SERVERS``, simulator, ``workers`` workers), answering;
    ``config_file`` is handed to the workers (``settings`` should be loaded from it too)."""
    env = {key: value for key, value in LIMITS_ENV.items() if key not in os.environ}
    started = time.monotonic()
    with DevStack(
        settings,
        workers=workers,
        log_dir=BENCH_DIR / name / "logs",
        simulator_latency_ms=latency_ms,
        extra_env=env,
        config_file=config_file,
    ) as stack:
        asyncio.run(stack.wait_ready(timeout_s=120))
        asyncio.run(warm_up(stack))
        print(
            f"  [{name}] stack ready in {time.monotonic() - started:.1f} s: broker {stack.bootstrap}, "
            f"{workers} worker(s), provider latency {latency_ms:.0f} ms",
            flush=True,
        )
        yield stack


def add_worker(stack: DevStack) -> None:
    """Start one more worker on a running stack and wait until it has taken over partitions."""
    stack.start_worker(len(stack.worker_ports))
    asyncio.run(warm_up(stack))


async def warm_up(stack: DevStack, attempts: int = 15) -> None:
    """Send a few hundred requests until every worker screens some (i.e. owns partitions after the rebalance)."""
    workers = len(stack.worker_ports)
    topics = stack.settings.topics
    tag = run_tag()
    tap = await Tap(stack.kafka, topics.results, parse_result).start()
    producer = await new_producer(stack.kafka)
    try:
        async with aiohttp.ClientSession() as session:
            for attempt in range(attempts):
                before = [await screened(session, port) for port in stack.worker_ports]
                await fixed_rate(producer, topics.requests, tap, misses(tag, f"w{attempt}", 200), 200, timeout_s=30)
                after = [await screened(session, port) for port in stack.worker_ports]
                if all(a > b for a, b in zip(after, before, strict=True)):
                    return
                await asyncio.sleep(2.0)
        raise RuntimeError(f"not every one of {workers} workers took part after {attempts} warm-ups")
    finally:
        await producer.stop()
        await tap.stop()


def worker_pids(stack: DevStack) -> list[int]:
    """Process ids of the stack's workers, in index order."""
    return [stack._procs[f"worker-{index}"].pid for index in range(len(stack.worker_ports))]
