"""Cache-hit path: warm the exact cache with a set of prompts, then replay them (new ids) at stepped rates.

A hit is answered by the cache stage and goes straight to settlement: screen -> cache -> account, no provider.
"""

from __future__ import annotations

from typing import Any

from bench.capacity import RampPlan, capacity
from bench.load import Tap, new_producer, parse_result
from bench.payloads import payloads, prompts, replays, run_tag
from bench.runs import MakePayloads, fixed_rate
from streams.dev import DevStack

WARM_PROMPTS = 2048


async def warm(stack: DevStack, tag: str, count: int = WARM_PROMPTS, rate: float = 500.0) -> int:
    """Ask ``count`` new prompts once so their answers are cached; returns how many were answered ``ok``."""
    topics = stack.settings.topics
    tap = await Tap(stack.bootstrap, topics.results, parse_result).start()
    producer = await new_producer(stack.bootstrap)
    try:
        result = await fixed_rate(
            producer, topics.requests, tap, payloads(tag, "warm", prompts(tag, count)), rate, timeout_s=60
        )
    finally:
        await producer.stop()
        await tap.stop()
    return result.statuses.get("ok", 0)


async def cache_hit(stack: DevStack, plan: RampPlan, *, runs: int) -> dict[str, Any]:
    """Warm, then ramp replays; also reports how many replies were not served from the cache."""
    tag = run_tag()
    warmed = await warm(stack, tag)
    print(f"    warmed the cache with {warmed} answers", flush=True)
    items = prompts(tag, WARM_PROMPTS)

    def make(run: int) -> MakePayloads:
        return lambda batch, count: replays(tag, f"hit{run}{batch}", items, count)

    result = await capacity(stack, make, plan, runs=runs)
    result["warmed"] = warmed
    return result
