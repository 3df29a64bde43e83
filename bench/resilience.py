"""What the resilience layer adds when providers are healthy: ``python -m bench.resilience``.

Three ways of making the same calls to the provider simulator (zero latency, in this process), with the same
concurrency, each repeated several times:

* ``direct``     the provider adapter alone (the official SDK over HTTP);
* ``resilient``  through :func:`gateway.resilience.executor.complete_resilient` (retry policy, breaker, RPM/TPM
  tracking, attempt log, per-attempt timeout);
* ``completer``  through :class:`gateway.completion.GatewayCompleter` (the above plus the Redis completion store
  lookup and write, and single-flight coalescing) - what the complete stage runs.

It prints per-call latency percentiles and the added median latency against ``direct``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from bench.stats import Figure, latency_summary
from gateway.completion import GatewayCompleter
from gateway.providers.base import CompletionCall, Provider
from gateway.providers.openai_provider import OpenAIProvider
from gateway.resilience.breaker import BreakerRegistry
from gateway.resilience.chain import Route, build_chain
from gateway.resilience.executor import complete_resilient
from gateway.resilience.idempotency import RedisCompletionStore
from gateway.resilience.provider_limits import RateTrackerRegistry
from gateway.settings import Settings, load_settings
from gateway.simulator.server import SimulatorServer
from schemas.request import ChatMessage, LLMRequest

MODEL = "gpt-4o-mini"
Call = Callable[[int], Awaitable[object]]


async def _timed_run(call: Call, calls: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            started = time.perf_counter()
            await call(index)
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(one(i) for i in range(calls)))
    return latencies


def _request(run: str, index: int) -> LLMRequest:
    return LLMRequest(
        id=f"bench-{run}-{index}",
        tenant="bench",
        user="bench",
        messages=[ChatMessage(role="user", content=f"resilience overhead probe {index}")],
        max_tokens=64,
    )


def _variants(settings: Settings, provider: Provider, store: RedisCompletionStore) -> dict[str, Callable[[str], Call]]:
    chain = build_chain(MODEL, settings.models, settings.resilience)
    providers = {"openai": provider}
    breakers = BreakerRegistry(settings.resilience.breaker)
    rates = RateTrackerRegistry(settings.resilience.limits)
    completer = GatewayCompleter(providers, settings.resilience, store=store, breakers=breakers, rates=rates)

    def call_of(request: LLMRequest) -> CompletionCall:
        return CompletionCall(
            model=chain[0].upstream,
            messages=[m.model_dump() for m in request.messages],
            max_tokens=request.max_tokens,
            idempotency_key=request.id,
            timeout_s=30,
        )

    def direct(run: str) -> Call:
        return lambda i: provider.complete(call_of(_request(run, i)))

    def resilient(run: str) -> Call:
        return lambda i: complete_resilient(
            call_of(_request(run, i)), chain, providers, breakers=breakers, rates=rates, settings=settings.resilience
        )

    def full(run: str) -> Call:
        return lambda i: completer.complete(_request(run, i), Route(chain=tuple(chain)), deadline=time.monotonic() + 60)

    return {"direct": direct, "resilient": resilient, "completer": full}


async def measure(settings: Settings, *, calls: int, concurrency: int, runs: int) -> dict[str, dict[str, Figure]]:
    """Latency figures (median over ``runs``) per variant."""
    redis = aioredis.Redis.from_url(settings.redis_url)
    async with SimulatorServer() as sim:
        provider = OpenAIProvider(api_key="sk-bench", base_url=sim.openai_base_url, max_connections=concurrency)
        store = RedisCompletionStore(redis, prefix=f"bench:{uuid.uuid4().hex[:6]}:", ttl_s=300)
        variants = _variants(settings, provider, store)
        for make in variants.values():  # connections, tiktoken's encoding, code paths
            await _timed_run(make(f"warmup-{uuid.uuid4().hex[:6]}"), 200, concurrency)
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
        for _ in range(runs):
            for name, make in variants.items():  # interleaved, so drift affects every variant alike
                run = uuid.uuid4().hex[:8]
                samples[name].append(latency_summary(await _timed_run(make(run), calls, concurrency)))
        await provider.aclose()
    await redis.aclose()
    return {name: {q: Figure.of(s[q] for s in runs_) for q in ("p50", "p95", "p99")} for name, runs_ in samples.items()}


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    figures = asyncio.run(measure(load_settings(), calls=args.calls, concurrency=args.concurrency, runs=args.runs))
    base = figures["direct"]["p50"].median
    print(f"{args.calls} calls x {args.runs} runs, concurrency {args.concurrency}, zero-latency simulator")
    print("median over runs [min-max]; added = p50 minus direct's p50")
    print(f"{'variant':<10} {'p50 ms':>22} {'p95 ms':>22} {'p99 ms':>22} {'added p50 ms':>13}")
    for name, fig in figures.items():
        cells = " ".join(f"{f.median:.2f} [{f.low:.2f}-{f.high:.2f}]".rjust(22) for f in fig.values())
        print(f"{name:<10} {cells} {fig['p50'].median - base:13.2f}")


if __name__ == "__main__":
    main()
