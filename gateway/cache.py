"""The exact-match response cache in Redis.

A cache that is down must never fail a request: every operation degrades to a miss (or a no-op) and logs a
warning at most once per ``warn_every_s``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import orjson
import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class CachedAnswer(BaseModel):
    """What the cache keeps for one prompt: enough to answer again without a provider."""

    model_config = ConfigDict(frozen=True)

    output: str
    parsed: Any = None
    model: str
    provider: str
    input_tokens: int
    output_tokens: int


def exact_key(material: dict[str, Any]) -> str:
    """A stable key over everything that changes the answer (model, messages, system, parameters, schema)."""
    digest = hashlib.sha256(orjson.dumps(material, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"sg:cache:v1:{digest}"


class ResponseCache:
    """Exact-match cache with per-entry TTL over a shared async Redis client."""

    def __init__(self, client: aioredis.Redis, *, warn_every_s: float = 30.0) -> None:
        self._redis = client
        self._warn_every_s = warn_every_s
        self._last_warning = 0.0

    async def get(self, key: str) -> CachedAnswer | None:
        """The cached answer, or ``None`` on a miss or when Redis is unreachable."""
        try:
            raw = await self._redis.get(key)
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return None
        if raw is None:
            return None
        try:
            return CachedAnswer.model_validate_json(raw)
        except ValueError:
            return None

    async def put(self, key: str, answer: CachedAnswer, ttl_s: int) -> None:
        """Store ``answer`` for ``ttl_s`` seconds (best effort)."""
        try:
            await self._redis.set(key, answer.model_dump_json(), ex=ttl_s)
        except (RedisError, OSError) as exc:
            self._warn(exc)

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_warning >= self._warn_every_s:
            self._last_warning = now
            log.warning("response cache unavailable, bypassing it: %s", exc)
