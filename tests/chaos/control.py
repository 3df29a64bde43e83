"""Asynchronous probes of a stack's workers for the chaos scenarios (the blocking ones would stall the stream)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from streams.devtools.dev import DevStack


def _get(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body: dict[str, Any] = json.load(response)
            return body
    except urllib.error.HTTPError as err:  # /ready answers 503 with its checks
        body = json.loads(err.read() or b"{}")
        return body
    except (urllib.error.URLError, OSError, ValueError):
        return None


async def readiness(stack: DevStack, worker: int) -> dict[str, Any] | None:
    """Worker ``worker``'s ``/ready`` body (``None`` while it does not answer)."""
    return await asyncio.to_thread(_get, f"http://127.0.0.1:{stack.worker_ports[worker]}/ready")


async def until(check: Callable[[], Any], timeout_s: float, what: str, *, poll_s: float = 0.2) -> None:
    """Wait until the coroutine function ``check`` returns something true; ``TimeoutError`` naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout_s} s")
        await asyncio.sleep(poll_s)


async def wait_ready(stack: DevStack, worker: int, timeout_s: float = 120.0) -> None:
    """Until worker ``worker`` answers ``/ready`` with 200 (joined, partitions, tables, broker and Redis)."""

    async def ready() -> bool:
        body = await readiness(stack, worker)
        return bool(body and body.get("ready"))

    await until(ready, timeout_s, f"worker-{worker} not ready")


async def wait_rebalancing(stack: DevStack, worker: int, timeout_s: float = 60.0) -> None:
    """Until worker ``worker`` reports that its group is rebalancing (``/ready`` failing ``joined``)."""

    async def rebalancing() -> bool:
        body = await readiness(stack, worker)
        return bool(body and "joined" in body.get("failing", ()))

    await until(rebalancing, timeout_s, f"worker-{worker} saw no rebalance", poll_s=0.05)


async def in_flight(stack: DevStack, worker: int) -> int:
    """Requests worker ``worker`` has screened and not yet settled (its ``/status``; 0 when it does not answer)."""
    body = await asyncio.to_thread(_get, f"http://127.0.0.1:{stack.worker_ports[worker]}/status")
    return int(body.get("in_flight", 0)) if body else 0
