"""Cross-worker claims on a provider call, so two workers never pay for the same request id at once.

Within a worker, duplicates share one call (:class:`gateway.resilience.idempotency.SingleFlight`). Across workers
the same id can be in flight twice only during a rebalance: the worker losing a partition may still be calling
while the new owner replays the event. The first to claim the id calls; the other waits for its stored completion,
and calls itself only if the claim lapses without one (the claimant failed or died; the claim expires with the
claim is a short lease, renewed while the call runs, so a worker killed mid-call blocks the other for at most one
lease).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RedisCallClaims:
    """Claims as Redis keys ``<prefix><id>`` set with NX and a TTL; released only by their owner."""

    def __init__(self, client: aioredis.Redis, *, prefix: str, lease_s: float = 5.0, poll_s: float = 0.05) -> None:
        self._redis = client
        self.prefix = prefix
        self.lease_s = lease_s
        self.poll_s = poll_s
        self._token = uuid.uuid4().hex  # this worker's claims

    async def claim(self, key: str) -> bool:
        """True when this worker now holds the claim on ``key`` (a lease of ``lease_s``; see :meth:`held`)."""
        return bool(await self._redis.set(self.prefix + key, self._token, px=int(self.lease_s * 1000), nx=True))

    async def renew(self, key: str) -> None:
        """Extend our lease on ``key`` (no-op when it is no longer ours)."""
        name = self.prefix + key
        if await self._redis.get(name) == self._token.encode():
            await self._redis.pexpire(name, int(self.lease_s * 1000))

    async def hold(self, key: str) -> None:
        """Renew the lease on ``key`` every third of a lease until cancelled (run it beside the call)."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self.renew(key)
            except (RedisError, OSError) as exc:  # the lease may lapse: at worst another worker also calls
                log.warning("could not renew the call claim on %s: %s", key, exc)

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
