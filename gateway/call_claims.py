"""Cross-worker claims on a provider call, so two workers never pay for the same request id at once.

Within a worker, duplicates share one call (:class:`gateway.resilience.idempotency.SingleFlight`). Across workers
the same id can be in flight twice only during a rebalance: the worker losing a partition may still be calling
while the new owner replays the event. The first to claim the id calls; the other waits for its stored completion,
and calls itself only if the claim lapses without one (the claimant failed or died: a claim is a short lease,
renewed while the call runs, so a worker killed mid-call blocks the other for at most one lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.redis_batch import RedisBatcher

log = logging.getLogger(__name__)

# Each script is one round trip where the plain commands took two or three (a loaded worker spends ~0.1 ms of CPU
# per Redis round trip). Keys: the claim and, where named, the completion it guards.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_CLAIM_UNLESS_STORED = """
local stored = redis.call('GET', KEYS[2])
if stored then return {1, stored} end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return {0, 1} end
return {0, 0}
"""
_STORE_AND_RELEASE = """
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3], 'NX')
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class RedisCallClaims:
    """Claims as Redis keys ``<prefix><id>`` set with NX and a TTL; released only by their owner."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str,
        lease_s: float = 5.0,
        poll_s: float = 0.05,
        batcher: RedisBatcher | None = None,
    ) -> None:
        self._redis = client
        self._batch = batcher or RedisBatcher(client)  # claims and stores of concurrent calls: one pipeline
        self.prefix = prefix
        self.lease_s = lease_s
        self.poll_s = poll_s
        self._token = uuid.uuid4().hex  # this worker's claims
        self._held: dict[str, int] = {}  # claims being renewed: key -> calls holding it
        self._renewer: asyncio.Future[None] | None = None
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)
        self._claim_unless_stored = client.register_script(_CLAIM_UNLESS_STORED)
        self._store_and_release = client.register_script(_STORE_AND_RELEASE)

    async def claim(self, key: str) -> bool:
        """True when this worker now holds the claim on ``key`` (a lease of ``lease_s``; see :meth:`hold`)."""
        name = self.prefix + key
        return bool(await self._batch.command("SET", name, self._token, "PX", int(self.lease_s * 1000), "NX"))

    async def claim_unless_stored(self, key: str, stored_name: str) -> tuple[bytes | None, bool]:
        """In one round trip: the value at ``stored_name`` if there is one, else whether we now hold the claim."""
        found, value = await self._batch.script(
            self._claim_unless_stored, [self.prefix + key, stored_name], [self._token, int(self.lease_s * 1000)]
        )
        return (value, False) if found else (None, bool(value))

    async def store_and_release(self, key: str, stored_name: str, value: str, ttl_s: int) -> None:
        """In one round trip: set ``stored_name`` to ``value`` (unless already set) and drop our claim on ``key``."""
        await self._batch.script(self._store_and_release, [self.prefix + key, stored_name], [self._token, value, ttl_s])

    async def renew(self, key: str) -> None:
        """Extend our lease on ``key`` (no-op when it is no longer ours)."""
        await self._batch.script(self._renew, [self.prefix + key], [self._token, int(self.lease_s * 1000)])

    @contextlib.contextmanager
    def holding(self, key: str) -> Iterator[None]:
        """Keep our lease on ``key`` renewed while the block runs (the provider call).

        One renewer task serves every held claim of the worker, renewing them all together every third of a lease
        (one pipeline), instead of a task and a timer per call: a call shorter than that never pays anything.
        """
        self._held[key] = self._held.get(key, 0) + 1
        renewer = self._renewer
        if renewer is None or renewer.done() or renewer.get_loop() is not asyncio.get_running_loop():
            self._renewer = asyncio.ensure_future(self._renew_held())
        try:
            yield
        finally:
            left = self._held.pop(key) - 1
            if left:
                self._held[key] = left

    async def _renew_held(self) -> None:
        while self._held:
            await asyncio.sleep(self.lease_s / 3)
            keys = list(self._held)
            outcomes = await asyncio.gather(*map(self.renew, keys), return_exceptions=True)
            for key, outcome in zip(keys, outcomes, strict=True):
                if isinstance(outcome, RedisError | OSError):  # the lease may lapse: at worst another worker calls too
                    log.warning("could not renew the call claim on %s: %s", key, outcome)

    async def release(self, key: str) -> None:
        """Drop our claim (a claim taken over by another worker after expiry is left alone)."""
        await self._batch.script(self._release, [self.prefix + key], [self._token])

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
