"""One measured run (a fixed offered rate for a fixed time) and a ramp of runs that steps the rate up."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from bench.load import Arrival, Payload, Tap, offer
from bench.stats import percentile

STEPS_DOWN = 2
MakePayloads = Callable[[str, int], Sequence[Payload]]
"""``(batch name, count) -> payloads`` for one run."""


@dataclass
class RunResult:
    """What one run measured. Latencies are ms from a message's due time; ``overhead`` excludes provider time."""

    rate: float
    sent: int
    publish_s: float
    e2e_ms: list[float]
    overhead_ms: list[float]
    statuses: Counter[str]
    cached: int
    first_received: float
    last_received: float
    samples: dict[str, float] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        """Results received."""
        return len(self.e2e_ms)

    @property
    def completion_rate(self) -> float:
        """Results per second between the first and the last arrival (the drain rate when overloaded)."""
        span = self.last_received - self.first_received
        return self.answered / span if span > 0 and self.answered > 1 else float("nan")

    @property
    def offered_rate(self) -> float:
        """Requests per second the generator actually published."""
        return self.sent / self.publish_s if self.publish_s > 0 else float("nan")

    def sustained(self, p99_bound_ms: float) -> bool:
        """Every request answered, none refused, and p99 under the bound."""
        return (
            self.answered == self.sent
            and self.statuses.get("rejected", 0) == 0
            and percentile(self.e2e_ms, 99) < p99_bound_ms
        )

    def summary(self) -> dict[str, float]:
        """Flat figures of this run (for aggregation over runs)."""
        out = {
            "rate": self.rate,
            "offered_rate": self.offered_rate,
            "sent": float(self.sent),
            "answered": float(self.answered),
            "completion_rate": self.completion_rate,
            "rejected": float(self.statuses.get("rejected", 0)),
            "errors": float(self.statuses.get("error", 0)),
            "cached": float(self.cached),
        }
        for name, values in (("e2e", self.e2e_ms), ("overhead", self.overhead_ms)):
            for q in (50, 95, 99):
                out[f"{name}_p{q}"] = percentile(values, q)
        return out | self.samples


def provider_ms(result: dict[str, object]) -> float:
    """Time spent in provider calls according to the result's attempt log."""
    log = result.get("attempt_log") or []
    assert isinstance(log, list)
    return float(sum(float(attempt.get("latency_ms") or 0.0) for attempt in log))


async def fixed_rate(
    producer: AIOKafkaProducer,
    topic: str,
    tap: Tap,
    payloads: Sequence[Payload],
    rate: float,
    *,
    timeout_s: float,
) -> RunResult:
    """Offer ``payloads`` at ``rate``/s and wait (up to ``timeout_s`` after the last publish) for every answer."""
    started = time.time()
    due = await offer(producer, topic, payloads, rate)
    published = time.time() - started
    arrivals = await tap.wait_for([p.id for p in payloads], timeout_s=timeout_s)
    return result_of(rate, due, arrivals, published)


def result_of(rate: float, due: dict[str, float], arrivals: dict[str, Arrival], published_s: float) -> RunResult:
    """Turn due times and arrivals into a :class:`RunResult`."""
    e2e: list[float] = []
    overhead: list[float] = []
    statuses: Counter[str] = Counter()
    cached = 0
    for request_id, arrival in arrivals.items():
        latency = (arrival.received - due[request_id]) * 1000.0
        e2e.append(latency)
        result = arrival.data if isinstance(arrival.data, dict) else {}
        overhead.append(latency - provider_ms(result))
        statuses[str(result.get("status", "ok"))] += 1
        cached += bool(result.get("cached"))
    received = [a.received for a in arrivals.values()] or [float("nan")]
    return RunResult(rate, len(due), published_s, e2e, overhead, statuses, cached, min(received), max(received))


Sampler = Callable[[], Awaitable[dict[str, float]]]


async def sampled(run: Awaitable[RunResult], sampler: Sampler | None, every_s: float = 0.25) -> RunResult:
    """Run ``run`` while polling ``sampler``; the run gets the maximum of every sampled figure."""
    if sampler is None:
        return await run
    peaks: dict[str, float] = {}
    task = asyncio.ensure_future(run)
    while not task.done():
        for key, value in (await sampler()).items():
            if value == value:  # not nan
                peaks[key] = max(value, peaks.get(key, value))
        await asyncio.wait([task], timeout=every_s)
    result = task.result()
    result.samples.update({f"peak_{key}": value for key, value in peaks.items()})
    return result


async def ramp(
    producer: AIOKafkaProducer,
    topic: str,
    tap: Tap,
    make: MakePayloads,
    rates: Sequence[float],
    *,
    step_s: float,
    p99_bound_ms: float,
    timeout_s: float,
    sampler: Sampler | None = None,
    log: Callable[[str], None] = print,
) -> list[RunResult]:
    """Run each rate for ``step_s`` until one is not sustained (that last run is included).

    When even the first rate is not sustained, step down to 60 % of it and climb back by x1.2 below it (at most
    :data:`STEPS_DOWN` times), so a ramp that starts too high still finds its sustained rate.
    """
    results: list[RunResult] = []
    queue = list(rates)
    downs = 0
    while queue:
        rate = queue.pop(0)
        payloads = make(f"r{len(results)}", max(1, int(rate * step_s)))
        result = await sampled(fixed_rate(producer, topic, tap, payloads, rate, timeout_s=timeout_s), sampler)
        results.append(result)
        ok = result.sustained(p99_bound_ms)
        log(
            f"    {rate:>6.0f} req/s offered ({result.offered_rate:,.0f} published): "
            f"{result.answered}/{result.sent} answered, {result.completion_rate:,.0f}/s out, "
            f"p50 {percentile(result.e2e_ms, 50):,.0f} ms, p99 {percentile(result.e2e_ms, 99):,.0f} ms"
            f"{'' if ok else '  <- not sustained'}{_peaks(result)}"
        )
        if ok:
            continue
        if any(r.sustained(p99_bound_ms) for r in results) or downs >= STEPS_DOWN:
            break
        downs += 1
        lower = max(10.0, round(rate * 0.6, -1))
        queue = [lower] + [r for r in (round(lower * 1.2**k, -1) for k in range(1, 4)) if r < rate]
    return results


def _peaks(result: RunResult) -> str:
    return "".join(f", {key} {value:,.0f}" for key, value in result.samples.items())


def highest_sustained(results: Sequence[RunResult], p99_bound_ms: float) -> RunResult | None:
    """The run at the highest rate that was sustained, if any."""
    passing = [r for r in results if r.sustained(p99_bound_ms)]
    return max(passing, key=lambda r: r.rate) if passing else None
