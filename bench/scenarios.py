"""The scenarios of ``streamgate bench`` as uniform async functions, and the sizes of a full and a quick run."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.baseline import baseline
from bench.cache_hit import cache_hit
from bench.capacity import RampPlan, capacity
from bench.held import LATENCY_MS as HELD_LATENCY_MS
from bench.held import held
from bench.overhead import overhead
from bench.payloads import misses, run_tag
from bench.probe import worker_sampler
from bench.runs import MakePayloads
from bench.stack import BENCH_DIR, worker_pids
from bench.stats import Figure
from gateway.settings import Settings
from streams.devtools.dev import DevStack

RATES = (50.0, 100.0, 250.0, 500.0)
"""Offered rates of the baseline and overhead runs: the issue's 100/250/500 and a light 50 (full runs only)."""
HOP_RATE = 50.0
"""The per-hop breakdown runs at a light load, so it shows what a hop costs rather than queueing."""
THROUGHPUT_P99_MS = 500.0
IN_FLIGHT_P99_MS = 1500.0


@dataclass(frozen=True, slots=True)
class Sizes:
    """How long and how often: repetitions and seconds of fixed-rate runs, ramps and seconds per ramp step."""

    runs: int
    duration_s: float
    baseline_s: float
    blast: int
    ramps: int
    step_s: float
    in_flight_step_s: float
    warm_prompts: int
    fresh_stacks: bool


FULL = Sizes(
    runs=3,
    duration_s=3.0,
    baseline_s=2.0,
    blast=20_000,
    ramps=3,
    step_s=4.0,
    in_flight_step_s=4.0,
    warm_prompts=512,
    fresh_stacks=True,
)
QUICK = Sizes(
    runs=2,
    duration_s=2.0,
    baseline_s=2.0,
    blast=5_000,
    ramps=1,
    step_s=3.0,
    in_flight_step_s=4.0,
    warm_prompts=384,
    fresh_stacks=False,
)

Scenario = Callable[[DevStack, Settings, Sizes, dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]
"""``(stack, settings, sizes, report so far) -> this scenario's part of the report``."""


def _rates(sizes: Sizes) -> tuple[float, ...]:
    """The fixed offered rates: all of :data:`RATES` in a full run, the issue's three in a quick one."""
    return RATES if sizes.fresh_stacks else RATES[1:]


def _misses(run: int) -> MakePayloads:
    tag = run_tag()
    return lambda batch, count: misses(tag, f"m{run}{batch}", count)


def _plan(sizes: Sizes, start: float, *, p99_ms: float = THROUGHPUT_P99_MS, in_flight: bool = False) -> RampPlan:
    step = sizes.in_flight_step_s if in_flight else sizes.step_s
    return RampPlan(start=start, steps=14, step_s=step, p99_bound_ms=p99_ms)


def _start_near(report: dict[str, Any], key: str, default: float, *, figure: str = "sustained_rate") -> float:
    """Where to start a ramp: 80 % of what an earlier scenario measured, if one ran.

    ``key`` names a capacity scenario (its ``figure``), or ``"overhead"``: then the highest rate results came out
    at during the overloaded fixed-rate runs, i.e. the worker's drain rate.
    """
    part = report.get(key, {})
    if key == "overhead":
        rates = [fig.get("completion_rate") for fig in part.get("by_rate", {}).values()]
        found = max((r.median for r in rates if isinstance(r, Figure) and r.runs), default=0.0)
    else:
        value = part.get("figures", {}).get(figure)
        found = value.median if isinstance(value, Figure) and value.runs and value.median == value.median else 0.0
    return max(default, round(0.8 * found, -1)) if found > 0 else default


async def run_baseline(stack: DevStack, settings: Settings, sizes: Sizes, report: dict[str, Any]) -> dict[str, Any]:
    """Raw aiokafka, one hop and back, on the stack's broker."""
    return await baseline(
        stack.kafka,
        settings,
        runs=sizes.runs,
        rates=_rates(sizes),
        duration_s=sizes.baseline_s,
        blast=sizes.blast,
        log_dir=BENCH_DIR / "baseline",
    )


async def run_overhead(stack: DevStack, settings: Settings, sizes: Sizes, report: dict[str, Any]) -> dict[str, Any]:
    """Overhead at fixed offered rates, and the per-hop breakdown."""
    return await overhead(stack, runs=sizes.runs, rates=_rates(sizes), duration_s=sizes.duration_s, hop_rate=HOP_RATE)


def _ramps(sizes: Sizes) -> int:
    """Ramps per call: one per fresh stack in a full run (the runner repeats the scenario), all at once otherwise."""
    return 1 if sizes.fresh_stacks else sizes.ramps


async def run_cache_miss(stack: DevStack, settings: Settings, sizes: Sizes, report: dict[str, Any]) -> dict[str, Any]:
    """Highest sustained rate with unique prompts."""
    plan = _plan(sizes, _start_near(report, "overhead", 50))
    return await capacity(stack, _misses, plan, runs=_ramps(sizes), earlier=report.get("cache_miss"))


async def run_cache_hit(stack: DevStack, settings: Settings, sizes: Sizes, report: dict[str, Any]) -> dict[str, Any]:
    """Highest sustained rate when every request hits the exact cache (at least as fast as a miss)."""
    plan = _plan(sizes, _start_near(report, "cache_miss", 50, figure="capacity"))
    return await cache_hit(
        stack, plan, runs=_ramps(sizes), prompt_count=sizes.warm_prompts, earlier=report.get("cache_hit")
    )


async def run_in_flight(stack: DevStack, settings: Settings, sizes: Sizes, report: dict[str, Any]) -> dict[str, Any]:
    """Highest rate sustained with 1 s provider latency, with requests in flight and RSS sampled."""
    async with aiohttp.ClientSession() as session:
        sampler = worker_sampler(session, stack.worker_ports, worker_pids(stack))
        plan = _plan(sizes, _start_near(report, "cache_miss", 50), p99_ms=IN_FLIGHT_P99_MS, in_flight=True)
        return await capacity(
            stack, _misses, plan, runs=_ramps(sizes), sampler=sampler, earlier=report.get("in_flight")
        )


async def run_scaling(stack: DevStack, settings: Settings, sizes: Sizes, report: dict[str, Any]) -> dict[str, Any]:
    """The cache-miss ramp again, on a stack with two workers."""
    plan = _plan(sizes, _start_near(report, "cache_miss", 50))
    return await capacity(stack, _misses, plan, runs=_ramps(sizes), earlier=report.get("scaling"))


async def run_held(stack: DevStack, settings: Settings, sizes: Sizes, report: dict[str, Any]) -> dict[str, Any]:
    """2,000 requests held in flight by a slow provider: worker RSS (the memory target)."""
    return await held(stack, runs=1 if not sizes.fresh_stacks else 2)


CAPACITY_STACKS: tuple[tuple[str, float, int], ...] = (
    ("cache_miss", 0.0, 1),
    ("cache_hit", 0.0, 1),
    ("in_flight", 1000.0, 1),
    ("scaling", 0.0, 2),
)
"""Capacity scenarios with their stack: provider latency (ms) and workers."""


SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "baseline": ("baseline: raw aiokafka produce -> consume -> produce -> consume", run_baseline),
    "overhead": ("overhead at fixed offered rates, cache misses, zero-latency provider", run_overhead),
    "cache_miss": ("throughput, cache misses, 1 worker", run_cache_miss),
    "cache_hit": ("throughput, cache hits, 1 worker", run_cache_hit),
    "in_flight": ("1 s provider latency: sustained rate, requests in flight, worker RSS", run_in_flight),
    "scaling": ("throughput, cache misses, 2 workers", run_scaling),
    "held": (f"{HELD_LATENCY_MS / 1000:.0f} s provider latency: 2,000 requests held in flight, worker RSS", run_held),
}
