"""Cross-worker claims on a provider call, so two workers never pay for the same request id at once.

Within a worker, duplicates share one call (:class:`gateway.resilience.idempotency.SingleFlight`). Across workers
the same id can be in flight twice only during a rebalance: the worker losing a partition may still be calling
while the new owner replays the event. The first to claim the id calls; the other waits for its stored completion,
and calls itself only if the claim lapses without one (the claimant failed or died; the claim expires with the
request's deadline).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis


class RedisCallClaims:
    """Claims as Redis keys ``<prefix><id>`` set with NX and a TTL; released only by their owner."""

    def __init__(self, client: aioredis.Redis, *, prefix: str, poll_s: float = 0.05) -> None:
        self._redis = client
        self.prefix = prefix
        self.poll_s = poll_s
        self._token = uuid.uuid4().hex  # this worker's claims

    async def claim(self, key: str, ttl_s: float) -> bool:
        """True when this worker now holds the claim on ``key`` (for at most ``ttl_s``)."""
        ttl_ms = max(1, int(ttl_s * 1000))
        return bool(await self._redis.set(self.prefix + key, self._token, px=ttl_ms, nx=True))

    async def release(self, key: str) -> None:
        """Drop our claim (a claim taken over by another worker after expiry is left alone)."""
        name = self.prefix + key
        if await self._redis.get(name) == self._token.encode():
            await self._redis.delete(name)

    async def wait_for(self, key: str, ready: Callable[[], Awaitable[bool]], deadline: float) -> bool:
        """Poll ``ready`` while another worker holds the claim; False once the claim lapses or time runs out."""
        name = self.prefix + key
        while time.monotonic() < deadline:
            if await ready():
                return True
            if not await self._redis.exists(name):
                return await ready()
            await asyncio.sleep(self.poll_s)
        return False
