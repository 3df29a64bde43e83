"""The exact-match response cache in Redis, and its per-tenant counters.

Key layout: ``sg:cache:v2:{<scope>}:<model>:<sha256>`` where the scope is the tenant (default) or ``_shared``
(a name no tenant can have). The braces keep a tenant's entries in one Redis Cluster slot and make
``cache purge --tenant T [--model M]`` a prefix scan.

A cache that is down must never fail a request: every operation degrades to a miss (or a no-op), a warning is
logged at most once per ``warn_every_s``, ``on_error`` is told (the worker counts it in metrics), and Redis is
left alone for ``retry_after_s`` before the next try, so a hung Redis costs one timeout, not one per request.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict
from redis.exceptions import RedisError

from gateway.redis_batch import RedisBatcher

log = logging.getLogger(__name__)

PREFIX = "sg:cache:v2:"
SHARED_SCOPE = "_shared"
STATS_PREFIX = "sg:cache:stats:"
T = TypeVar("T")


class CachedAnswer(BaseModel):
    """What the cache keeps for one prompt: enough to answer again without a provider."""

    model_config = ConfigDict(frozen=True)

    output: str
    parsed: Any = None
    model: str
    provider: str
    input_tokens: int
    output_tokens: int


def exact_key(scope: str, model: str, material: dict[str, Any]) -> str:
    """The Redis key of an answer: its scope and model in clear, everything that shapes it hashed."""
    digest = hashlib.sha256(orjson.dumps(material, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{PREFIX}{{{scope}}}:{model}:{digest}"


def scope_pattern(scope: str, model: str | None = None) -> str:
    """The SCAN pattern of a scope's entries (of one model, or all)."""
    return f"{PREFIX}{{{scope}}}:{model or '*'}:*"


class ResponseCache:
    """Exact-match cache with per-entry TTL over a shared async Redis client; never raises on Redis failures."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        warn_every_s: float = 30.0,
        retry_after_s: float = 1.0,
        on_error: Callable[[str], None] | None = None,
        batcher: RedisBatcher | None = None,
    ) -> None:
        self._redis = client
        self._batch = batcher or RedisBatcher(client)  # lookups and stores of concurrent jobs: one pipeline
        self._warn_every_s = warn_every_s
        self._retry_after_s = retry_after_s
        self._on_error = on_error
        self._last_warning = float("-inf")
        self._down_until = float("-inf")
        self._counts: dict[str, dict[str, float]] = {}

    @property
    def redis(self) -> aioredis.Redis:
        """The Redis client (replacing it also replaces the pipeline its commands are batched on)."""
        return self._redis

    @redis.setter
    def redis(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._batch = RedisBatcher(client)

    @property
    def available(self) -> bool:
        """False while the cache is skipping Redis after a failure."""
        return time.monotonic() >= self._down_until

    async def get(self, key: str) -> CachedAnswer | None:
        """The cached answer, or ``None`` on a miss or when Redis is unreachable."""
        raw = await self.guarded("get", lambda: self._batch.command("GET", key), None)
        if raw is None:
            return None
        try:
            return CachedAnswer.model_validate_json(raw)
        except ValueError:
            return None

    async def put(self, key: str, answer: CachedAnswer, ttl_s: int) -> None:
        """Store ``answer`` for ``ttl_s`` seconds (best effort)."""
        await self.guarded("put", lambda: self._batch.command("SET", key, answer.model_dump_json(), "EX", ttl_s), None)

    def count_hit(self, tenant: str, kind: str | None, saved_usd: float) -> None:
        """Count a lookup of ``tenant`` (``kind``: "exact", "semantic", "coalesced" or None for a miss).

        Counted in memory and added to the tenant's Redis hash by :meth:`flush_counts` (the worker flushes every
        second), so the hot path pays no round trip for statistics; a crash loses at most the last second's counts.
        """
        counts = self._counts.setdefault(tenant, {})
        counts["lookups"] = counts.get("lookups", 0.0) + 1
        if kind is not None:
            counts[f"hits_{kind}"] = counts.get(f"hits_{kind}", 0.0) + 1
            counts["saved_usd"] = counts.get("saved_usd", 0.0) + saved_usd

    async def flush_counts(self) -> None:
        """Add the counts gathered since the last flush to Redis (kept for the next flush if Redis is down)."""
        if not self._counts:
            return
        pending, self._counts = self._counts, {}

        async def write() -> bool:
            pipe = self.redis.pipeline(transaction=False)
            for tenant, counts in pending.items():
                for name, value in counts.items():
                    if name == "saved_usd":
                        pipe.hincrbyfloat(f"{STATS_PREFIX}{tenant}", name, value)
                    else:
                        pipe.hincrby(f"{STATS_PREFIX}{tenant}", name, int(value))
            await pipe.execute()
            return True

        if not await self.guarded("stats", write, False):
            for tenant, counts in pending.items():
                mine = self._counts.setdefault(tenant, {})
                for name, value in counts.items():
                    mine[name] = mine.get(name, 0.0) + value

    async def guarded(self, op: str, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        """Run a Redis call; on failure (or while Redis is being left alone) return ``fallback``."""
        if not self.available:
            return fallback
        try:
            return await call()
        except (RedisError, OSError) as exc:
            self._failed(op, exc)
            return fallback

    def _failed(self, op: str, exc: BaseException) -> None:
        now = time.monotonic()
        self._down_until = now + self._retry_after_s
        if self._on_error is not None:
            self._on_error(op)
        if now - self._last_warning >= self._warn_every_s:
            self._last_warning = now
            log.warning("response cache unavailable, bypassing it: %s", exc)
