"""``streamgate bench``: start the stacks, run the scenarios, print the table, write the JSON.

A full run gives every ramp of a capacity scenario a fresh stack (and so a fresh embedded broker, unless
``KAFKA_BOOTSTRAP_SERVERS`` is set): the embedded broker's CPU grows with the number of record batches it holds
(measured: 0.27 -> 0.75 cores over 100 s at a constant 120 req/s), so a long-lived broker would make later ramps
look slower than earlier ones.
A quick run shares one zero-latency stack (adding the second worker for the scaling scenario) to stay under three
minutes.
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.held import LATENCY_MS as HELD_LATENCY_MS
from bench.machine import CpuMeter
from bench.report import render, write_json
from bench.scenarios import CAPACITY_STACKS, FULL, IN_FLIGHT_P99_MS, QUICK, SCENARIOS, THROUGHPUT_P99_MS, Sizes
from bench.stack import add_worker, bench_stack, redis_ok
from gateway.settings import Settings
from streams.devtools.dev import DevStack


@dataclass(frozen=True, slots=True)
class StackPlan:
    """One stack and the scenarios run on it, in order (``+worker`` adds a worker before the next one)."""

    name: str
    latency_ms: float
    workers: int
    scenarios: tuple[str, ...]


def stack_plans(sizes: Sizes) -> list[StackPlan]:
    """A full run: a fresh stack for the fixed-rate scenarios and one per ramp of each capacity scenario.
    A quick run: one shared zero-latency stack and one with provider latency."""
    if not sizes.fresh_stacks:
        shared = ("baseline", "overhead", "cache_miss", "cache_hit", "+worker", "scaling")
        return [
            StackPlan("zero-latency", 0.0, 1, shared),
            StackPlan("in-flight", 1000.0, 1, ("in_flight",)),
            StackPlan("held", HELD_LATENCY_MS, 1, ("held",)),
        ]
    plans = [StackPlan("zero-latency", 0.0, 1, ("baseline", "overhead"))]
    for key, latency_ms, workers in CAPACITY_STACKS:
        name = key.replace("_", "-")
        plans += [StackPlan(f"{name}-{n + 1}", latency_ms, workers, (key,)) for n in range(sizes.ramps)]
    return [*plans, StackPlan("held", HELD_LATENCY_MS, 1, ("held",))]


def _merge_cpu(before: dict[str, float] | None, now: dict[str, float]) -> dict[str, float]:
    """Average cores over two intervals (weighted by their length)."""
    if not before:
        return now
    total = before["seconds"] + now["seconds"]
    keys = set(before) | set(now)
    merged = {k: (before.get(k, 0.0) * before["seconds"] + now.get(k, 0.0) * now["seconds"]) / total for k in keys}
    return merged | {"seconds": total}


def _run(key: str, stack: DevStack, settings: Settings, sizes: Sizes, report: dict[str, Any]) -> None:
    title, scenario = SCENARIOS[key]
    print(f"\n== {title}", flush=True)
    meter = CpuMeter().start()
    try:
        report[key] = asyncio.run(scenario(stack, settings, sizes, report))
    except Exception:
        traceback.print_exc()
        report.setdefault("failed", []).append(key)
    usage = report.setdefault("cpu", {})
    cpu = usage[key] = _merge_cpu(usage.get(key), meter.stop())
    print(
        f"   ({cpu['seconds']:.0f} s; cores: worker {cpu.get('worker', 0.0):.2f}, broker {cpu.get('broker', 0.0):.2f},"
        f" others {cpu['foreign']:.2f})",
        flush=True,
    )


def run_bench(settings: Settings, *, quick: bool, json_path: Path | None) -> int:
    """Run the suite; 0 when every scenario ran and no request was refused by a limit, else 1 (2: no Redis)."""
    if not redis_ok(settings):
        print(f"streamgate bench: Redis at {settings.redis_url} does not answer; the cache scenarios need it")
        return 2
    sizes = QUICK if quick else FULL
    started = time.monotonic()
    report: dict[str, Any] = {}
    for plan in stack_plans(sizes):
        with bench_stack(settings, plan.name, workers=plan.workers, latency_ms=plan.latency_ms) as stack:
            for key in plan.scenarios:
                if key == "+worker":
                    add_worker(stack)
                else:
                    _run(key, stack, settings, sizes, report)
    report["meta"] = {
        "quick": quick,
        "cores": os.cpu_count(),
        "seconds": time.monotonic() - started,
        "sizes": {name: float(getattr(sizes, name)) for name in Sizes.__slots__},
        "broker": settings.kafka_bootstrap_servers or "embedded broker",
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


def _refused(report: dict[str, Any]) -> float:
    total = float(report.get("overhead", {}).get("rejected", 0))
    for key in ("cache_miss", "cache_hit", "in_flight", "scaling"):
        for ramp in report.get(key, {}).get("ramps", []):
            total += ramp.get("rejected", 0.0)
    total += sum(float(run.get("rejected", 0.0)) for run in report.get("held", {}).get("runs", []))
    return total
