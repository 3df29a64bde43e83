"""Workers SIGKILLed under a steady stream, alone and while partitions move between two of them.

Nothing may be lost (every id answered), nothing paid twice (one successful simulator call per ``ok`` id), and the
budgets must come out exact (see :mod:`tests.chaos.audit`).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from tests.chaos.audit import Figures, audit
from tests.chaos.control import in_flight, wait_ready, wait_rebalancing
from tests.chaos.traffic import Stream, chaos_config
from tests.support.gateway import gateway_stack

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(1200)]

REQUESTS = 2000
RATE = 25.0  # per second: the stream lasts ~80 s, longer than the restarts take
LATENCY_MS = 100.0


async def test_sigkill_and_restart_five_times(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path, figures: Figures
) -> None:
    config = chaos_config(tmp_path / "chaos.toml")
    started = time.monotonic()
    with gateway_stack(
        kafka_bootstrap, redis_url, tmp_path, config_file=config, simulator_latency_ms=LATENCY_MS
    ) as stack:
        stream = Stream(stack.bootstrap, stack.settings.topics.requests, REQUESTS, RATE)
        publishing = asyncio.create_task(stream.publish())
        exposed = 0
        for _ in range(5):
            await asyncio.sleep(random.uniform(2.0, 5.0))  # the restarted worker is serving again meanwhile
            exposed += await in_flight(stack, 0)
            stack.kill("worker-0")
            stack.start_worker(0)
            await wait_ready(stack, 0)
        await publishing
        stream_s = round(stream.finished - stream.started, 1)
        figures.notes.update(kills=5, in_flight_at_kills=exposed, stream_s=stream_s)
        await audit(stack, figures, stream.ids)
    figures.seconds = time.monotonic() - started


async def test_two_workers_one_killed_while_partitions_move(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path, figures: Figures
) -> None:
    config = chaos_config(tmp_path / "chaos.toml")
    started = time.monotonic()
    with gateway_stack(
        kafka_bootstrap, redis_url, tmp_path, workers=2, config_file=config, simulator_latency_ms=LATENCY_MS
    ) as stack:
        await wait_ready(stack, 1)
        stream = Stream(stack.bootstrap, stack.settings.topics.requests, REQUESTS, RATE)
        publishing = asyncio.create_task(stream.publish())
        cycles, exposed = 3, 0
        for _ in range(cycles):
            await asyncio.sleep(random.uniform(2.0, 5.0))
            # Worker 1 restarts and joins: the group rebalances, partitions move; worker 0 dies in the middle of it.
            exposed += await in_flight(stack, 1)
            stack.kill("worker-1")
            stack.start_worker(1)
            await wait_rebalancing(stack, 0)
            await asyncio.sleep(random.uniform(0.0, 1.0))
            exposed += await in_flight(stack, 0)
            stack.kill("worker-0")
            stack.start_worker(0)
            await wait_ready(stack, 0)
            await wait_ready(stack, 1)
        await publishing
        stream_s = round(stream.finished - stream.started, 1)
        figures.notes.update(kills=2 * cycles, in_flight_at_kills=exposed, stream_s=stream_s)
        await audit(stack, figures, stream.ids)
    figures.seconds = time.monotonic() - started
