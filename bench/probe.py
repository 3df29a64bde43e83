"""Looking at a worker from outside: its ``/metrics`` page (requests in flight, events screened) and its memory.

(``/metrics`` rather than ``/status``: the metrics page is the documented, scrapeable surface, and it is cheap.)
"""

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


async def metrics(session: aiohttp.ClientSession, port: int) -> dict[str, float]:
    """Every sample of a worker's ``/metrics`` summed per metric name (empty when it does not answer)."""
    try:
        async with session.get(f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=2)) as resp:
            text = await resp.text()
    except (aiohttp.ClientError, TimeoutError):
        return {}
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_and_labels, _, value = line.rpartition(" ")
        name = name_and_labels.split("{", 1)[0]
        try:
            totals[name] = totals.get(name, 0.0) + float(value)
        except ValueError:
            continue
    return totals


async def in_flight(session: aiohttp.ClientSession, port: int) -> float:
    """The worker's ``streamgate_in_flight`` gauge (screened, not yet accounted); ``nan`` when it does not answer."""
    return (await metrics(session, port)).get("streamgate_in_flight", float("nan"))


async def screened(session: aiohttp.ClientSession, port: int) -> float:
    """How many requests a worker has screened (``streamgate_screened_total``)."""
    return (await metrics(session, port)).get("streamgate_screened_total", 0.0)


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
