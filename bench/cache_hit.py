"""Cache-hit path: warm the exact cache with a set of prompts, then replay them (new ids) at stepped rates.

A hit is answered by the cache stage and goes straight to settlement: screen -> cache -> account, no provider.
"""

from __future__ import annotations

from typing import Any

from bench.capacity import RampPlan, capacity
from bench.load import Tap, new_producer, parse_result
from bench.payloads import payloads, prompts, replays, run_tag
from bench.runs import MakePayloads, fixed_rate
from streams.devtools.dev import DevStack

WARM_RATE = 150.0
"""Warm-up requests per second: below what one worker serves, so warming takes count / rate seconds."""


async def warm(stack: DevStack, tag: str, count: int, rate: float = WARM_RATE) -> int:
    """Ask ``count`` new prompts once so their answers are cached; returns how many were answered ``ok``."""
    topics = stack.settings.topics
    tap = await Tap(stack.kafka, topics.results, parse_result).start()
    producer = await new_producer(stack.kafka)
    try:
        result = await fixed_rate(
            producer, topics.requests, tap, payloads(tag, "warm", prompts(tag, count)), rate, timeout_s=60
        )
    finally:
        await producer.stop()
        await tap.stop()
    return result.statuses.get("ok", 0)


async def cache_hit(
    stack: DevStack, plan: RampPlan, *, runs: int, prompt_count: int, earlier: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Warm ``prompt_count`` prompts, then ramp replays of them (the report counts the answers from the cache)."""
    tag = run_tag()
    warmed = await warm(stack, tag, prompt_count)
    print(f"    warmed the cache with {warmed} answers", flush=True)
    items = prompts(tag, prompt_count)

    def make(run: int) -> MakePayloads:
        return lambda batch, count: replays(tag, f"hit{run}{batch}", items, count)

    result = await capacity(stack, make, plan, runs=runs, earlier=earlier)
    result["warmed"] = warmed + (earlier or {}).get("warmed", 0)
    return result
