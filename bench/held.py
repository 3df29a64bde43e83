"""Memory with thousands of requests held: a slow provider keeps every request of a steady stream in flight.

The 1 s-latency ramp cannot reach 2,000 requests in flight unless one worker sustains 2,000 req/s; the memory
target does not depend on that rate. Here the simulator answers after :data:`LATENCY_MS`, and requests are
offered for less than that at a rate one worker screens easily, so every one of them is in flight (screened,
waiting on its provider call) before the first answer comes back. The worker's RSS is sampled throughout.
"""

from __future__ import annotations

import aiohttp

from bench.load import Tap, new_producer, parse_result
from bench.payloads import misses, run_tag
from bench.probe import worker_sampler
from bench.runs import RunResult, fixed_rate, sampled
from bench.stack import worker_pids
from bench.stats import figures, latency_summary
from streams.devtools.dev import DevStack

LATENCY_MS = 20_000.0
RATE = 125.0
OFFER_S = 16.0
"""2,000 requests, all published (and screened) within 16 s: none is answered before the 20th second, and all fit
under the default ``max_in_flight`` (2,048), so none waits for a free completion slot."""


async def held(stack: DevStack, *, runs: int) -> dict[str, object]:
    """``runs`` times: offer :data:`RATE` req/s for :data:`OFFER_S`; peak in flight, peak RSS, overhead."""
    topics = stack.settings.topics
    rows: list[dict[str, float]] = []
    tap = await Tap(stack.kafka, topics.results, parse_result).start()
    producer = await new_producer(stack.kafka)
    try:
        async with aiohttp.ClientSession() as session:
            sampler = worker_sampler(session, stack.worker_ports, worker_pids(stack))
            for run in range(runs):
                payloads = misses(run_tag(), f"held{run}", int(RATE * OFFER_S))
                run_timeout = LATENCY_MS / 1000 + 60
                result = await sampled(
                    fixed_rate(producer, topics.requests, tap, payloads, RATE, timeout_s=run_timeout), sampler
                )
                rows.append(_row(result))
                print(
                    f"    run {run + 1}: {result.answered}/{result.sent} answered, peak in flight "
                    f"{rows[-1]['peak_in_flight']:,.0f}, peak RSS {rows[-1]['peak_rss_mb']:,.0f} MB, overhead p50 "
                    f"{rows[-1]['overhead_p50']:,.0f} / p99 {rows[-1]['overhead_p99']:,.0f} ms",
                    flush=True,
                )
    finally:
        await producer.stop()
        await tap.stop()
    return {"latency_ms": LATENCY_MS, "rate": RATE, "runs": rows, "figures": figures(rows)}


def _row(result: RunResult) -> dict[str, float]:
    overhead = latency_summary(result.overhead_ms)
    return {
        "answered": float(result.answered),
        "sent": float(result.sent),
        "rejected": float(result.statuses.get("rejected", 0)),
        "peak_in_flight": result.samples.get("peak_in_flight", float("nan")),
        "peak_rss_mb": result.samples.get("peak_rss_mb_w0", float("nan")),
        "overhead_p50": overhead["p50"],
        "overhead_p99": overhead["p99"],
    }
