"""Overhead: what the gateway adds to a provider call, at fixed offered rates, on cache misses.

End-to-end latency is measured from a request's due time (see :mod:`bench.load`) to the arrival of its result;
the overhead is that minus the provider time recorded in the result's attempt log. The simulator answers with
zero latency, every prompt is new (a Redis lookup that misses, then a store), and all six stages run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.hops import hop_breakdown
from bench.load import Tap, new_producer, parse_result
from bench.payloads import misses, run_tag
from bench.runs import RunResult, fixed_rate
from bench.stats import figures
from streams.devtools.dev import DevStack


async def overhead(
    stack: DevStack, *, runs: int, rates: Sequence[float], duration_s: float, hop_rate: float
) -> dict[str, Any]:
    """Per offered rate: figures of every run (median and min-max over ``runs``), then the per-hop costs."""
    topics = stack.settings.topics
    tag = run_tag()
    tap = await Tap(stack.kafka, topics.results, parse_result).start()
    producer = await new_producer(stack.kafka)
    by_rate: dict[float, list[RunResult]] = {rate: [] for rate in rates}
    try:
        for run in range(runs):
            for rate in rates:
                payloads = misses(tag, f"o{run}-{rate:.0f}", int(rate * duration_s))
                result = await fixed_rate(producer, topics.requests, tap, payloads, rate, timeout_s=30)
                by_rate[rate].append(result)
            print(
                f"    run {run + 1}: "
                + ", ".join(
                    f"{rate:.0f}/s overhead p50 {by_rate[rate][-1].summary()['overhead_p50']:.0f} / "
                    f"p99 {by_rate[rate][-1].summary()['overhead_p99']:.0f} ms"
                    for rate in rates
                ),
                flush=True,
            )
        hops = await hop_breakdown(stack, producer, tap, tag, runs=runs, rate=hop_rate, duration_s=duration_s)
    finally:
        await producer.stop()
        await tap.stop()
    return {
        "by_rate": {f"{rate:.0f}": figures([r.summary() for r in results]) for rate, results in by_rate.items()},
        "hops": hops,
        "rejected": sum(r.statuses.get("rejected", 0) for results in by_rate.values() for r in results),
    }
