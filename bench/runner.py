"""``streamgate bench``: run every scenario on its own fresh stack, print the table, write the JSON.

Each stack gets a fresh embedded broker (unless ``KAFKA_BOOTSTRAP_SERVERS`` is set): the embedded broker's fetch
cost grows with the number of record batches it holds, so one long-lived broker would make later scenarios
look slower than earlier ones.
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.baseline import baseline
from bench.cache_hit import cache_hit
from bench.capacity import RampPlan, capacity
from bench.overhead import overhead
from bench.payloads import misses, run_tag
from bench.probe import worker_sampler
from bench.report import render, write_json
from bench.runs import MakePayloads
from bench.stack import BENCH_DIR, bench_stack, redis_ok, worker_pids
from gateway.settings import Settings
from streams.dev import DevStack

RATES = (100.0, 250.0, 500.0)
HOP_RATE = 250.0
THROUGHPUT_P99_MS = 500.0
IN_FLIGHT_P99_MS = 1500.0


@dataclass(frozen=True, slots=True)
class Sizes:
    """How long and how often: repetitions and seconds of fixed-rate runs, ramps and seconds per ramp step."""

    runs: int
    duration_s: float
    blast: int
    ramps: int
    step_s: float
    in_flight_step_s: float


FULL = Sizes(runs=3, duration_s=5.0, blast=20_000, ramps=3, step_s=5.0, in_flight_step_s=6.0)
QUICK = Sizes(runs=2, duration_s=3.0, blast=10_000, ramps=1, step_s=4.0, in_flight_step_s=5.0)


def _misses(run: int) -> MakePayloads:
    tag = run_tag()
    return lambda batch, count: misses(tag, f"m{run}{batch}", count)


def _plan(sizes: Sizes, start: float, *, p99_ms: float = THROUGHPUT_P99_MS, in_flight: bool = False) -> RampPlan:
    step = sizes.in_flight_step_s if in_flight else sizes.step_s
    return RampPlan(start=start, steps=9, step_s=step, p99_bound_ms=p99_ms)


async def _in_flight(stack: DevStack, sizes: Sizes) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        sampler = worker_sampler(session, stack.worker_ports, worker_pids(stack))
        return await capacity(
            stack,
            _misses,
            _plan(sizes, 500, p99_ms=IN_FLIGHT_P99_MS, in_flight=True),
            runs=sizes.ramps,
            sampler=sampler,
        )


def _scenario(report: dict[str, Any], key: str, title: str, fn: Callable[[], Any]) -> None:
    print(f"\n== {title}", flush=True)
    started = time.monotonic()
    try:
        report[key] = fn()
    except Exception:
        traceback.print_exc()
        report.setdefault("failed", []).append(key)
    print(f"   ({time.monotonic() - started:.0f} s)", flush=True)


def _stack_scenarios(settings: Settings, sizes: Sizes, report: dict[str, Any]) -> None:
    with bench_stack(settings, "zero-latency") as stack:
        _scenario(
            report,
            "baseline",
            "baseline: raw aiokafka one hop and back",
            lambda: asyncio.run(
                baseline(
                    stack.bootstrap,
                    settings,
                    runs=sizes.runs,
                    rates=RATES,
                    duration_s=sizes.duration_s,
                    blast=sizes.blast,
                    log_dir=BENCH_DIR / "zero-latency" / "logs",
                )
            ),
        )
        _scenario(
            report,
            "overhead",
            "overhead at fixed rates (cache misses)",
            lambda: asyncio.run(
                overhead(stack, runs=sizes.runs, rates=RATES, duration_s=sizes.duration_s, hop_rate=HOP_RATE)
            ),
        )
    with bench_stack(settings, "cache") as stack:
        _scenario(
            report,
            "cache_miss",
            "throughput, cache misses, 1 worker",
            lambda: asyncio.run(capacity(stack, _misses, _plan(sizes, 400), runs=sizes.ramps)),
        )
        _scenario(
            report,
            "cache_hit",
            "throughput, cache hits, 1 worker",
            lambda: asyncio.run(cache_hit(stack, _plan(sizes, 500), runs=sizes.ramps)),
        )
    with bench_stack(settings, "in-flight", latency_ms=1000.0) as stack:
        _scenario(
            report,
            "in_flight",
            "1 s provider latency: sustained rate, in flight, RSS",
            lambda: asyncio.run(_in_flight(stack, sizes)),
        )
    with bench_stack(settings, "scaling", workers=2) as stack:
        _scenario(
            report,
            "scaling",
            "throughput, cache misses, 2 workers",
            lambda: asyncio.run(capacity(stack, _misses, _plan(sizes, 400), runs=sizes.ramps)),
        )


def run_bench(settings: Settings, *, quick: bool, json_path: Path | None) -> int:
    """Run the suite; 0 when every scenario ran and no request was refused by a limit, else 1 (2: no Redis)."""
    if not redis_ok(settings):
        print(f"streamgate bench: Redis at {settings.redis_url} does not answer; the cache scenarios need it")
        return 2
    sizes = QUICK if quick else FULL
    started = time.monotonic()
    report: dict[str, Any] = {}
    _stack_scenarios(settings, sizes, report)
    report["meta"] = {
        "quick": quick,
        "cores": os.cpu_count(),
        "seconds": time.monotonic() - started,
        "sizes": vars_of(sizes),
        "broker": settings.kafka_bootstrap_servers or "embedded broker (fresh per stack)",
        "throughput_p99_bound_ms": THROUGHPUT_P99_MS,
        "in_flight_p99_bound_ms": IN_FLIGHT_P99_MS,
    }
    print("\n" + render(report), flush=True)
    if json_path is not None:
        write_json(report, json_path)
        print(f"\nJSON report written to {json_path}")
    refused = _refused(report)
    if refused:
        print(f"\nWARNING: {refused:.0f} requests were refused (rejected): limits tripped, figures are not valid")
    return 1 if report.get("failed") or refused else 0


def vars_of(sizes: Sizes) -> dict[str, float]:
    """The sizes as a dict."""
    return {name: float(getattr(sizes, name)) for name in Sizes.__slots__}


def _refused(report: dict[str, Any]) -> float:
    total = float(report.get("overhead", {}).get("rejected", 0))
    for key in ("cache_miss", "cache_hit", "in_flight", "scaling"):
        for ramp in report.get(key, {}).get("ramps", []):
            total += ramp.get("rejected", 0.0)
    return total
