"""Looking at a worker from outside: requests in flight (its ``/status`` page) and its resident memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aiohttp

from bench.runs import Sampler


def rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` in MB (``VmRSS`` of ``/proc/<pid>/status``; ``nan`` if unknown)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


async def in_flight(session: aiohttp.ClientSession, port: int) -> float:
    """The worker's ``in_flight`` count (screened and not yet accounted), ``nan`` when it does not answer."""
    try:
        async with session.get(f"http://127.0.0.1:{port}/status", timeout=aiohttp.ClientTimeout(total=2)) as resp:
            doc = await resp.json(content_type=None)
            return float(doc["in_flight"])
    except (aiohttp.ClientError, TimeoutError, KeyError, ValueError):
        return float("nan")


def worker_sampler(session: aiohttp.ClientSession, ports: Sequence[int], pids: Sequence[int]) -> Sampler:
    """A sampler of in-flight requests and RSS, per worker and summed over workers."""

    async def sample() -> dict[str, float]:
        out: dict[str, float] = {}
        flights = [await in_flight(session, port) for port in ports]
        sizes = [rss_mb(pid) for pid in pids]
        for index, (flight, size) in enumerate(zip(flights, sizes, strict=True)):
            out[f"in_flight_w{index}"] = flight
            out[f"rss_mb_w{index}"] = size
        out["in_flight"] = sum(flights)
        return out

    return sample
