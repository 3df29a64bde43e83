"""``streamgate bench --cpu``: worker CPU per request at a fixed offered rate, for cache misses and cache hits.

CPU is read from ``/proc`` for the worker process alone (user + system time) over the whole run, so it counts
every event the worker handled for those requests and nothing of the broker, the simulator or the load
generator. Per-request CPU depends on the rate (batches fill better under load): compare builds at the same rate,
on the same machine, and look at the ``other processes`` figure, which says how busy the rest of the box was.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from bench.load import Tap, new_producer, parse_result
from bench.machine import CpuMeter, process_cpu_s
from bench.payloads import Prompt, misses, prompts, replays, run_tag
from bench.runs import fixed_rate
from bench.stack import bench_stack, worker_pids
from gateway.settings import Settings
from streams.devtools.dev import DevStack


@dataclass(frozen=True, slots=True)
class CpuFigure:
    """One run: requests answered, worker CPU per request, and how busy the other processes were."""

    kind: str
    rate: float
    answered: int
    sent: int
    worker_ms_per_request: float
    foreign_cores: float

    def line(self) -> str:
        """A printable summary."""
        return (
            f"  {self.kind:<11} @ {self.rate:>5.0f} req/s: worker CPU {self.worker_ms_per_request:.2f} ms per request "
            f"({self.answered}/{self.sent} answered; other processes {self.foreign_cores:.2f} cores)"
        )


async def _measure(stack: DevStack, kind: str, rate: float, seconds: float, items: list[Prompt] | None) -> CpuFigure:
    tag = run_tag()
    count = int(rate * seconds)
    payloads = misses(tag, "cpu", count) if items is None else replays(tag, "cpu", items, count)
    topics = stack.settings.topics
    tap = await Tap(stack.kafka, topics.results, parse_result).start()
    producer = await new_producer(stack.kafka)
    pid = worker_pids(stack)[0]
    try:
        meter = CpuMeter().start()
        before = process_cpu_s(pid)
        result = await fixed_rate(producer, topics.requests, tap, payloads, rate, timeout_s=60)
        spent = process_cpu_s(pid) - before
        use = meter.stop()
    finally:
        await producer.stop()
        await tap.stop()
    per_request = 1000.0 * spent / max(1, result.answered)
    return CpuFigure(kind, rate, result.answered, result.sent, per_request, use["foreign"])


async def _warm_hits(stack: DevStack, count: int) -> list[Prompt]:
    """Answer ``count`` fresh prompts once, so replaying them hits the exact cache."""
    tag = run_tag()
    items = prompts(f"{tag}hot", count)
    topics = stack.settings.topics
    tap = await Tap(stack.kafka, topics.results, parse_result).start()
    producer = await new_producer(stack.kafka)
    try:
        await fixed_rate(producer, topics.requests, tap, replays(tag, "hot", items, count), 200.0, timeout_s=60)
    finally:
        await producer.stop()
        await tap.stop()
    return items


def run_cpu(settings: Settings, *, rate: float, seconds: float, config_file: Path | None = None) -> int:
    """Start one stack (its worker on ``config_file``), measure cache misses then cache hits at ``rate`` for
    ``seconds`` each, print both."""
    print(f"worker CPU per request, one worker, zero-latency provider, {seconds:.0f} s at {rate:.0f} req/s", flush=True)
    with bench_stack(settings, "cpu", config_file=config_file) as stack:
        figures = [asyncio.run(_measure(stack, "cache miss", rate, seconds, None))]
        print(figures[-1].line(), flush=True)
        hot = asyncio.run(_warm_hits(stack, 256))
        time.sleep(1.0)
        figures.append(asyncio.run(_measure(stack, "cache hit", rate, seconds, hot)))
        print(figures[-1].line(), flush=True)
    return 0 if all(f.answered == f.sent for f in figures) else 1
